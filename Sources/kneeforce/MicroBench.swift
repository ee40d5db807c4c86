import Foundation
import KneeForceCompute

/// Times the individual operations a training step is made of, at the shapes the reference
/// configuration gives them, so kernel and GEMM variants can be compared side by side.
struct MicroBench {
  let backend: ComputeBackend
  let batch: Int
  let steps: Int
  let inputs: Int
  let hidden: Int
  let channels: Int
  let kernel: Int

  struct Row {
    let name: String
    let microseconds: Double
    let rate: String
  }

  /// Median wall time of one call, after one untimed call (compilation, first touch).
  func measure(_ repeats: Int = 20, _ body: () throws -> Void) throws -> Double {
    try body()
    try backend.synchronize()
    var samples: [Double] = []
    for _ in 0..<5 {
      let start = Date()
      for _ in 0..<repeats { try body() }
      try backend.synchronize()
      samples.append(Date().timeIntervalSince(start) / Double(repeats))
    }
    return median(samples) * 1e6
  }

  func gemmRow(_ name: String, _ g: Gemm) throws -> Row {
    let us = try measure { try backend.gemm(g) }
    let flops = 2 * Double(g.m) * Double(g.n) * Double(g.k) * Double(g.batch)
    return Row(name: name, microseconds: us, rate: String(format: "%.1f GFLOP/s", flops / us / 1e3))
  }

  /// The same GEMM on the CPU backend's packed-weight path (`packedGemm`) and on OpenBLAS, taking turns
  /// (4 calls each per round, 15 rounds), median per path.
  func packedGemmRows(_ name: String, _ g: Gemm) throws -> [Row] {
    guard let cpu = backend as? CPUBackend else { return [try gemmRow(name, g)] }
    let saved = (cpu.usePackedGemm, cpu.packedGemmMaxK)
    defer { (cpu.usePackedGemm, cpu.packedGemmMaxK) = saved }
    cpu.packedGemmMaxK = max(cpu.packedGemmMaxK, g.k)
    var samples: [Bool: [Double]] = [:]
    for round in 0..<16 {
      for packed in [false, true] {
        cpu.usePackedGemm = packed
        let start = Date()
        for _ in 0..<4 { try cpu.gemm(g) }
        if round > 0 { samples[packed, default: []].append(Date().timeIntervalSince(start) / 4) }
      }
    }
    let flops = 2 * Double(g.m) * Double(g.n) * Double(g.k) * Double(g.batch)
    return [false, true].map { packed in
      let us = median(samples[packed]!) * 1e6
      return Row(
        name: "\(name), \(packed ? "packed" : "blas")", microseconds: us,
        rate: String(format: "%.1f GFLOP/s", flops / us / 1e3))
    }
  }

  func bytesRow(_ name: String, bytes: Double, _ body: () throws -> Void) throws -> Row {
    let us = try measure(20, body)
    return Row(name: name, microseconds: us, rate: String(format: "%.1f GB/s", bytes / us / 1e3))
  }

  func buffer(_ count: Int, range: ClosedRange<Float> = -1...1) throws -> BufferSlice {
    var rng = SplitMix64(seed: UInt64(count))
    return BufferSlice(try backend.makeBuffer((0..<count).map { _ in rng.nextFloat(in: range) }))
  }

