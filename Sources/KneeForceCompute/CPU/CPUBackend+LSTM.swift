import CKneeForce
import Foundation

// CPU twins of Kernels/lstm_gates_forward.cl, Kernels/lstm_gates_backward.cl and
// Kernels/bidirectional.cl. Same layouts, same arithmetic; see those files for the why.

extension CPUBackend {
  public func bidirectionalInput(
    _ x: BufferSlice, into xs: BufferSlice, models: Int, batch: Int, steps: Int, width: Int
  ) throws {
    let sequence = steps * width
    let px = try pointer(x, models * batch * sequence, "bidirectionalInput x")
    let ps = try pointer(xs, models * 2 * batch * sequence, "bidirectionalInput xs")
    for m in 0..<models {
      for b in 0..<batch {
        let source = px + (m * batch + b) * sequence
        let forward = ps + ((m * 2) * batch + b) * sequence
        let reverse = ps + ((m * 2 + 1) * batch + b) * sequence
        forward.update(from: source, count: sequence)
        for s in 0..<steps {
          (reverse + s * width).update(from: source + (steps - 1 - s) * width, count: width)
        }
      }
    }
  }

  public func bidirectionalGradient(
    _ dxs: BufferSlice, into dx: BufferSlice, models: Int, batch: Int, steps: Int, width: Int
  ) throws {
    let sequence = steps * width
    let ps = try pointer(dxs, models * 2 * batch * sequence, "bidirectionalGradient dxs")
    let px = try pointer(dx, models * batch * sequence, "bidirectionalGradient dx")
    for m in 0..<models {
      for b in 0..<batch {
        let target = px + (m * batch + b) * sequence
        let forward = ps + ((m * 2) * batch + b) * sequence
        let reverse = ps + ((m * 2 + 1) * batch + b) * sequence
        for t in 0..<steps {
          let row = target + t * width
          let f = forward + t * width
          let r = reverse + (steps - 1 - t) * width
          for i in 0..<width { row[i] = f[i] + r[i] }
        }
      }
    }
  }

  public func lstmGatesForward(
    shape: LSTMShape, step s: Int, gx: BufferSlice, gh: BufferSlice, biasIH: BufferSlice,
    biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice, output: BufferSlice
  ) throws {
    let row = try gatesForwardRow(
      shape: shape, step: s, gx: gx, gh: gh, biasIH: biasIH, biasHH: biasHH, cell: cell,
      hprev: hprev, output: output)
    // Rows (g, b) are independent; with two directions each thread takes one direction.
    parallelRows(shape.groups * shape.batch, work: shape.groups * shape.batch * shape.hidden) {
      row($0)
    }
  }

  /// The fused cell for one (group, sequence) row, bounds already checked.
  func gatesForwardRow(
    shape: LSTMShape, step s: Int, gx: BufferSlice, gh: BufferSlice, biasIH: BufferSlice,
    biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice, output: BufferSlice
  ) throws -> (Int) -> Void {
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    let groups = shape.groups
    let pgx = try pointer(gx, groups * B * T * G, "lstmGatesForward gx")
    let pgh = try pointer(gh, groups * B * G, "lstmGatesForward gh")
    let pbi = try pointer(biasIH, groups * G, "lstmGatesForward biasIH")
    let pbh = try pointer(biasHH, groups * G, "lstmGatesForward biasHH")
    let pc = try pointer(cell, groups * B * T * H, "lstmGatesForward cell")
    let ph = try pointer(hprev, groups * B * T * H, "lstmGatesForward hprev")
    let py = try pointer(output, shape.models * B * T * 2 * H, "lstmGatesForward output")
    let vectorCell = cellKernel == .avx2
    return { row in
      let (g, b) = (row / B, row % B)
      let (m, d) = (g / 2, g % 2)
      let t = d == 0 ? s : T - 1 - s
      let gates = pgx + ((g * B + b) * T + s) * G
      let rec = pgh + (g * B + b) * G
      let bi = pbi + g * G
      let bh = pbh + g * G
      let c = pc + ((g * B + b) * T + s) * H
      let h = s + 1 < T ? ph + ((g * B + b) * T + s + 1) * H : nil
      let y = py + ((m * B + b) * T + t) * 2 * H + d * H
      if vectorCell {
        kf_lstm_cell_forward(Int32(H), gates, rec, bi, bh, s > 0 ? c - H : nil, c, h, y)
        return
      }
      // Pass 1, one gate at a time: short loops that keep everything in registers.
      for k in 0..<4 {
        let base = k * H
        for j in stride(from: 0, to: H, by: 8) {
          let n = min(8, H - j)
          let pre =
            gates.load8(base + j, n) + rec.load8(base + j, n) + bi.load8(base + j, n)
            + bh.load8(base + j, n)
          gates.store8(k == 2 ? vtanh(pre) : vsigmoid(pre), base + j, n)
        }
      }
      // Pass 2: the cell and hidden state from the activated gates.
      for j in stride(from: 0, to: H, by: 8) {
        let n = min(8, H - j)
        let i = gates.load8(j, n)
        let f = gates.load8(H + j, n)
        let gg = gates.load8(2 * H + j, n)
        let o = gates.load8(3 * H + j, n)
        let cPrev = s > 0 ? c.load8(j - H, n) : Float8()
        let cNew = f * cPrev + i * gg
        let hNew = o * vtanh(cNew)
        c.store8(cNew, j, n)
        if let h { h.store8(hNew, j, n) }
        y.store8(hNew, j, n)
      }
    }
  }

