/// Memory that lives where a backend computes: host memory for the CPU backend, a `cl_mem`
/// for OpenCL. Offsets and counts everywhere are in floats, not bytes.
public protocol DeviceBuffer: AnyObject {
  var count: Int { get }
}

/// A float slice of a buffer: lets layers address one model, one direction or one time step
/// inside a larger tensor without copies (CLBlast and the kernels take element offsets).
public struct BufferSlice {
  public let buffer: DeviceBuffer
  public let offset: Int

  public init(_ buffer: DeviceBuffer, offset: Int = 0) {
    self.buffer = buffer
    self.offset = offset
  }

  public func advanced(by n: Int) -> BufferSlice { BufferSlice(buffer, offset: offset + n) }
}

/// One row-major GEMM `C = alpha * op(A) * op(B) + beta * C`, optionally repeated `batch`
/// times with fixed strides: the shape CLBlast's `SgemmStridedBatched` takes, so both LSTM
/// directions (and later several leave-one-subject-out fold models) share one call.
public struct Gemm {
  public var transA = false
  public var transB = false
  public var m: Int
  public var n: Int
  public var k: Int
  public var alpha: Float = 1
  public var beta: Float = 0
  public var a: BufferSlice
  public var lda: Int
  public var strideA = 0
  public var b: BufferSlice
  public var ldb: Int
  public var strideB = 0
  public var c: BufferSlice
  public var ldc: Int
  public var strideC = 0
  public var batch = 1

  public init(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: BufferSlice, lda: Int, strideA: Int = 0, b: BufferSlice, ldb: Int, strideB: Int = 0,
    beta: Float = 0, c: BufferSlice, ldc: Int, strideC: Int = 0, batch: Int = 1
  ) {
    self.transA = transA
    self.transB = transB
    self.m = m
    self.n = n
    self.k = k
    self.alpha = alpha
    self.a = a
    self.lda = lda
    self.strideA = strideA
    self.b = b
    self.ldb = ldb
    self.strideB = strideB
    self.beta = beta
    self.c = c
    self.ldc = ldc
    self.strideC = strideC
    self.batch = batch
  }
}

/// Shape of one bidirectional LSTM layer for `models` independent models trained in
/// lockstep. Every per-direction tensor is laid out `[models][2][...]`, so the pair
/// (model, direction) is a single batch index `g = model * 2 + direction` with a fixed stride.
extension Gemm {
  /// Floats each operand spans from its offset, over all batch items: what a backend checks
  /// against the buffer before touching it.
  public var extents: (a: Int, b: Int, c: Int) {
    func extent(_ rows: Int, _ cols: Int, _ ld: Int, _ stride: Int) -> Int {
      rows == 0 || cols == 0 ? 0 : (batch - 1) * stride + (rows - 1) * ld + cols
    }
    return (
      extent(transA ? k : m, transA ? m : k, lda, strideA),
      extent(transB ? n : k, transB ? k : n, ldb, strideB),
      extent(m, n, ldc, strideC)
    )
  }

  public var flops: Double { 2 * Double(m) * Double(n) * Double(k) * Double(batch) }
}

public struct LSTMShape: Equatable {
  public var models: Int
  public var batch: Int
  public var steps: Int
  public var hidden: Int

  public init(models: Int = 1, batch: Int, steps: Int, hidden: Int) {
    self.models = models
    self.batch = batch
    self.steps = steps
    self.hidden = hidden
  }

  public var groups: Int { models * 2 }
  public var gates: Int { 4 * hidden }
}

/// Shape of a dilated causal convolution on channels-last sequences `[models][batch][steps][C]`.
public struct ConvShape: Equatable {
  public var models: Int
  public var batch: Int
  public var steps: Int
  public var channels: Int
  public var kernel: Int
  public var dilation: Int

  public init(models: Int = 1, batch: Int, steps: Int, channels: Int, kernel: Int, dilation: Int) {
    self.models = models
    self.batch = batch
    self.steps = steps
    self.channels = channels
    self.kernel = kernel
    self.dilation = dilation
  }

  /// Width of one im2col row: PyTorch's weight `[out][in][k]` flattens to `[out][in*k]`.
  public var columns: Int { channels * kernel }
}

/// Hyper-parameters of one Adam (or AdamW) step, with PyTorch's semantics.
public struct AdamStep {
  public var lr: Float
  public var beta1: Float
  public var beta2: Float
  public var eps: Float
  public var weightDecay: Float
  /// AdamW decays weights directly instead of adding `wd * p` to the gradient.
  public var decoupled: Bool
  /// 1-based step count, for bias correction.
  public var step: Int

