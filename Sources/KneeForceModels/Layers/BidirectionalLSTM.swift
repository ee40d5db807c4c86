import KneeForceCompute

/// One layer of `nn.LSTM(bidirectional=True, batch_first=True)`, for `models` models at once.
///
/// Both directions run in step order: the reverse direction gets a time-reversed copy of its
/// input, so every per-direction tensor has the same layout and (model, direction) pairs form
/// one batch index g = 2m + d for CLBlast's strided-batched GEMM:
///   1. gx[g] = xs[g] W_ih[g]^T for all steps at once (one GEMM),
///   2. per step: gh[g] = h_{s-1}[g] W_hh[g]^T (one GEMM) and the fused cell kernel
///      (`lstmForwardProjectedWalk`; the CPU backend walks each group on one thread and does
///      1 and 2 as one product per step, [x_s h_{s-1}] [W_ih; W_hh]^T),
///   3. backward per step: the cell backward kernel and dh[g] = dGates_s[g] W_hh[g] (one GEMM)
///      (`lstmBackwardWalkWithBiasGradient`, which also sums the bias gradient; the CPU
///      backend adds each row of dGates as it is written),
///   4. then dW_ih, dW_hh and the input gradient as one GEMM each over all steps.
/// Kernels: Kernels/lstm_gates_forward.cl, Kernels/lstm_gates_backward.cl; CPU twins in
/// Sources/KneeForceCompute/CPU/CPUBackend+LSTM.swift.
struct BidirectionalLSTM {
  let index: Int
  let inputs: Int
  let hidden: Int
  let weightIH: Int
  let weightHH: Int
  let biasIH: Int
  let biasHH: Int

  init(_ layout: inout ParameterLayout, index l: Int, inputs: Int, hidden: Int) {
    self.index = l
    self.inputs = inputs
    self.hidden = hidden
    let g = 4 * hidden
    weightIH = layout.block([
      ("lstm.weight_ih_l\(l)", [g, inputs]), ("lstm.weight_ih_l\(l)_reverse", [g, inputs]),
    ])
    weightHH = layout.block([
      ("lstm.weight_hh_l\(l)", [g, hidden]), ("lstm.weight_hh_l\(l)_reverse", [g, hidden]),
    ])
    biasIH = layout.block([("lstm.bias_ih_l\(l)", [g]), ("lstm.bias_ih_l\(l)_reverse", [g])])
    biasHH = layout.block([("lstm.bias_hh_l\(l)", [g]), ("lstm.bias_hh_l\(l)_reverse", [g])])
  }

  /// Saved activations of one forward pass, needed by the backward pass.
  struct Saved {
    let shape: LSTMShape
    let xs: BufferSlice  // [groups][B][T][I] input in step order
    let gates: BufferSlice  // [groups][B][T][4H] activated gates
    let cell: BufferSlice  // [groups][B][T][H]
    let hprev: BufferSlice  // [groups][B][T][H]
  }

  /// `save: false` (inference, validation): the backend may leave the saved activations
  /// unwritten; the returned `Saved` must then not reach `backward` (the model's forward state
  /// refuses that).
  func forward(
    _ p: ParameterStore, _ ws: Workspace, x: BufferSlice, shape: LSTMShape, output: BufferSlice,
    save: Bool = true
  ) throws -> Saved {
    let be = p.backend
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    let groups = shape.groups
    let tag = "lstm\(index)"
    let xs = try ws.slice("\(tag).xs", groups * B * T * inputs)
    let gates = try ws.slice("\(tag).gates", groups * B * T * G)
    let cell = try ws.slice("\(tag).cell", groups * B * T * H)
    // Row 0 of every sequence (h before the first step) must stay zero; the cell kernel
    // writes rows 1..T-1 only, so a buffer kept per shape is zeroed once, when allocated.
    let hprev = try ws.slice("\(tag).hprev.\(B)x\(T)", groups * B * T * H)
    let gh = try ws.slice("\(tag).gh", groups * B * G)
    try be.bidirectionalInput(
      x, into: xs, models: shape.models, batch: B, steps: T, width: inputs)
    try be.lstmForwardProjectedWalk(
      shape: shape, inputs: inputs, xs: xs, weightIH: p.slice(weightIH),
      weightHH: p.slice(weightHH), gx: gates, gh: gh, biasIH: p.slice(biasIH),
      biasHH: p.slice(biasHH), cell: cell, hprev: hprev, output: output, save: save)
    return Saved(shape: shape, xs: xs, gates: gates, cell: cell, hprev: hprev)
  }

  /// Writes the parameter gradients and, when `dx` is given, the input gradient.
  func backward(
    _ p: ParameterStore, _ ws: Workspace, saved: Saved, dOutput: BufferSlice, dx: BufferSlice?
  ) throws {
    let be = p.backend
    let shape = saved.shape
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    let groups = shape.groups
    let tag = "lstm\(index)"
    // Gate gradients overwrite the saved activations in place: each step reads its own
    // activations and writes the same positions, and nothing reads them afterwards.
    let dGates = saved.gates
    let dhRec = try ws.slice("\(tag).dhrec", groups * B * H)
    let dCell = try ws.slice("\(tag).dcell", groups * B * H)
    try be.fill(dhRec, count: groups * B * H, value: 0)
    try be.fill(dCell, count: groups * B * H, value: 0)
    try be.lstmBackwardWalkWithBiasGradient(
      shape: shape, weightHH: p.slice(weightHH), gates: saved.gates, cell: saved.cell,
      dOutput: dOutput, dhRecurrent: dhRec, dCell: dCell, dGates: dGates,
      dBias: p.gradient(biasIH))
    // dW_hh = sum_s dGates_s^T h_{s-1}; dW_ih = sum_s dGates_s^T x_s: one GEMM each.
    try be.gemm(
      Gemm(
        transA: true, m: G, n: H, k: B * T, a: dGates, lda: G, strideA: B * T * G,
        b: saved.hprev, ldb: H, strideB: B * T * H, c: p.gradient(weightHH), ldc: H,
        strideC: G * H, batch: groups))
    try be.gemm(
      Gemm(
        transA: true, m: G, n: inputs, k: B * T, a: dGates, lda: G, strideA: B * T * G,
        b: saved.xs, ldb: inputs, strideB: B * T * inputs, c: p.gradient(weightIH),
        ldc: inputs, strideC: G * inputs, batch: groups))
    try be.copy(from: p.gradient(biasIH), to: p.gradient(biasHH), count: groups * G)
    if let dx {
      let dxs = try ws.slice("\(tag).dxs", groups * B * T * inputs)
      try be.gemm(
        Gemm(
          m: B * T, n: inputs, k: G, a: dGates, lda: G, strideA: B * T * G,
          b: p.slice(weightIH), ldb: inputs, strideB: G * inputs, c: dxs, ldc: inputs,
          strideC: B * T * inputs, batch: groups))
      try be.bidirectionalGradient(
        dxs, into: dx, models: shape.models, batch: B, steps: T, width: inputs)
    }
  }
}
