import KneeForceCompute

/// One PyTorch-named tensor of one model, e.g. `lstm.weight_hh_l0_reverse` `[4H, H]`.
public struct NamedTensor {
  public let name: String
  public let shape: [Int]
  /// Offset of model 0's copy in the flat parameter buffer; model m adds `m * blockStride`.
  public let offset: Int
  public let blockStride: Int
  public var count: Int { shape.reduce(1, *) }

  public func offset(model: Int) -> Int { offset + model * blockStride }
}

/// Where each layer's weights live in one flat buffer. Weights are grouped in blocks laid out
/// `[models][...]`, so the same tensor of several models (leave-one-subject-out folds trained
/// in lockstep) sits at a fixed stride: one strided-batched GEMM serves them all, and one
/// Adam launch updates every parameter of every model.
public struct ParameterLayout {
  public let models: Int
  public private(set) var tensors: [NamedTensor] = []
  public private(set) var count = 0
  /// (offset, perModel) of each block, for per-model reductions.
  public private(set) var blocks: [(offset: Int, perModel: Int)] = []

  public init(models: Int) { self.models = models }

  /// Reserves a block holding, per model, the given tensors back to back; returns the block's
  /// offset (model 0's first tensor).
  public mutating func block(_ parts: [(name: String, shape: [Int])]) -> Int {
    let start = count
    let perModel = parts.reduce(0) { $0 + $1.shape.reduce(1, *) }
    var inner = 0
    for part in parts {
      tensors.append(
        NamedTensor(
          name: part.name, shape: part.shape, offset: start + inner, blockStride: perModel))
      inner += part.shape.reduce(1, *)
    }
    blocks.append((start, perModel))
    count += perModel * models
    return start
  }

  public func tensor(named name: String) -> NamedTensor? { tensors.first { $0.name == name } }
}

/// Parameters, their gradients and Adam's moments, as four flat device buffers.
public final class ParameterStore {
  public let backend: ComputeBackend
  public let layout: ParameterLayout
  public let values: DeviceBuffer
  public let gradients: DeviceBuffer
  let adamM: DeviceBuffer
  let adamV: DeviceBuffer
  let scalars: DeviceBuffer
  public private(set) var adamSteps = 0

  public init(layout: ParameterLayout, backend: ComputeBackend) throws {
    self.backend = backend
    self.layout = layout
    values = try backend.makeBuffer(count: layout.count)
    gradients = try backend.makeBuffer(count: layout.count)
    adamM = try backend.makeBuffer(count: layout.count)
    adamV = try backend.makeBuffer(count: layout.count)
    scalars = try backend.makeBuffer(count: 4)
  }

  public func slice(_ offset: Int) -> BufferSlice { BufferSlice(values, offset: offset) }
  public func gradient(_ offset: Int) -> BufferSlice { BufferSlice(gradients, offset: offset) }

  /// Host copy of one model's tensor (values or gradients).
  public func read(_ name: String, model: Int = 0, gradient: Bool = false) throws -> [Float] {
    guard let t = layout.tensor(named: name) else {
      throw ModelError.unknownTensor(name)
    }
    return try backend.download(
      BufferSlice(gradient ? gradients : values, offset: t.offset(model: model)), count: t.count)
  }

  public func write(_ name: String, _ data: [Float], model: Int = 0) throws {
    guard let t = layout.tensor(named: name) else { throw ModelError.unknownTensor(name) }
    guard data.count == t.count else {
      throw ModelError.shapeMismatch(name, expected: t.shape, got: "\(data.count) values")
    }
    try backend.upload(data, to: BufferSlice(values, offset: t.offset(model: model)))
  }

  /// Every parameter of every model at once, in layout order.
  public func readAll() throws -> [Float] { try backend.download(values) }
  public func writeAll(_ data: [Float]) throws {
    precondition(data.count == layout.count)
    try backend.upload(data, to: BufferSlice(values))
  }