  public init(
    lr: Float, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
    weightDecay: Float = 0, decoupled: Bool = false, step: Int
  ) {
    self.lr = lr
    self.beta1 = beta1
    self.beta2 = beta2
    self.eps = eps
    self.weightDecay = weightDecay
    self.decoupled = decoupled
    self.step = step
  }
}

public enum BackendKind: String, Sendable {
  case cpu
  case opencl
}

/// Everything a model needs from a device. The CPU backend is the reference twin of the
/// OpenCL one: each custom kernel in `Kernels/` has a method here with the same name and the
/// same index arithmetic, and the tests hold both to a plain Swift reference.
public protocol ComputeBackend: AnyObject {
  var kind: BackendKind { get }
  /// Human-readable device description, e.g. "cpu (OpenBLAS, 2 threads)".
  var deviceName: String { get }
  /// FLOPs issued through `gemm` (2·m·n·k per product) since creation or the last reset: the
  /// bulk of the models' work, counted where it happens rather than estimated.
  var gemmFLOPs: Double { get set }

  /// A zero-filled buffer of `count` floats.
  func makeBuffer(count: Int) throws -> DeviceBuffer
  func upload(_ values: [Float], to slice: BufferSlice) throws
  func download(_ slice: BufferSlice, count: Int) throws -> [Float]
  func fill(_ slice: BufferSlice, count: Int, value: Float) throws
  func copy(from source: BufferSlice, to destination: BufferSlice, count: Int) throws
  /// Blocks until every queued operation has finished (a no-op on the CPU).
  func synchronize() throws

  func gemm(_ g: Gemm) throws

  /// `y[r][c] += bias[c]` for `rows` rows of width `cols`, `models` times with the given strides.
  func addBias(
    _ y: BufferSlice, bias: BufferSlice, rows: Int, cols: Int, models: Int) throws
  /// `dbias[c] (+)= sum_r dy[r][c]`, per model; `accumulate` adds to what is there.
  func sumRows(
    _ dy: BufferSlice, into dbias: BufferSlice, rows: Int, cols: Int, models: Int,
    accumulate: Bool) throws
  /// In place `x = relu(x)`, then inverted dropout with keep-probability `1-p` drawn from the
  /// counter-based hash of (seed, index), so both backends drop the same elements.
  func reluDropoutForward(_ x: BufferSlice, count: Int, p: Float, seed: UInt32) throws
  /// In place `dy *= (y > 0) / (1-p)`: the output alone tells which elements passed.
  func reluDropoutBackward(_ dy: BufferSlice, output y: BufferSlice, count: Int, p: Float) throws
  /// `y += x` elementwise.
  func add(_ x: BufferSlice, into y: BufferSlice, count: Int) throws

  /// `xs[m][d][b][s] = x[m][b][d == 0 ? s : T-1-s]`: the input of both directions in step order.
  func bidirectionalInput(
    _ x: BufferSlice, into xs: BufferSlice, models: Int, batch: Int, steps: Int, width: Int)
    throws
  /// `dx[m][b][t] = dxs[m][0][b][t] + dxs[m][1][b][T-1-t]`.
  func bidirectionalGradient(
    _ dxs: BufferSlice, into dx: BufferSlice, models: Int, batch: Int, steps: Int, width: Int)
    throws
  /// Fused LSTM cell of step `s` for every (model, direction, batch, unit); see
  /// Kernels/lstm_gates_forward.cl for the layouts.
  func lstmGatesForward(
    shape: LSTMShape, step: Int, gx: BufferSlice, gh: BufferSlice, biasIH: BufferSlice,
    biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice, output: BufferSlice) throws
  /// Backward of the fused cell at step `s`; see Kernels/lstm_gates_backward.cl. `dGates` may
  /// be `gates` itself (same buffer and offset): the gradients then overwrite the activations
  /// in place, which is what the LSTM layer does.
  func lstmGatesBackward(
    shape: LSTMShape, step: Int, gates: BufferSlice, cell: BufferSlice, dOutput: BufferSlice,
    dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice) throws