  public func lstmGatesBackward(
    shape: LSTMShape, step s: Int, gates: BufferSlice, cell: BufferSlice, dOutput: BufferSlice,
    dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice
  ) throws {
    let row = try gatesBackwardRow(
      shape: shape, step: s, gates: gates, cell: cell, dOutput: dOutput,
      dhRecurrent: dhRecurrent, dCell: dCell, dGates: dGates)
    parallelRows(shape.groups * shape.batch, work: shape.groups * shape.batch * shape.hidden) {
      row($0)
    }
  }

  /// The backward cell for one (group, sequence) row, bounds already checked. `dGates` may
  /// alias `gates` (the layer's in-place use): each 8-lane chunk reads its four gate values
  /// before writing the same positions, as the kernel's work-items do.
  func gatesBackwardRow(
    shape: LSTMShape, step s: Int, gates: BufferSlice, cell: BufferSlice, dOutput: BufferSlice,
    dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice
  ) throws -> (Int) -> Void {
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    let groups = shape.groups
    let pa = try pointer(gates, groups * B * T * G, "lstmGatesBackward gates")
    let pc = try pointer(cell, groups * B * T * H, "lstmGatesBackward cell")
    let pdy = try pointer(dOutput, shape.models * B * T * 2 * H, "lstmGatesBackward dOutput")
    let pdh = try pointer(dhRecurrent, groups * B * H, "lstmGatesBackward dhRecurrent")
    let pdc = try pointer(dCell, groups * B * H, "lstmGatesBackward dCell")
    let pdg = try pointer(dGates, groups * B * T * G, "lstmGatesBackward dGates")
    let vectorCell = cellKernel == .avx2
    return { row in
      let (g, b) = (row / B, row % B)
      let (m, d) = (g / 2, g % 2)
      let t = d == 0 ? s : T - 1 - s
      let act = pa + ((g * B + b) * T + s) * G
      let dact = pdg + ((g * B + b) * T + s) * G
      let c = pc + ((g * B + b) * T + s) * H
      let dy = pdy + ((m * B + b) * T + t) * 2 * H + d * H
      let dhr = pdh + (g * B + b) * H
      let dcs = pdc + (g * B + b) * H
      if vectorCell {
        kf_lstm_cell_backward(Int32(H), act, c, s > 0 ? c - H : nil, dy, dhr, dcs, dact)
        return
      }
      var j = 0
      while j < H {
        let n = min(8, H - j)
        let i = act.load8(j, n)
        let f = act.load8(H + j, n)
        let gg = act.load8(2 * H + j, n)
        let o = act.load8(3 * H + j, n)
        let cPrev = s > 0 ? c.load8(j - H, n) : Float8()
        let tc = vtanh(c.load8(j, n))
        let dh = dy.load8(j, n) + dhr.load8(j, n)
        let dc = dcs.load8(j, n) + dh * o * (1 - tc * tc)
        dcs.store8(dc * f, j, n)
        dact.store8(dc * gg * i * (1 - i), j, n)
        dact.store8(dc * cPrev * f * (1 - f), H + j, n)
        dact.store8(dc * i * (1 - gg * gg), 2 * H + j, n)
        dact.store8(dh * tc * o * (1 - o), 3 * H + j, n)
        j += 8
      }
    }
  }