  func run() throws -> [Row] {
    let (B, T, I, H) = (batch, steps, inputs, hidden)
    let G = 4 * H
    let shape = LSTMShape(batch: B, steps: T, hidden: H)
    let xs = try buffer(2 * B * T * I)
    let wih = try buffer(2 * G * I)
    let whh = try buffer(2 * G * H)
    let gates = try buffer(2 * B * T * G)
    let gh = try buffer(2 * B * G)
    let bias = try buffer(2 * G)
    let cell = try buffer(2 * B * T * H)
    let hprev = try buffer(2 * B * T * H)
    let out = try buffer(B * T * 2 * H)
    let dgates = try buffer(2 * B * T * G)
    let dh = try buffer(2 * B * H)
    let dc = try buffer(2 * B * H)
    let dw = try buffer(2 * G * max(I, H))
    var rows: [Row] = []
    rows += try packedGemmRows(
      "LSTM input projection (2 dirs)",
      Gemm(
        transB: true, m: B * T, n: G, k: I, a: xs, lda: I, strideA: B * T * I, b: wih, ldb: I,
        strideB: G * I, c: gates, ldc: G, strideC: B * T * G, batch: 2))
    rows.append(
      try gemmRow(
        "LSTM recurrent step (2 dirs, one call)",
        Gemm(
          transB: true, m: B, n: G, k: H, a: hprev, lda: T * H, strideA: B * T * H, b: whh,
          ldb: H, strideB: G * H, c: gh, ldc: G, strideC: B * G, batch: 2)))
    rows.append(
      try gemmRow(
        "LSTM backward step dh = dG W_hh (2 dirs)",
        Gemm(
          m: B, n: H, k: G, a: dgates, lda: T * G, strideA: B * T * G, b: whh, ldb: H,
          strideB: G * H, c: dh, ldc: H, strideC: B * H, batch: 2)))
    rows.append(
      try gemmRow(
        "LSTM dW_hh = dG^T h (all steps, 2 dirs)",
        Gemm(
          transA: true, m: G, n: H, k: B * T, a: dgates, lda: G, strideA: B * T * G, b: hprev,
          ldb: H, strideB: B * T * H, c: dw, ldc: H, strideC: G * H, batch: 2)))
    // Whole recurrent walks (T fused steps: product + cell, both directions, forward from
    // s = 0 and backward from s = T-1) with each variant of the CPU backend: OpenBLAS per
    // step (repacks W_hh each call), W_hh packed once per walk, and the packed kernel's
    // scalar loop. The variants take turns, one walk each per round over 15 rounds, so
    // they share the machine's noise; median per variant. GFLOP/s counts the products only.
    if let cpu = backend as? CPUBackend {
      let saved = cpu.recurrentKernel
      defer { cpu.recurrentKernel = saved }
      let walkFLOPs = 2 * Double(2 * B * G * H) * Double(T - 1)
      let variants = CPUBackend.RecurrentKernel.allCases
      var samples: [String: [Double]] = [:]
      for round in 0..<16 {
        for kernel in variants {
          let name = kernel.rawValue
          cpu.recurrentKernel = kernel
          var start = Date()
          for s in 0..<T {
            try cpu.lstmForwardStep(
              shape: shape, step: s, weightHH: whh, gx: gates, gh: gh, biasIH: bias,
              biasHH: bias, cell: cell, hprev: hprev, output: out)
          }
          let forward = Date().timeIntervalSince(start)
          start = Date()
          for s in stride(from: T - 1, through: 0, by: -1) {
            try cpu.lstmBackwardStep(
              shape: shape, step: s, weightHH: whh, gates: gates, cell: cell, dOutput: out,
              dhRecurrent: dh, dCell: dc, dGates: dgates)
          }
          let backward = Date().timeIntervalSince(start)
          if round > 0 {  // round 0 warms up
            samples["forward \(name)", default: []].append(forward)
            samples["backward \(name)", default: []].append(backward)
          }
        }
      }
      for direction in ["forward", "backward"] {
        for name in variants.map(\.rawValue) {
          let us = median(samples["\(direction) \(name)"]!) * 1e6
          rows.append(
            Row(
              name: "LSTM \(direction) walk, \(name) (\(T) steps)", microseconds: us,
              rate: String(format: "%.1f GFLOP/s", walkFLOPs / us / 1e3)))
        }
      }
    }
    let gateBytes = Double(2 * B * H) * 4 * 14
    let cellRows = { (label: String) throws -> [Row] in
      [
        try self.bytesRow("lstm_gates_forward\(label) (one step)", bytes: gateBytes) {
          try self.backend.lstmGatesForward(
            shape: shape, step: 1, gx: gates, gh: gh, biasIH: bias, biasHH: bias, cell: cell,
            hprev: hprev, output: out)
        },
        try self.bytesRow("lstm_gates_backward\(label) (one step)", bytes: gateBytes) {
          try self.backend.lstmGatesBackward(
            shape: shape, step: 1, gates: gates, cell: cell, dOutput: out, dhRecurrent: dh,
            dCell: dc, dGates: dgates)
        },
      ]
    }
    if let cpu = backend as? CPUBackend {
      rows += try cellAndWalkRows(
        cpu, cellRows: cellRows, shape: shape, inputs: I, xs: xs, wih: wih, whh: whh,
        gates: gates, gh: gh, bias: bias, cell: cell, hprev: hprev, out: out)
    } else {
      rows += try cellRows("")
    }
    let C = channels
    let K = kernel
    let conv = ConvShape(batch: B, steps: T, channels: C, kernel: K, dilation: 4)
    let x = try buffer(B * T * C)
    let col = try buffer(B * T * C * K)
    let w = try buffer(C * C * K)
    let y = try buffer(B * T * C)
    rows.append(
      try bytesRow("causal_conv_im2col (d=4)", bytes: Double(B * T * C * (K + 1)) * 4) {
        try backend.causalIm2col(x, into: col, shape: conv)
      })
    rows.append(
      try bytesRow("causal_conv_col2im (d=4)", bytes: Double(B * T * C * (K + 1)) * 4) {
        try backend.causalCol2im(col, into: x, shape: conv)
      })
    rows += try packedGemmRows(
      "TCN conv forward col W^T",
      Gemm(
        transB: true, m: B * T, n: C, k: C * K, a: col, lda: C * K, b: w, ldb: C * K, c: y,
        ldc: C))
    // Layer 1's input projection (K = 2H) and the first MLP layer (K = 2H, N = 128).
    let x1 = try buffer(2 * B * T * 2 * H)
    let w1 = try buffer(2 * G * 2 * H)
    rows += try packedGemmRows(
      "LSTM layer-1 input projection (2 dirs)",
      Gemm(
        transB: true, m: B * T, n: G, k: 2 * H, a: x1, lda: 2 * H, strideA: B * T * 2 * H,
        b: w1, ldb: 2 * H, strideB: G * 2 * H, c: gates, ldc: G, strideC: B * T * G, batch: 2))
    rows += try packedGemmRows(
      "MLP layer 0 (2H -> 128)",
      Gemm(
        transB: true, m: B * T, n: 128, k: 2 * H, a: x1, lda: 2 * H, b: w1, ldb: 2 * H,
        c: gates, ldc: 128))
    rows.append(
      try gemmRow(
        "TCN conv dW = dy^T col",
        Gemm(
          transA: true, m: C, n: C * K, k: B * T, a: y, lda: C, b: col, ldb: C * K, c: w,
          ldc: C * K)))
    rows += try packedGemmRows(
      "TCN conv dcol = dy W",
      Gemm(m: B * T, n: C * K, k: C, a: y, lda: C, b: w, ldb: C * K, c: col, ldc: C * K))
    let n = B * T * C
    rows.append(
      try bytesRow("relu_dropout_forward (p=0.1)", bytes: Double(n) * 8) {
        try backend.reluDropoutForward(y, count: n, p: 0.1, seed: 3)
      })
    rows.append(
      try bytesRow("relu_dropout_backward", bytes: Double(n) * 12) {
        try backend.reluDropoutBackward(x, output: y, count: n, p: 0.1)
      })
    let params = 600_000
    let p = try buffer(params)
    let g = try buffer(params)
    let m = try buffer(params)
    let v = try buffer(params, range: 0...1)  // second moments are never negative
    let norm = try buffer(1)
    rows.append(
      try bytesRow("sum_squares (600k params)", bytes: Double(params) * 4) {
        try backend.sumSquares(g, count: params, into: norm)
      })
    rows.append(
      try bytesRow("adam_step (600k params)", bytes: Double(params) * 28) {
        try backend.adam(
          parameters: p, gradients: g, m: m, v: v, count: params,
          step: AdamStep(lr: 1e-3, step: 1), maxNorm: 1, normSquared: norm)
      })
    rows += try gatherRows()
    return rows
  }