  /// One forward step of the recurrence: `gh[g] = h_{s-1}[g] W_hh[g]^T` (zero at s = 0) for
  /// every group, then `lstmGatesForward`. Backends may fuse the two (the CPU backend runs each
  /// direction's GEMM and cell on one thread, with no hand-off in between) and may keep W_hh
  /// in a packed form from the walk's first step (s = 0 here, s = T-1 in `lstmBackwardStep`)
  /// to its last: `weightHH` must not change during a walk.
  func lstmForwardStep(
    shape: LSTMShape, step: Int, weightHH: BufferSlice, gx: BufferSlice, gh: BufferSlice,
    biasIH: BufferSlice, biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice,
    output: BufferSlice) throws
  /// One backward step: `lstmGatesBackward`, then (for s > 0) `dh[g] = dGates_s[g] W_hh[g]`.
  func lstmBackwardStep(
    shape: LSTMShape, step: Int, weightHH: BufferSlice, gates: BufferSlice, cell: BufferSlice,
    dOutput: BufferSlice, dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice)
    throws

  /// The whole forward recurrence, s = 0 ..< T: what `lstmForwardStep` does at each step.
  /// The CPU backend runs each group's (direction's, fold model's) walk on one thread from
  /// start to end, with no hand-off between steps; other backends loop over the steps.
  func lstmForwardWalk(
    shape: LSTMShape, weightHH: BufferSlice, gx: BufferSlice, gh: BufferSlice,
    biasIH: BufferSlice, biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice,
    output: BufferSlice) throws
  /// The input projection and the forward recurrence together: `gx[g] = xs[g] W_ih[g]^T`
  /// (xs: [groups][B][T][inputs] in step order) and then `lstmForwardWalk`, leaving the
  /// activated gates in `gx` as the walk does. The default runs one GEMM over all steps and
  /// then the walk; the CPU backend multiplies each step's `[x_s h_{s-1}]` by the packed
  /// `[W_ih; W_hh]^T` inside the walk, so the pre-activations never leave the cache.
  /// `save: false` (inference) lets a backend skip what only a backward reads: the CPU backend
  /// then keeps the gates, cell and h of the current step in cache-sized scratch, and `gx`,
  /// `cell` and `hprev` are left undefined; `output` is always written.
  func lstmForwardProjectedWalk(
    shape: LSTMShape, inputs: Int, xs: BufferSlice, weightIH: BufferSlice,
    weightHH: BufferSlice, gx: BufferSlice, gh: BufferSlice, biasIH: BufferSlice,
    biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice, output: BufferSlice, save: Bool)
    throws
  /// `lstmBackwardWalk` and the bias gradient `dBias[g] = sum over rows of dGates[g]` (both
  /// biases have it). The default sums with `sumRows` after the walk; the CPU backend adds each
  /// row while it is still in cache, saving a pass over dGates (B*T*4H per group).
  func lstmBackwardWalkWithBiasGradient(
    shape: LSTMShape, weightHH: BufferSlice, gates: BufferSlice, cell: BufferSlice,
    dOutput: BufferSlice, dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice,
    dBias: BufferSlice) throws
  /// The whole backward recurrence, s = T-1 down to 0: `lstmBackwardStep` at each step.
  func lstmBackwardWalk(
    shape: LSTMShape, weightHH: BufferSlice, gates: BufferSlice, cell: BufferSlice,
    dOutput: BufferSlice, dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice)
    throws

  /// Dilated causal im2col: `col[m][b][t][c*K+k] = x[m][b][t-(K-1-k)*d][c]` (0 before t=0).
  func causalIm2col(_ x: BufferSlice, into col: BufferSlice, shape: ConvShape) throws
  /// The adjoint of `causalIm2col`: `dx[m][b][t][c] = sum_k dcol[m][b][t+(K-1-k)*d][c*K+k]`.
  func causalCol2im(_ dcol: BufferSlice, into dx: BufferSlice, shape: ConvShape) throws

  /// `out[0] = sum(x[i]^2)` over `count` floats, left on the device (no read-back).
  func sumSquares(_ x: BufferSlice, count: Int, into out: BufferSlice) throws
  /// MSE averaged over all `count` elements: `dy = 2 (y - t) / count`, `loss[0] = mean((y-t)^2)`.
  func mseLoss(
    prediction y: BufferSlice, target: BufferSlice, count: Int, gradient dy: BufferSlice,
    loss: BufferSlice) throws
  /// One Adam step over a flat parameter range. Gradients are first scaled by
  /// `min(1, maxNorm / (sqrt(normSquared[0]) + 1e-6))` when `maxNorm > 0`: global-norm
  /// clipping without reading the norm back to the host.
  func adam(
    parameters p: BufferSlice, gradients g: BufferSlice, m: BufferSlice, v: BufferSlice,
    count: Int, step: AdamStep, maxNorm: Float, normSquared: BufferSlice) throws

