import KneeForceCompute
import XCTest

/// The fused recurrent steps (`lstmForwardStep`, `lstmBackwardStep`) against the unfused
/// sequence they stand for: a strided-batched GEMM plus the cell kernel, run on the CPU
/// backend op by op. The CPU backend overrides both with a per-direction fusion, OpenCL uses the
/// protocol's default, and both must give the same whole-sequence result.
final class LSTMStepTests: XCTestCase {
  /// Runs a whole forward and backward recurrence and returns every buffer it wrote.
  func recurrence(
    _ be: ComputeBackend, shape: LSTMShape, fused: Bool, walk: Bool = false
  ) throws -> [String: [Float]] {
    let (B, T, H, G, groups) = (shape.batch, shape.steps, shape.hidden, shape.gates, shape.groups)
    let whh = try be.makeBuffer(randoms(groups * G * H, seed: 1, in: -0.5...0.5))
    let gx = try be.makeBuffer(randoms(groups * B * T * G, seed: 2))
    let bias = try be.makeBuffer(randoms(groups * G, seed: 3))
    let dy = try be.makeBuffer(randoms(shape.models * B * T * 2 * H, seed: 4))
    let gh = try be.makeBuffer(count: groups * B * G)
    let cell = try be.makeBuffer(count: groups * B * T * H)
    let hprev = try be.makeBuffer(count: groups * B * T * H)
    let out = try be.makeBuffer(count: shape.models * B * T * 2 * H)
    let dGates = try be.makeBuffer(count: groups * B * T * G)
    let dh = try be.makeBuffer(count: groups * B * H)
    let dc = try be.makeBuffer(count: groups * B * H)
    let (w, x, b) = (BufferSlice(whh), BufferSlice(gx), BufferSlice(bias))
    if walk {
      try be.lstmForwardWalk(
        shape: shape, weightHH: w, gx: x, gh: BufferSlice(gh), biasIH: b, biasHH: b,
        cell: BufferSlice(cell), hprev: BufferSlice(hprev), output: BufferSlice(out))
      try be.lstmBackwardWalk(
        shape: shape, weightHH: w, gates: x, cell: BufferSlice(cell), dOutput: BufferSlice(dy),
        dhRecurrent: BufferSlice(dh), dCell: BufferSlice(dc), dGates: BufferSlice(dGates))
      return [
        "output": try be.download(out), "cell": try be.download(cell),
        "hprev": try be.download(hprev), "gates": try be.download(gx),
        "dGates": try be.download(dGates), "dCell": try be.download(dc),
      ]
    }
    for s in 0..<T {
      if fused {
        try be.lstmForwardStep(
          shape: shape, step: s, weightHH: w, gx: x, gh: BufferSlice(gh), biasIH: b, biasHH: b,
          cell: BufferSlice(cell), hprev: BufferSlice(hprev), output: BufferSlice(out))
      } else {
        if s == 0 {
          try be.fill(BufferSlice(gh), count: groups * B * G, value: 0)
        } else {
          try be.gemm(
            Gemm(
              transB: true, m: B, n: G, k: H, a: BufferSlice(hprev, offset: s * H), lda: T * H,
              strideA: B * T * H, b: w, ldb: H, strideB: G * H, c: BufferSlice(gh), ldc: G,
              strideC: B * G, batch: groups))
        }
        try be.lstmGatesForward(
          shape: shape, step: s, gx: x, gh: BufferSlice(gh), biasIH: b, biasHH: b,
          cell: BufferSlice(cell), hprev: BufferSlice(hprev), output: BufferSlice(out))
      }
    }
    for s in stride(from: T - 1, through: 0, by: -1) {
      if fused {
        try be.lstmBackwardStep(
          shape: shape, step: s, weightHH: w, gates: x, cell: BufferSlice(cell),
          dOutput: BufferSlice(dy), dhRecurrent: BufferSlice(dh), dCell: BufferSlice(dc),
          dGates: BufferSlice(dGates))
      } else {
        try be.lstmGatesBackward(
          shape: shape, step: s, gates: x, cell: BufferSlice(cell), dOutput: BufferSlice(dy),
          dhRecurrent: BufferSlice(dh), dCell: BufferSlice(dc), dGates: BufferSlice(dGates))
        if s > 0 {
          try be.gemm(
            Gemm(
              m: B, n: H, k: G, a: BufferSlice(dGates, offset: s * G), lda: T * G,
              strideA: B * T * G, b: w, ldb: H, strideB: G * H, c: BufferSlice(dh), ldc: H,
              strideC: B * H, batch: groups))
        }
      }
    }
    return [
      "output": try be.download(out), "cell": try be.download(cell),
      "hprev": try be.download(hprev), "gates": try be.download(gx),
      "dGates": try be.download(dGates), "dCell": try be.download(dc),
    ]
  }