  /// Adam over all parameters, with global-norm clipping (`maxNorm > 0`) computed on the
  /// device. Each model is clipped by its own gradient norm, as if trained alone: with one
  /// model that is one reduction and one Adam launch over the flat buffer; with several (fold
  /// models in lockstep) the per-lane kernels (`laneAdamStep`), one launch each for all.
  public func adamStep(
    lr: Float, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
    weightDecay: Float = 0, decoupled: Bool = false, maxNorm: Float = 0
  ) throws {
    adamSteps += 1
    let step = AdamStep(
      lr: lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay,
      decoupled: decoupled, step: adamSteps)
    let models = layout.models
    if models == 1 {
      let norm = BufferSlice(scalars, offset: 0)
      if maxNorm > 0 {
        try backend.sumSquares(BufferSlice(gradients), count: layout.count, into: norm)
      }
      try backend.adam(
        parameters: BufferSlice(values), gradients: BufferSlice(gradients),
        m: BufferSlice(adamM), v: BufferSlice(adamV), count: layout.count, step: step,
        maxNorm: maxNorm, normSquared: norm)
      return
    }
    // Several models: every model at the same step count, through the per-lane kernels.
    let c = AdamCoefficients(step)
    let idle = LaneStep(
      count: 1, stepSize: c.stepSize, sqrtCorrection2: c.sqrtCorrection2, active: true)
    let steps = try laneTables().steps
    try backend.upload(
      Array(repeating: idle.floats, count: models).flatMap { $0 }, to: BufferSlice(steps))
    try laneAdamStep(
      laneSteps: BufferSlice(steps), lr: lr, beta1: beta1, beta2: beta2, eps: eps,
      weightDecay: weightDecay, decoupled: decoupled, maxNorm: maxNorm)
  }

  /// Device tables for the per-lane kernels, built on first use: each parameter's lane, each
  /// lane's gradient chunks (at most `LaneTables.chunk` floats, never across a block), and
  /// room for the partial and per-lane norms.
  struct LaneTables {
    static let chunk = 4096
    let lanes: DeviceBuffer
    let chunks: DeviceBuffer
    let chunksPerLane: Int
    let partials: DeviceBuffer
    let norms: DeviceBuffer
    let steps: DeviceBuffer
  }

  private var tables: LaneTables?

  func laneTables() throws -> LaneTables {
    if let tables { return tables }
    guard layout.count <= Int(UInt32.max) else {
      throw ModelError.invalidConfig(
        "\(layout.count) parameters in one store: more than 32-bit lane tables address")
    }
    let models = layout.models
    var lanes = [UInt32](repeating: 0, count: layout.count)
    var chunks: [UInt32] = []
    for m in 0..<models {
      for block in layout.blocks {
        let start = block.offset + m * block.perModel
        for i in start..<(start + block.perModel) { lanes[i] = UInt32(m) }
        for lo in stride(from: 0, to: block.perModel, by: LaneTables.chunk) {
          chunks += [UInt32(start + lo), UInt32(min(LaneTables.chunk, block.perModel - lo))]
        }
      }
    }
    let perLane = chunks.count / 2 / models
    let laneBuffer = try backend.makeBuffer(count: layout.count)
    try backend.uploadWords(lanes, to: BufferSlice(laneBuffer))
    let chunkBuffer = try backend.makeBuffer(count: chunks.count)
    try backend.uploadWords(chunks, to: BufferSlice(chunkBuffer))
    let built = LaneTables(
      lanes: laneBuffer, chunks: chunkBuffer, chunksPerLane: perLane,
      partials: try backend.makeBuffer(count: max(1, perLane * models)),
      norms: try backend.makeBuffer(count: models),
      steps: try backend.makeBuffer(count: models * LaneStep.width))
    tables = built
    return built
  }