  /// Host memory for packed operands (0: forward walks, 1: backward walks, 2: `packedGemm`,
  /// 3: W_ih of the fused forward walks, 4: their c and h when not saving), grown as needed.
  func packedScratch(_ key: Int, floats: Int) -> UnsafeMutablePointer<Float> {
    if let buffer = packedRecurrent[key], buffer.count >= floats { return buffer.pointer }
    let buffer = HostBuffer(count: floats)
    packedRecurrent[key] = buffer
    return buffer.pointer
  }

  /// `c[B][n] = a[B][k] op(W)` for one group: the packed kernel on the W packed at the walk's
  /// first step, or cblas_sgemm.
  @inline(__always)
  func recurrentProduct(
    rows: Int, n: Int, k: Int, a: UnsafeMutablePointer<Float>, lda: Int,
    w: UnsafeMutablePointer<Float>, transW: Bool, packed: UnsafeMutablePointer<Float>,
    c: UnsafeMutablePointer<Float>
  ) {
    switch recurrentKernel {
    case .blas:
      cblas_sgemm(
        CblasRowMajor, CblasNoTrans, transW ? CblasTrans : CblasNoTrans, Int32(rows), Int32(n),
        Int32(k), 1, a, Int32(lda), w, Int32(transW ? k : n), 0, c, Int32(n))
    case .packed, .packedScalar:
      kf_gemm_packed(
        Int32(rows), Int32(n), Int32(k), a, Int32(lda), packed, c, Int32(n), 0,
        recurrentKernel == .packedScalar ? 1 : 0)
    }
  }

  /// Each thread takes whole groups (directions, fold models): its GEMM and then its rows, so
  /// the step needs one hand-off instead of two and `gh` is read from the cache it was
  /// written to. W_hh is packed at s = 0 (which needs no product, h_{-1} = 0) and reused for
  /// the other T-1 steps: `weightHH` must not change during the walk.
  public func lstmForwardStep(
    shape: LSTMShape, step s: Int, weightHH: BufferSlice, gx: BufferSlice, gh: BufferSlice,
    biasIH: BufferSlice, biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice,
    output: BufferSlice
  ) throws {
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    let groups = shape.groups
    let row = try gatesForwardRow(
      shape: shape, step: s, gx: gx, gh: gh, biasIH: biasIH, biasHH: biasHH, cell: cell,
      hprev: hprev, output: output)
    let pw = try pointer(weightHH, groups * G * H, "lstmForwardStep weightHH")
    let ph = try pointer(hprev, groups * B * T * H, "lstmForwardStep hprev")
    let pgh = try pointer(gh, groups * B * G, "lstmForwardStep gh")
    if s > 0 { gemmFLOPs += 2 * Double(B * G * H * groups) }
    let perGroup = kf_packed_floats(Int32(H), Int32(G))
    let packed = packedScratch(0, floats: groups * perGroup)
    let parts = groups * B * H < 4096 ? 1 : min(threads, groups)
    parallel(parts) { part in
      for g in stride(from: part, to: groups, by: parts) {
        let wg = pw + g * G * H
        let pg = packed + g * perGroup
        if s == 0 {
          if recurrentKernel != .blas { kf_pack_b(wg, Int32(H), 1, Int32(H), Int32(G), pg) }
          (pgh + g * B * G).update(repeating: 0, count: B * G)
        } else {
          recurrentProduct(
            rows: B, n: G, k: H, a: ph + g * B * T * H + s * H, lda: T * H, w: wg,
            transW: true, packed: pg, c: pgh + g * B * G)
        }
        for b in 0..<B { row(g * B + b) }
      }
    }
  }