  /// The whole-walk calls (`lstmForwardWalk`, `lstmBackwardWalk`) give what the step loop
  /// gives, on every backend.
  func testWalksMatchSteps() throws {
    for shape in [
      LSTMShape(models: 1, batch: 3, steps: 5, hidden: 5),
      LSTMShape(models: 3, batch: 4, steps: 6, hidden: 17),
      LSTMShape(models: 1, batch: 2, steps: 1, hidden: 4),
    ] {
      try forEachBackend { be in
        let steps = try recurrence(be, shape: shape, fused: true)
        let walks = try recurrence(be, shape: shape, fused: true, walk: true)
        for (name, expected) in steps {
          assertClose(walks[name]!, expected, tolerance: 1e-6, "\(name) on \(be.tag), \(shape)")
        }
      }
    }
  }

  func testFusedStepsMatchGemmPlusCell() throws {
    // Large enough that the CPU backend splits the work across threads, odd elsewhere.
    for shape in [
      LSTMShape(models: 1, batch: 3, steps: 5, hidden: 5),
      LSTMShape(models: 2, batch: 9, steps: 7, hidden: 129),
    ] {
      let reference = try recurrence(CPUBackend(), shape: shape, fused: false)
      try forEachBackend { be in
        let fused = try recurrence(be, shape: shape, fused: true)
        for (name, expected) in reference {
          assertClose(fused[name]!, expected, "\(name) on \(be.tag), \(shape)")
        }
      }
    }
  }

  /// Input projection and forward walk in one call (`lstmForwardProjectedWalk`): the CPU
  /// backend's fused walk (one product of [x_s h_{s-1}] per step) gives what the GEMM over all
  /// steps and then the walk give, and so does every backend's default; odd widths and
  /// inputs, several fold models, one step.
  func testProjectedWalkMatchesGemmThenWalk() throws {
    for (shape, inputs) in [
      (LSTMShape(models: 1, batch: 3, steps: 5, hidden: 5), 7),
      (LSTMShape(models: 3, batch: 8, steps: 6, hidden: 17), 40),
      (LSTMShape(models: 1, batch: 13, steps: 4, hidden: 32), 64),
      (LSTMShape(models: 1, batch: 2, steps: 1, hidden: 4), 3),
    ] {
      func run(_ be: ComputeBackend, projected: Bool, save: Bool = true) throws -> [String: [Float]]
      {
        let (B, T, H, G, groups) = (
          shape.batch, shape.steps, shape.hidden, shape.gates, shape.groups
        )
        let xs = BufferSlice(try be.makeBuffer(randoms(groups * B * T * inputs, seed: 11)))
        let wih = BufferSlice(
          try be.makeBuffer(randoms(groups * G * inputs, seed: 12, in: -0.5...0.5)))
        let whh = BufferSlice(try be.makeBuffer(randoms(groups * G * H, seed: 13, in: -0.5...0.5)))
        let bi = BufferSlice(try be.makeBuffer(randoms(groups * G, seed: 14)))
        let bh = BufferSlice(try be.makeBuffer(randoms(groups * G, seed: 15)))
        let gx = try be.makeBuffer(count: groups * B * T * G)
        let gh = BufferSlice(try be.makeBuffer(count: groups * B * G))
        let cell = try be.makeBuffer(count: groups * B * T * H)
        let hprev = try be.makeBuffer(count: groups * B * T * H)
        let out = try be.makeBuffer(count: shape.models * B * T * 2 * H)
        if projected {
          try be.lstmForwardProjectedWalk(
            shape: shape, inputs: inputs, xs: xs, weightIH: wih, weightHH: whh,
            gx: BufferSlice(gx), gh: gh, biasIH: bi, biasHH: bh, cell: BufferSlice(cell),
            hprev: BufferSlice(hprev), output: BufferSlice(out), save: save)
        } else {
          try be.gemm(
            Gemm(
              transB: true, m: B * T, n: G, k: inputs, a: xs, lda: inputs,
              strideA: B * T * inputs, b: wih, ldb: inputs, strideB: G * inputs,
              c: BufferSlice(gx), ldc: G, strideC: B * T * G, batch: groups))
          try be.lstmForwardWalk(
            shape: shape, weightHH: whh, gx: BufferSlice(gx), gh: gh, biasIH: bi, biasHH: bh,
            cell: BufferSlice(cell), hprev: BufferSlice(hprev), output: BufferSlice(out))
        }
        return [
          "output": try be.download(out), "cell": try be.download(cell),
          "hprev": try be.download(hprev), "gates": try be.download(gx),
        ]
      }
      let reference = try run(CPUBackend(), projected: false)
      let unfused = CPUBackend()
      unfused.fusedProjection = false
      let backends: [(String, ComputeBackend)] = [
        ("cpu fused", CPUBackend()), ("cpu unfused", unfused),
      ]
      var all = backends
      try forEachBackend { if $0.kind == .opencl { all.append(("opencl", $0)) } }
      for (name, be) in all {
        let got = try run(be, projected: true)
        for (tensor, expected) in reference {
          if tensor != "hprev" || shape.steps > 1 {
            XCTAssertTrue(expected.contains { $0 != 0 }, "\(tensor) must be written")
          }
          assertClose(got[tensor]!, expected, "\(tensor) on \(name), \(shape), \(inputs) inputs")
        }
      }
      // Without saving, the output is the same bits (the same sums, kept in scratch).
      for (name, be) in all {
        assertSame(
          try run(be, projected: true, save: false)["output"]!,
          try run(be, projected: true)["output"]!, "unsaved output on \(name), \(shape)")
      }
      // At s = 0 (h = 0) both orders give the same bits; from s = 1 on they differ.
      if CPUBackend().fusedProjection && CPUBackend().cellKernel == .avx2 && shape.steps > 1 {
        let fused = try run(CPUBackend(), projected: true)
        XCTAssertNotEqual(
          fused["gates"], reference["gates"],
          "the fused walk sums in another order: equal bits would mean it did not run")
      }
    }
  }