  // Lanes: several models (fold x seed members) trained in lockstep, each with its own
  // data, loss, clipping, Adam step count and dropout stream. One launch serves every lane;
  // each lane's result depends on that lane's data alone (fixed blocking, no cross-lane
  // reduction), so a lane trained among others is bitwise the lane trained alone.

  /// Writes raw 32-bit words (indices, seeds, tables) into a buffer's storage, one per float
  /// slot; kernels read them as `uint`/`int`. Never read them back as floats.
  func uploadWords(_ values: [UInt32], to slice: BufferSlice) throws
  /// Gathers one batch per lane from a store of raw sequences, selecting and z-scoring input
  /// channels per lane; see Kernels/lanes.cl (gather_sequences) for the layouts. With
  /// `residual`, lane m's targets become target - base (its table `laneBases[m]`); with
  /// `augmentation`, lane m's rows are perturbed under its key (`GatherAugmentation`). Both
  /// happen in the same launch, so a training step stays one gather for all lanes.
  func gatherSequences(
    _ shape: GatherShape, inputs: BufferSlice, targets: BufferSlice, indices: BufferSlice,
    channels: BufferSlice, mean: BufferSlice, scale: BufferSlice, residual: GatherResidual?,
    augmentation: GatherAugmentation?, x: BufferSlice, y: BufferSlice, mask: BufferSlice)
    throws
  /// `reluDropoutForward` for `models` lanes of `count` floats each: lane m's mask is keyed
  /// by (keys[m], site, lane-local index), so it does not depend on the other lanes.
  func laneReluDropoutForward(
    _ x: BufferSlice, models: Int, count: Int, p: Float, keys: BufferSlice, site: UInt32)
    throws
  /// Per-lane MSE over `rows` rows of `rowWidth` values per lane, padded rows (mask 0)
  /// excluded: `dy = mask * 2 (y - t) / n_m`, `loss[m] = sum mask (y - t)^2` (a sum: the
  /// caller divides), with `n_m = laneSteps[m].count`; a lane with count 0 gets dy = 0 and
  /// loss 0.
  func laneMSELoss(
    prediction y: BufferSlice, target: BufferSlice, mask: BufferSlice, models: Int, rows: Int,
    rowWidth: Int, laneSteps: BufferSlice, gradient dy: BufferSlice, loss: BufferSlice) throws
  /// `norms[m] = sum of x^2` over lane m's chunks: `chunks` holds words
  /// `[models][chunksPerLane][start, length]` (start relative to `x`), `partials` has
  /// room for `models * chunksPerLane` floats. The blocking is the table's, whatever the
  /// thread count.
  func laneSumSquares(
    _ x: BufferSlice, chunks: BufferSlice, models: Int, chunksPerLane: Int,
    partials: BufferSlice, into norms: BufferSlice) throws
  /// Adam over `count` parameters of `models` lanes: `lanes` holds each parameter's lane
  /// (words, each below `models`), `laneSteps[m]` the lane's step size, bias correction and whether it is active
  /// (an inactive lane's parameters and moments stay as they are), `norms[m]` its squared
  /// gradient norm for clipping (`maxNorm > 0`). `step.step` is ignored: each lane's own
  /// count is folded into its `laneSteps`.
  func laneAdam(
    parameters p: BufferSlice, gradients g: BufferSlice, m: BufferSlice, v: BufferSlice,
    count: Int, models: Int, lanes: BufferSlice, laneSteps: BufferSlice, norms: BufferSlice,
    step: AdamStep, maxNorm: Float) throws
}

/// Shape of one gather: `models` lanes of `batch` rows from a store of sequences
/// `[N][steps][storeChannels]` (targets `[N][steps][outputs]`), `selected` input channels.
public struct GatherShape: Equatable {
  public var models: Int
  public var batch: Int
  public var steps: Int
  public var storeChannels: Int
  public var selected: Int
  public var outputs: Int

  public init(
    models: Int, batch: Int, steps: Int, storeChannels: Int, selected: Int, outputs: Int
  ) {
    self.models = models
    self.batch = batch
    self.steps = steps
    self.storeChannels = storeChannels
    self.selected = selected
    self.outputs = outputs
  }

  /// Work items of one launch: one per gathered input or target value.
  public var elements: Int { models * batch * steps * (selected + outputs) }
}