  /// The backward walk packs W_hh at s = T-1 and reuses it down to s = 1.
  public func lstmBackwardStep(
    shape: LSTMShape, step s: Int, weightHH: BufferSlice, gates: BufferSlice, cell: BufferSlice,
    dOutput: BufferSlice, dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice
  ) throws {
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    let groups = shape.groups
    let row = try gatesBackwardRow(
      shape: shape, step: s, gates: gates, cell: cell, dOutput: dOutput,
      dhRecurrent: dhRecurrent, dCell: dCell, dGates: dGates)
    let pw = try pointer(weightHH, groups * G * H, "lstmBackwardStep weightHH")
    let pdg = try pointer(dGates, groups * B * T * G, "lstmBackwardStep dGates")
    let pdh = try pointer(dhRecurrent, groups * B * H, "lstmBackwardStep dhRecurrent")
    if s > 0 { gemmFLOPs += 2 * Double(B * G * H * groups) }
    let perGroup = kf_packed_floats(Int32(G), Int32(H))
    let packed = packedScratch(1, floats: groups * perGroup)
    let parts = groups * B * H < 4096 ? 1 : min(threads, groups)
    parallel(parts) { part in
      for g in stride(from: part, to: groups, by: parts) {
        let wg = pw + g * G * H
        let pg = packed + g * perGroup
        if s == T - 1 && recurrentKernel != .blas {
          kf_pack_b(wg, Int32(H), 0, Int32(G), Int32(H), pg)
        }
        for b in 0..<B { row(g * B + b) }
        if s > 0 {
          recurrentProduct(
            rows: B, n: H, k: G, a: pdg + g * B * T * G + s * G, lda: T * G, w: wg,
            transW: false, packed: pg, c: pdh + g * B * H)
        }
      }
    }
  }

  /// Each thread walks whole groups through all T steps: one hand-off per walk instead of one
  /// per step, which at the sweep's sizes (B = 32, H = 64: ~20 us of work per step) is most of
  /// a step's cost. W_hh is packed once per group at the start.
  public func lstmForwardWalk(
    shape: LSTMShape, weightHH: BufferSlice, gx: BufferSlice, gh: BufferSlice,
    biasIH: BufferSlice, biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice,
    output: BufferSlice
  ) throws {
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    let groups = shape.groups
    let rows = try (0..<T).map { s in
      try gatesForwardRow(
        shape: shape, step: s, gx: gx, gh: gh, biasIH: biasIH, biasHH: biasHH, cell: cell,
        hprev: hprev, output: output)
    }
    let pw = try pointer(weightHH, groups * G * H, "lstmForwardWalk weightHH")
    let ph = try pointer(hprev, groups * B * T * H, "lstmForwardWalk hprev")
    let pgh = try pointer(gh, groups * B * G, "lstmForwardWalk gh")
    gemmFLOPs += 2 * Double(B * G * H * groups) * Double(T - 1)
    let perGroup = kf_packed_floats(Int32(H), Int32(G))
    let packed = packedScratch(0, floats: groups * perGroup)
    parallel(min(threads, groups)) { part in
      for g in stride(from: part, to: groups, by: min(threads, groups)) {
        let wg = pw + g * G * H
        let pg = packed + g * perGroup
        if recurrentKernel != .blas { kf_pack_b(wg, Int32(H), 1, Int32(H), Int32(G), pg) }
        for s in 0..<T {
          if s == 0 {
            (pgh + g * B * G).update(repeating: 0, count: B * G)
          } else {
            recurrentProduct(
              rows: B, n: G, k: H, a: ph + g * B * T * H + s * H, lda: T * H, w: wg,
              transW: true, packed: pg, c: pgh + g * B * G)
          }
          for b in 0..<B { rows[s](g * B + b) }
        }
      }
    }
  }