  /// The LSTM cell's variants on the CPU (the Swift rows, the C kernel with AVX2 and with
  /// AVX-512 where the CPU has it), one step of both directions each through `cellRows`, and
  /// the forward walk with the input projection inside it against the GEMM and then the walk,
  /// saving and not.
  func cellAndWalkRows(
    _ cpu: CPUBackend, cellRows: (String) throws -> [Row], shape: LSTMShape, inputs: Int,
    xs: BufferSlice, wih: BufferSlice, whh: BufferSlice, gates: BufferSlice, gh: BufferSlice,
    bias: BufferSlice, cell: BufferSlice, hprev: BufferSlice, out: BufferSlice
  ) throws -> [Row] {
    let saved = (cpu.cellKernel, cpu.fusedProjection)
    defer {
      (cpu.cellKernel, cpu.fusedProjection) = saved
      CPUBackend.useAVX512Cell(nil)
    }
    var rows: [Row] = []
    var variants: [(String, CPUBackend.CellKernel, Bool)] = [("swift", .swift, false)]
    if cpu.cellKernel == .avx2 {
      variants.append(("C, AVX2", .avx2, false))
      if CPUBackend.useAVX512Cell(true) { variants.append(("C, AVX-512", .avx2, true)) }
    }
    for (name, kernel, avx512) in variants {
      cpu.cellKernel = kernel
      CPUBackend.useAVX512Cell(avx512)
      rows += try cellRows(", \(name)")
    }
    (cpu.cellKernel, cpu.fusedProjection) = saved
    CPUBackend.useAVX512Cell(nil)
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    let flops = 2 * Double(2 * B * G) * (Double(T * inputs) + Double((T - 1) * H))
    for (name, fused, save) in [
      ("fused, saving", true, true), ("fused, not saving", true, false),
      ("GEMM then walk", false, true),
    ] {
      cpu.fusedProjection = fused
      let us = try measure(5) {
        try cpu.lstmForwardProjectedWalk(
          shape: shape, inputs: inputs, xs: xs, weightIH: wih, weightHH: whh, gx: gates, gh: gh,
          biasIH: bias, biasHH: bias, cell: cell, hprev: hprev, output: out, save: save)
      }
      rows.append(
        Row(
          name: "LSTM forward walk with input projection, \(name)", microseconds: us,
          rate: String(format: "%.1f GFLOP/s", flops / us / 1e3)))
    }
    return rows
  }