/// Base curves the targets are taken relative to: `bases` holds `tables` tables
/// `[storeCount][steps][outputs]` back to back, `laneBases` one word per lane, the lane's
/// table or -1 (as `UInt32(bitPattern:)`) for none. Lanes naming the same table share it.
public struct GatherResidual {
  public var bases: BufferSlice
  public var laneBases: BufferSlice
  public var tables: Int
  public var storeCount: Int

  public init(bases: BufferSlice, laneBases: BufferSlice, tables: Int, storeCount: Int) {
    self.bases = bases
    self.laneBases = laneBases
    self.tables = tables
    self.storeCount = storeCount
  }
}

/// One lane's scalars for one training step, four floats per lane in `laneSteps` buffers:
/// the number of real loss elements (0: the lane sits this step out), Adam's step size and
/// `sqrt(1 - beta2^t)` at the lane's own step count `t`, and 1 when the lane updates.
public struct LaneStep: Equatable {
  public static let width = 4
  public var count: Float
  public var stepSize: Float
  public var sqrtCorrection2: Float
  public var active: Bool

  public init(count: Float, stepSize: Float, sqrtCorrection2: Float, active: Bool) {
    self.count = count
    self.stepSize = stepSize
    self.sqrtCorrection2 = sqrtCorrection2
    self.active = active
  }

  /// A lane that sits the step out: no loss, no gradient, no update.
  public static let idle = LaneStep(count: 0, stepSize: 0, sqrtCorrection2: 1, active: false)

  public var floats: [Float] { [count, stepSize, sqrtCorrection2, active ? 1 : 0] }
}

/// Index arithmetic guard: element counts and offsets that 32-bit kernel arguments can hold.
/// Kernels taking larger values use 64-bit (`long`) offsets; callers split work that would
/// pass this limit where a kernel has only 32-bit indices.
public enum IndexGuard {
  public static let limit = Int(Int32.max)

  /// Whether `count` elements can be indexed with 32-bit ints.
  public static func fits32(_ count: Int) -> Bool { count >= 0 && count <= limit }

  /// The largest number of lanes per launch such that `perLane` elements per lane stay
  /// within 32-bit indexing (at least 1: a single lane that does not fit is an error).
  public static func lanesPerLaunch(perLane: Int, lanes: Int) -> Int {
    guard perLane > 0 else { return lanes }
    return max(1, min(lanes, limit / perLane))
  }

  /// Splits `lanes` lanes into consecutive ranges that each fit (see `lanesPerLaunch`).
  public static func split(lanes: Int, perLane: Int) -> [Range<Int>] {
    let size = lanesPerLaunch(perLane: perLane, lanes: lanes)
    return stride(from: 0, to: lanes, by: size).map { $0..<min($0 + size, lanes) }
  }
}

extension ComputeBackend {
  /// The plain gather: no bases, no augmentation.
  public func gatherSequences(
    _ shape: GatherShape, inputs: BufferSlice, targets: BufferSlice, indices: BufferSlice,
    channels: BufferSlice, mean: BufferSlice, scale: BufferSlice, x: BufferSlice,
    y: BufferSlice, mask: BufferSlice
  ) throws {
    try gatherSequences(
      shape, inputs: inputs, targets: targets, indices: indices, channels: channels, mean: mean,
      scale: scale, residual: nil, augmentation: nil, x: x, y: y, mask: mask)
  }

  public func makeBuffer(_ values: [Float]) throws -> DeviceBuffer {
    let buffer = try makeBuffer(count: max(values.count, 1))
    if !values.isEmpty { try upload(values, to: BufferSlice(buffer)) }
    return buffer
  }

  public func download(_ buffer: DeviceBuffer) throws -> [Float] {
    try download(BufferSlice(buffer), count: buffer.count)
  }
}

extension ComputeBackend {
  public func lstmForwardProjectedWalk(
    shape: LSTMShape, inputs: Int, xs: BufferSlice, weightIH: BufferSlice,
    weightHH: BufferSlice, gx: BufferSlice, gh: BufferSlice, biasIH: BufferSlice,
    biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice, output: BufferSlice, save: Bool
  ) throws {
    try projectThenWalk(
      shape: shape, inputs: inputs, xs: xs, weightIH: weightIH, weightHH: weightHH, gx: gx,
      gh: gh, biasIH: biasIH, biasHH: biasHH, cell: cell, hprev: hprev, output: output)
  }