  /// Each group's walk multiplies `[x_s h_{s-1}]` by `[W_ih; W_hh]^T`, both packed once per
  /// walk, into `gh` (B x 4H, in cache) and runs the cell from there: the input projection
  /// needs no pass of its own over `gx`, whose [B][T] rows are 26 MB per layer at the reference
  /// sizes, and the step's product has K = inputs + H instead of H. Where the AVX2 kernels are
  /// missing it is the GEMM and the walk, as on other backends.
  public func lstmForwardProjectedWalk(
    shape: LSTMShape, inputs: Int, xs: BufferSlice, weightIH: BufferSlice,
    weightHH: BufferSlice, gx: BufferSlice, gh: BufferSlice, biasIH: BufferSlice,
    biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice, output: BufferSlice, save: Bool
  ) throws {
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    let groups = shape.groups
    guard fusedProjection, recurrentKernel == .packed, cellKernel == .avx2 else {
      try projectThenWalk(
        shape: shape, inputs: inputs, xs: xs, weightIH: weightIH, weightHH: weightHH, gx: gx,
        gh: gh, biasIH: biasIH, biasHH: biasHH, cell: cell, hprev: hprev, output: output)
      return
    }
    let px = try pointer(xs, groups * B * T * inputs, "lstmForwardProjectedWalk xs")
    let pwi = try pointer(weightIH, groups * G * inputs, "lstmForwardProjectedWalk weightIH")
    let pwh = try pointer(weightHH, groups * G * H, "lstmForwardProjectedWalk weightHH")
    let pgx = try pointer(gx, groups * B * T * G, "lstmForwardProjectedWalk gx")
    let pgh = try pointer(gh, groups * B * G, "lstmForwardProjectedWalk gh")
    let pbi = try pointer(biasIH, groups * G, "lstmForwardProjectedWalk biasIH")
    let pbh = try pointer(biasHH, groups * G, "lstmForwardProjectedWalk biasHH")
    let pc = try pointer(cell, groups * B * T * H, "lstmForwardProjectedWalk cell")
    let ph = try pointer(hprev, groups * B * T * H, "lstmForwardProjectedWalk hprev")
    let py = try pointer(output, shape.models * B * T * 2 * H, "lstmForwardProjectedWalk output")
    gemmFLOPs += 2 * Double(B * G * groups) * (Double(T * inputs) + Double((T - 1) * H))
    let perInput = kf_packed_floats(Int32(inputs), Int32(G))
    let perHidden = kf_packed_floats(Int32(H), Int32(G))
    let packedInput = packedScratch(3, floats: groups * perInput)
    let packedHidden = packedScratch(0, floats: groups * perHidden)
    // Without saving: per group, c and h of two steps (this one and the previous), B x H each.
    let scratch = save ? nil : packedScratch(4, floats: groups * 4 * B * H)
    let parts = min(threads, groups)
    parallel(parts) { part in
      for g in stride(from: part, to: groups, by: parts) {
        let (m, d) = (g / 2, g % 2)
        let wi = packedInput + g * perInput
        let wh = packedHidden + g * perHidden
        kf_pack_b(pwi + g * G * inputs, Int32(inputs), 1, Int32(inputs), Int32(G), wi)
        kf_pack_b(pwh + g * G * H, Int32(H), 1, Int32(H), Int32(G), wh)
        let pre = pgh + g * B * G
        let cells = scratch.map { $0 + g * 4 * B * H }
        let hs = cells.map { $0 + 2 * B * H }
        for s in 0..<T {
          let t = d == 0 ? s : T - 1 - s
          // h_{s-1}: row s of hprev when saving, else the scratch half written at s-1.
          let (hIn, ldh) =
            hs.map { ($0 + (s % 2) * B * H, H) } ?? (ph + g * B * T * H + s * H, T * H)
          kf_gemm_packed2(
            Int32(B), Int32(G), Int32(inputs), px + g * B * T * inputs + s * inputs,
            Int32(T * inputs), wi, Int32(s == 0 ? 0 : H), hIn, Int32(ldh), wh, pre, Int32(G), 0,
            0)
          for b in 0..<B {
            let y = py + ((m * B + b) * T + t) * 2 * H + d * H
            if let cells, let hs {
              let c = cells + (s % 2) * B * H + b * H
              let cPrev = cells + ((s + 1) % 2) * B * H + b * H
              kf_lstm_cell_forward_summed(
                Int32(H), pre + b * G, pre + b * G, pbi + g * G, pbh + g * G,
                s > 0 ? cPrev : nil, c, hs + ((s + 1) % 2) * B * H + b * H, y)
            } else {
              // Activations in place in the cached row, then streamed to the saved buffer.
              let row = (g * B + b) * T + s
              let c = pc + row * H
              kf_lstm_cell_forward_summed(
                Int32(H), pre + b * G, pre + b * G, pbi + g * G, pbh + g * G,
                s > 0 ? c - H : nil, c, s + 1 < T ? ph + (row + 1) * H : nil, y)
              kf_stream_copy(pgx + row * G, pre + b * G, Int32(G))
            }
          }
        }
      }
      kf_stream_fence()
    }
  }