  /// Adam for models in lockstep, each as if alone: its own gradient-norm clipping (a
  /// reduction whose blocking is fixed by the layout), its own step count and whether it
  /// updates at all, from `laneSteps` (`LaneStep` per model, on the device). Three launches
  /// for every model together. With `norms`, each model's squared gradient norm is left
  /// there (computed even without clipping): how the trainer spots a non-finite gradient
  /// without reading anything back during the epoch.
  public func laneAdamStep(
    laneSteps: BufferSlice, norms: BufferSlice? = nil, lr: Float, beta1: Float = 0.9,
    beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0, decoupled: Bool = false,
    maxNorm: Float = 0
  ) throws {
    let t = try laneTables()
    let normSlice = norms ?? BufferSlice(t.norms)
    if maxNorm > 0 || norms != nil {
      try backend.laneSumSquares(
        BufferSlice(gradients), chunks: BufferSlice(t.chunks), models: layout.models,
        chunksPerLane: t.chunksPerLane, partials: BufferSlice(t.partials), into: normSlice)
    }
    try backend.laneAdam(
      parameters: BufferSlice(values), gradients: BufferSlice(gradients),
      m: BufferSlice(adamM), v: BufferSlice(adamV), count: layout.count, models: layout.models,
      lanes: BufferSlice(t.lanes), laneSteps: laneSteps, norms: normSlice,
      step: AdamStep(
        lr: lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay,
        decoupled: decoupled, step: 1),
      maxNorm: maxNorm)
  }

  /// Each model's squared weight norm into `norms` (K floats, left on the device): NaN or
  /// infinite when any of the model's weights is.
  func laneWeightNormsSquared(into norms: BufferSlice) throws {
    let t = try laneTables()
    try backend.laneSumSquares(
      BufferSlice(values), chunks: BufferSlice(t.chunks), models: layout.models,
      chunksPerLane: t.chunksPerLane, partials: BufferSlice(t.partials), into: norms)
  }

  /// Each model's squared gradient norm as the lane kernels compute it (read back).
  public func laneGradientNormsSquared() throws -> [Float] {
    let t = try laneTables()
    try backend.laneSumSquares(
      BufferSlice(gradients), chunks: BufferSlice(t.chunks), models: layout.models,
      chunksPerLane: t.chunksPerLane, partials: BufferSlice(t.partials),
      into: BufferSlice(t.norms))
    return try backend.download(BufferSlice(t.norms), count: layout.models)
  }

  /// Global L2 norm of all gradients, read back (for logs and tests).
  public func gradientNorm() throws -> Float {
    let out = BufferSlice(scalars, offset: 1)
    try backend.sumSquares(BufferSlice(gradients), count: layout.count, into: out)
    return try backend.download(out, count: 1)[0].squareRoot()
  }

  /// PyTorch's default initialisation, drawn on the host from a seeded generator so the same
  /// seed gives the same weights on every backend.
  /// With `seeds`, model m draws from its own stream `seeds[m]` (lanes trained in lockstep
  /// initialise as they would alone); otherwise all models draw in turn from `seed`.
  public func initialize(seed: UInt64, seeds: [UInt64]? = nil, bound: (NamedTensor) -> Float)
    throws
  {
    precondition(seeds == nil || seeds!.count == layout.models)
    var rng = SplitMix64(seed: seed)
    var host = [Float](repeating: 0, count: layout.count)
    for model in 0..<layout.models {
      if let seeds { rng = SplitMix64(seed: seeds[model]) }
      for t in layout.tensors {
        let b = bound(t)
        let start = t.offset(model: model)
        for i in 0..<t.count { host[start + i] = rng.nextFloat(in: -b...b) }
      }
    }
    try writeAll(host)
  }
}

public enum ModelError: Error, CustomStringConvertible {
  case unknownTensor(String)
  case shapeMismatch(String, expected: [Int], got: String)
  case invalidConfig(String)

  public var description: String {
    switch self {
    case .unknownTensor(let name): return "no parameter tensor named '\(name)'"
    case .shapeMismatch(let name, let expected, let got):
      return "tensor '\(name)': expected shape \(expected), got \(got)"
    case .invalidConfig(let why): return "invalid model configuration: \(why)"
    }
  }
}

/// Buffers a model reuses from step to step, reallocated only when a size changes, so the
/// training loop allocates nothing in steady state.
final class Workspace {
  let backend: ComputeBackend
  private var buffers: [String: DeviceBuffer] = [:]

  init(backend: ComputeBackend) { self.backend = backend }

  func buffer(_ name: String, _ count: Int) throws -> DeviceBuffer {
    if let b = buffers[name], b.count == count { return b }
    let b = try backend.makeBuffer(count: count)
    buffers[name] = b
    return b
  }

  func slice(_ name: String, _ count: Int) throws -> BufferSlice {
    BufferSlice(try buffer(name, count))
  }
}