  /// The unfused `lstmForwardProjectedWalk`: one GEMM over all steps, then the walk (what a
  /// backend without its own fusion, or the CPU backend without its AVX2 kernels, runs).
  public func projectThenWalk(
    shape: LSTMShape, inputs: Int, xs: BufferSlice, weightIH: BufferSlice,
    weightHH: BufferSlice, gx: BufferSlice, gh: BufferSlice, biasIH: BufferSlice,
    biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice, output: BufferSlice
  ) throws {
    let (B, T, G) = (shape.batch, shape.steps, shape.gates)
    try gemm(
      Gemm(
        transB: true, m: B * T, n: G, k: inputs, a: xs, lda: inputs, strideA: B * T * inputs,
        b: weightIH, ldb: inputs, strideB: G * inputs, c: gx, ldc: G, strideC: B * T * G,
        batch: shape.groups))
    try lstmForwardWalk(
      shape: shape, weightHH: weightHH, gx: gx, gh: gh, biasIH: biasIH, biasHH: biasHH,
      cell: cell, hprev: hprev, output: output)
  }

  public func lstmForwardWalk(
    shape: LSTMShape, weightHH: BufferSlice, gx: BufferSlice, gh: BufferSlice,
    biasIH: BufferSlice, biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice,
    output: BufferSlice
  ) throws {
    for s in 0..<shape.steps {
      try lstmForwardStep(
        shape: shape, step: s, weightHH: weightHH, gx: gx, gh: gh, biasIH: biasIH,
        biasHH: biasHH, cell: cell, hprev: hprev, output: output)
    }
  }

  public func lstmBackwardWalkWithBiasGradient(
    shape: LSTMShape, weightHH: BufferSlice, gates: BufferSlice, cell: BufferSlice,
    dOutput: BufferSlice, dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice,
    dBias: BufferSlice
  ) throws {
    try lstmBackwardWalk(
      shape: shape, weightHH: weightHH, gates: gates, cell: cell, dOutput: dOutput,
      dhRecurrent: dhRecurrent, dCell: dCell, dGates: dGates)
    try sumRows(
      dGates, into: dBias, rows: shape.batch * shape.steps, cols: shape.gates,
      models: shape.groups, accumulate: false)
  }

  public func lstmBackwardWalk(
    shape: LSTMShape, weightHH: BufferSlice, gates: BufferSlice, cell: BufferSlice,
    dOutput: BufferSlice, dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice
  ) throws {
    for s in stride(from: shape.steps - 1, through: 0, by: -1) {
      try lstmBackwardStep(
        shape: shape, step: s, weightHH: weightHH, gates: gates, cell: cell, dOutput: dOutput,
        dhRecurrent: dhRecurrent, dCell: dCell, dGates: dGates)
    }
  }

  /// The unfused step: one strided-batched GEMM over all groups, then the cell kernel.
  public func lstmForwardStep(
    shape: LSTMShape, step s: Int, weightHH: BufferSlice, gx: BufferSlice, gh: BufferSlice,
    biasIH: BufferSlice, biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice,
    output: BufferSlice
  ) throws {
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    if s == 0 {
      try fill(gh, count: shape.groups * B * G, value: 0)
    } else {
      try gemm(
        Gemm(
          transB: true, m: B, n: G, k: H, a: hprev.advanced(by: s * H), lda: T * H,
          strideA: B * T * H, b: weightHH, ldb: H, strideB: G * H, c: gh, ldc: G,
          strideC: B * G, batch: shape.groups))
    }
    try lstmGatesForward(
      shape: shape, step: s, gx: gx, gh: gh, biasIH: biasIH, biasHH: biasHH, cell: cell,
      hprev: hprev, output: output)
  }

  public func lstmBackwardStep(
    shape: LSTMShape, step s: Int, weightHH: BufferSlice, gates: BufferSlice, cell: BufferSlice,
    dOutput: BufferSlice, dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice
  ) throws {
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    try lstmGatesBackward(
      shape: shape, step: s, gates: gates, cell: cell, dOutput: dOutput,
      dhRecurrent: dhRecurrent, dCell: dCell, dGates: dGates)
    if s > 0 {
      try gemm(
        Gemm(
          m: B, n: H, k: G, a: dGates.advanced(by: s * G), lda: T * G, strideA: B * T * G,
          b: weightHH, ldb: H, strideB: G * H, c: dhRecurrent, ldc: H, strideC: B * H,
          batch: shape.groups))
    }
  }
}