  /// The backward walk with the bias gradient summed on the way (the CPU backend adds each row
  /// as it is written) against the walk and then `sumRows`, on every backend; the same dGates.
  func testBackwardWalkSumsTheBiasGradient() throws {
    for shape in [
      LSTMShape(models: 1, batch: 3, steps: 5, hidden: 5),
      LSTMShape(models: 2, batch: 8, steps: 6, hidden: 16),
    ] {
      let (B, T, H, G, groups) = (shape.batch, shape.steps, shape.hidden, shape.gates, shape.groups)
      try forEachBackend { be in
        func run(fused: Bool) throws -> (dGates: [Float], dBias: [Float]) {
          var rng = SplitMix64(seed: 40)
          let gates = (0..<(groups * B * T * G)).map { _ in rng.nextFloat(in: 0.05...0.95) }
          let act = BufferSlice(try be.makeBuffer(gates))
          let cell = BufferSlice(try be.makeBuffer(randoms(groups * B * T * H, seed: 41)))
          let dy = BufferSlice(try be.makeBuffer(randoms(shape.models * B * T * 2 * H, seed: 42)))
          let w = BufferSlice(try be.makeBuffer(randoms(groups * G * H, seed: 43, in: -0.5...0.5)))
          let dh = BufferSlice(try be.makeBuffer(count: groups * B * H))
          let dc = BufferSlice(try be.makeBuffer(count: groups * B * H))
          let dGates = try be.makeBuffer(count: groups * B * T * G)
          let dBias = try be.makeBuffer(randoms(groups * G, seed: 44))
          if fused {
            try be.lstmBackwardWalkWithBiasGradient(
              shape: shape, weightHH: w, gates: act, cell: cell, dOutput: dy, dhRecurrent: dh,
              dCell: dc, dGates: BufferSlice(dGates), dBias: BufferSlice(dBias))
          } else {
            try be.lstmBackwardWalk(
              shape: shape, weightHH: w, gates: act, cell: cell, dOutput: dy, dhRecurrent: dh,
              dCell: dc, dGates: BufferSlice(dGates))
            try be.sumRows(
              BufferSlice(dGates), into: BufferSlice(dBias), rows: B * T, cols: G,
              models: groups, accumulate: false)
          }
          return (try be.download(dGates), try be.download(dBias))
        }
        let fused = try run(fused: true)
        let plain = try run(fused: false)
        assertSame(fused.dGates, plain.dGates, "dGates on \(be.tag), \(shape)")
        XCTAssertTrue(plain.dBias.contains { $0 != 0 }, "the bias gradient must be written")
        assertClose(fused.dBias, plain.dBias, "dBias on \(be.tag), \(shape)")
      }
    }
  }
}