  public func lstmBackwardWalk(
    shape: LSTMShape, weightHH: BufferSlice, gates: BufferSlice, cell: BufferSlice,
    dOutput: BufferSlice, dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice
  ) throws {
    try backwardWalk(
      shape: shape, weightHH: weightHH, gates: gates, cell: cell, dOutput: dOutput,
      dhRecurrent: dhRecurrent, dCell: dCell, dGates: dGates, dBias: nil)
  }

  /// Each row of dGates is added to its group's bias gradient right after the cell writes it
  /// (s from T-1 down, sequences in order), while it is in L1.
  public func lstmBackwardWalkWithBiasGradient(
    shape: LSTMShape, weightHH: BufferSlice, gates: BufferSlice, cell: BufferSlice,
    dOutput: BufferSlice, dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice,
    dBias: BufferSlice
  ) throws {
    try backwardWalk(
      shape: shape, weightHH: weightHH, gates: gates, cell: cell, dOutput: dOutput,
      dhRecurrent: dhRecurrent, dCell: dCell, dGates: dGates, dBias: dBias)
  }

  func backwardWalk(
    shape: LSTMShape, weightHH: BufferSlice, gates: BufferSlice, cell: BufferSlice,
    dOutput: BufferSlice, dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice,
    dBias: BufferSlice?
  ) throws {
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    let groups = shape.groups
    let rows = try (0..<T).map { s in
      try gatesBackwardRow(
        shape: shape, step: s, gates: gates, cell: cell, dOutput: dOutput,
        dhRecurrent: dhRecurrent, dCell: dCell, dGates: dGates)
    }
    let pw = try pointer(weightHH, groups * G * H, "lstmBackwardWalk weightHH")
    let pdg = try pointer(dGates, groups * B * T * G, "lstmBackwardWalk dGates")
    let pdh = try pointer(dhRecurrent, groups * B * H, "lstmBackwardWalk dhRecurrent")
    let pdb = try dBias.map { try pointer($0, groups * G, "lstmBackwardWalk dBias") }
    gemmFLOPs += 2 * Double(B * G * H * groups) * Double(T - 1)
    let perGroup = kf_packed_floats(Int32(G), Int32(H))
    let packed = packedScratch(1, floats: groups * perGroup)
    parallel(min(threads, groups)) { part in
      for g in stride(from: part, to: groups, by: min(threads, groups)) {
        let wg = pw + g * G * H
        let pg = packed + g * perGroup
        let bias = pdb.map { $0 + g * G }
        bias?.update(repeating: 0, count: G)
        if recurrentKernel != .blas { kf_pack_b(wg, Int32(H), 0, Int32(G), Int32(H), pg) }
        for s in stride(from: T - 1, through: 0, by: -1) {
          for b in 0..<B {
            rows[s](g * B + b)
            if let bias {
              let row = pdg + ((g * B + b) * T + s) * G
              for j in stride(from: 0, to: G, by: 8) {
                let n = min(8, G - j)
                bias.store8(bias.load8(j, n) + row.load8(j, n), j, n)
              }
            }
          }
          if s > 0 {
            recurrentProduct(
              rows: B, n: H, k: G, a: pdg + g * B * T * G + s * G, lda: T * G, w: wg,
              transW: false, packed: pg, c: pdh + g * B * H)
          }
        }
      }
    }
  }

  /// One work item per (group, sequence) row, in `threads` contiguous chunks; small steps run
  /// on the calling thread, where a hand-off would cost more than the work.
  @inline(__always)
  func parallelRows(_ rows: Int, work: Int, _ body: (Int) -> Void) {
    let parts = work < 4096 ? 1 : min(threads, rows)
    let chunk = (rows + parts - 1) / parts
    parallel(parts) { part in
      for row in (part * chunk)..<min((part + 1) * chunk, rows) { body(row) }
    }
  }
}