  /// One training step's gather of a batch for one lane from a store of 4 batches, plain,
  /// with augmentation (noise, offset, gain), and with time warp and residual targets too:
  /// what augmentation adds to each step.
  func gatherRows() throws -> [Row] {
    let (B, T, I, O, N) = (batch, steps, inputs, 3, 4 * batch)
    let shape = GatherShape(
      models: 1, batch: B, steps: T, storeChannels: I, selected: I, outputs: O)
    let store = try buffer(N * T * I)
    let targets = try buffer(N * T * O)
    let bases = try buffer(N * T * O)
    let words = try backend.makeBuffer(count: max(B, I) + 2)
    try backend.uploadWords(
      (0..<B).map { UInt32($0 * 3 % N) }, to: BufferSlice(words, offset: 2))
    let indices = BufferSlice(words, offset: 2)
    let channels = try backend.makeBuffer(count: I)
    try backend.uploadWords((0..<I).map { UInt32($0) }, to: BufferSlice(channels))
    try backend.uploadWords([12345, 0], to: BufferSlice(words))
    let keys = BufferSlice(words)
    let mean = try buffer(I)
    let scale = try buffer(I, range: 0.5...2)
    let x = try buffer(B * T * I)
    let y = try buffer(B * T * O)
    let mask = try buffer(B)
    let bytes = Double(B * T * (I + O)) * 8
    let cases: [(String, GatherResidual?, Augmentation?)] = [
      ("gather_sequences, plain", nil, nil),
      (
        "gather_sequences, noise+offset+gain", nil, Augmentation(noise: 0.1, offset: 0.1, gain: 0.1)
      ),
      (
        "gather_sequences, all + warp + residual",
        GatherResidual(bases: bases, laneBases: keys.advanced(by: 1), tables: 1, storeCount: N),
        Augmentation(noise: 0.1, offset: 0.1, gain: 0.1, timeWarp: 0.3)
      ),
    ]
    return try cases.map { name, residual, augmentation in
      try bytesRow(name, bytes: bytes) {
        try backend.gatherSequences(
          shape, inputs: store, targets: targets,
          indices: indices, channels: BufferSlice(channels), mean: mean, scale: scale,
          residual: residual, augmentation: augmentation.map { GatherAugmentation($0, keys: keys) },
          x: x, y: y, mask: mask)
      }
    }
  }
}
