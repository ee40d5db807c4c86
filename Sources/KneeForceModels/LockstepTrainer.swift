import Foundation
import KneeForceCompute

/// Raw (unnormalised) sequences of a whole dataset, uploaded to the device once per sweep:
/// inputs `[count][steps][channels]`, targets `[count][steps][outputs]` (in BW).
public final class SequenceStore {
  public let count: Int
  public let steps: Int
  public let channels: Int
  public let outputs: Int
  let backend: ComputeBackend
  let inputs: DeviceBuffer
  let targets: DeviceBuffer

  public init(
    backend: ComputeBackend, inputs: [Float], targets: [Float], count: Int, steps: Int,
    channels: Int, outputs: Int
  ) throws {
    guard count > 0, steps > 0, channels > 0, outputs > 0,
      inputs.count == count * steps * channels, targets.count == count * steps * outputs
    else {
      throw ModelError.invalidConfig(
        "sequence store: \(inputs.count) inputs and \(targets.count) targets for \(count) "
          + "sequences of \(steps) steps x \(channels) channels, \(outputs) outputs")
    }
    self.backend = backend
    self.count = count
    self.steps = steps
    self.channels = channels
    self.outputs = outputs
    self.inputs = try backend.makeBuffer(inputs)
    self.targets = try backend.makeBuffer(targets)
  }
}

/// One lane = one model member (a fold x seed) trained on its own subset with its own
/// statistics.
public struct LaneSpec: Sendable {
  /// Sequence indices into the store.
  public var training: [Int]
  /// May be empty (then `validationLoss` is nil).
  public var validation: [Int]
  /// Per selected input channel: the z-score fitted on the lane's training subjects.
  public var mean: [Float]
  /// Per selected channel: 1/std.
  public var scale: [Float]
  /// Initialisation, shuffling, dropout and augmentation streams all derive from it.
  public var seed: UInt64
  /// The trainer's base table this lane's network predicts the residual from; nil: the
  /// network predicts the targets themselves.
  public var base: Int?

  public init(
    training: [Int], validation: [Int], mean: [Float], scale: [Float], seed: UInt64,
    base: Int? = nil
  ) {
    self.training = training
    self.validation = validation
    self.mean = mean
    self.scale = scale
    self.seed = seed
    self.base = base
  }
}

public struct LockstepOptions: Sendable {
  public var learningRate: Float = 3e-3
  public var weightDecay: Float = 0
  /// AdamW instead of Adam with L2.
  public var decoupledWeightDecay = false
  /// Per-lane gradient-norm clipping; 0 disables.
  public var maxGradNorm: Float = 1
  public var batchSize = 32
  /// Perturbs training batches only (never validation or prediction), so `trainingLoss` is
  /// the loss on perturbed batches while `validationLoss` stays comparable across settings;
  /// off by default.
  public var augmentation = Augmentation.off
  /// Zeroes every lane's output layer after initialisation, so a lane starts at its base
  /// curve exactly (or at zero without one) and early steps only learn the residual.
  public var zeroOutputLayer = false

  public init() {}
}

public struct LaneEpoch: Sendable {
  /// Mean MSE over the lane's real rows this epoch (BW^2); NaN for an inactive lane.
  public var trainingLoss: Double
  /// MSE on the lane's validation indices, dropout off; nil without validation indices.
  public var validationLoss: Double?
  /// Set when the loss turned NaN/Inf: names the first non-finite tensor.
  public var nonFinite: String?

  public init(trainingLoss: Double, validationLoss: Double?, nonFinite: String?) {
    self.trainingLoss = trainingLoss
    self.validationLoss = validationLoss
    self.nonFinite = nonFinite
  }
}

/// Trains `lanes.count` models of one architecture in lockstep as one computation: weights
/// `[K][...]`, one strided-batched GEMM per product and one launch per operation for all
/// lanes. Every step, each lane gets a batch of exactly `batchSize` rows gathered on the
/// device from the store (its own shuffled order; a short batch is padded with masked rows,
/// and a lane whose epoch is shorter, or that is stopped, sits the step out: no update, no
/// step counted). Each lane has its own loss (divided by its real count), gradient clipping,
/// Adam step count and streams for initialisation, shuffling and dropout, all derived from
/// its seed, and nothing in a lane's arithmetic depends on the other lanes or on the thread
/// count: a lane trained among others is bitwise the lane trained alone.
///
/// A lane with a base (`LaneSpec.base`) is trained and validated on target - base, and
/// `predict` adds the base back, so callers always see BW curves. Training batches can be
/// augmented (`LockstepOptions.augmentation`) under the lane's own augmentation stream and
/// step count, inside the same gather.
public final class LockstepTrainer {
  public let model: SequenceModel
  public let options: LockstepOptions
  public let store: SequenceStore
  public let channels: [Int]
  public let lanes: [LaneSpec]
  public var laneCount: Int { lanes.count }

  let backend: ComputeBackend
  let ws: Workspace
  let shape: GatherShape
  private var shuffles: [SplitMix64]
  private let dropoutStreams: [UInt64]
  private let augmentationStreams: [UInt64]
  private var keySteps: [UInt64]
  private var adamSteps: [Int]
  private let channelWords: DeviceBuffer
  private let mean: DeviceBuffer
  private let scale: DeviceBuffer
  /// Host copies of the base tables, for adding them back in `predict`.
  private let bases: [[Float]]
  /// The tables on the device back to back, and each lane's table word; nil without bases.
  private let residual: (bases: DeviceBuffer, laneBases: DeviceBuffer)?
  private var best: DeviceBuffer?
  private var hasBest: [Bool]
  /// Per lane, each step's training MSE of the last epoch (for `Trainer`'s step losses).
  private(set) var lastStepLosses: [[Float]]

  /// `channels`: indices of the store's input channels this group uses (LOFO input sets),
  /// the same for every lane. `bases`: tables `[store.count][steps][outputs]` in BW (e.g.
  /// aligned or mean curves) that lanes name by index in `LaneSpec.base`; each is uploaded
  /// once however many lanes share it.
  public convenience init(
    config: ModelConfig, backend: ComputeBackend, store: SequenceStore, channels: [Int],
    lanes: [LaneSpec], options: LockstepOptions, bases: [[Float]] = []
  ) throws {
    guard !lanes.isEmpty else { throw ModelError.invalidConfig("lockstep trainer: no lanes") }
    let model = try makeModel(
      config, backend: backend, seeds: lanes.map { laneStream($0.seed, .initialisation) })
    if options.zeroOutputLayer {
      for name in outputLayerTensors(model) {
        let zeros = [Float](repeating: 0, count: model.parameters.layout.tensor(named: name)!.count)
        for m in 0..<lanes.count { try model.parameters.write(name, zeros, model: m) }
      }
    }
    try self.init(
      model: model, store: store, channels: channels, lanes: lanes, options: options,
      bases: bases)
  }

  /// Trains an existing model (models = lanes.count) as it stands: no initialisation.
  init(
    model: SequenceModel, store: SequenceStore, channels: [Int], lanes: [LaneSpec],
    options: LockstepOptions, bases: [[Float]] = []
  ) throws {
    let K = lanes.count
    let config = model.config
    guard model.parameters.layout.models == K, K > 0 else {
      throw ModelError.invalidConfig(
        "lockstep trainer: \(K) lanes for a model of \(model.parameters.layout.models)")
    }
    guard model.parameters.backend === store.backend else {
      throw ModelError.invalidConfig("lockstep trainer: store and model on different backends")
    }
    guard config.inputs == channels.count, config.outputs == store.outputs,
      channels.allSatisfy({ (0..<store.channels).contains($0) })
    else {
      throw ModelError.invalidConfig(
        "lockstep trainer: \(channels.count) channels of \(store.channels) and "
          + "\(store.outputs) outputs for a model of \(config.inputs) inputs, "
          + "\(config.outputs) outputs")
    }
    guard options.batchSize > 0 else {
      throw ModelError.invalidConfig("lockstep trainer: batch size \(options.batchSize)")
    }
    if let problem = options.augmentation.problem {
      throw ModelError.invalidConfig("lockstep trainer: \(problem)")
    }
    let tableCount = store.count * store.steps * store.outputs
    for (i, table) in bases.enumerated() where table.count != tableCount {
      throw ModelError.invalidConfig(
        "lockstep trainer: base table \(i) has \(table.count) values, expected "
          + "\(store.count) sequences x \(store.steps) steps x \(store.outputs) outputs")
    }
    for (m, lane) in lanes.enumerated() {
      guard lane.mean.count == channels.count, lane.scale.count == channels.count,
        (lane.training + lane.validation).allSatisfy({ (0..<store.count).contains($0) })
      else {
        throw ModelError.invalidConfig(
          "lockstep lane \(m): \(lane.mean.count) means, \(lane.scale.count) scales for "
            + "\(channels.count) channels, or a sequence index outside 0..<\(store.count)")
      }
      if let base = lane.base, !bases.indices.contains(base) {
        throw ModelError.invalidConfig(
          "lockstep lane \(m): base table \(base), expected one of 0..<\(bases.count)")
      }
    }
    shape = GatherShape(
      models: K, batch: options.batchSize, steps: store.steps, storeChannels: store.channels,
      selected: channels.count, outputs: store.outputs)
    let perLane = Self.widestPerLane(
      config, batchSize: options.batchSize, steps: store.steps, channels: channels.count,
      outputs: store.outputs)
    guard IndexGuard.fits32(K * perLane) else {
      throw ModelError.invalidConfig(
        "lockstep trainer: \(K * perLane) elements in one step's widest tensor pass 2^31; "
          + "split the group into lanes of at most "
          + "\(IndexGuard.lanesPerLaunch(perLane: perLane, lanes: K)) (IndexGuard.split)")
    }
    self.model = model
    self.options = options
    self.store = store
    self.channels = channels
    self.lanes = lanes
    backend = store.backend
    ws = Workspace(backend: backend)
    shuffles = lanes.map { SplitMix64(seed: laneStream($0.seed, .shuffling)) }
    dropoutStreams = lanes.map { laneStream($0.seed, .dropout) }
    augmentationStreams = lanes.map { laneStream($0.seed, .augmentation) }
    keySteps = Array(repeating: 0, count: K)
    adamSteps = Array(repeating: 0, count: K)
    hasBest = Array(repeating: false, count: K)
    lastStepLosses = Array(repeating: [], count: K)
    channelWords = try backend.makeBuffer(count: channels.count)
    try backend.uploadWords(channels.map { UInt32($0) }, to: BufferSlice(channelWords))
    mean = try backend.makeBuffer(lanes.flatMap { $0.mean })
    scale = try backend.makeBuffer(lanes.flatMap { $0.scale })
    self.bases = bases
    if lanes.contains(where: { $0.base != nil }) {
      let laneBases = try backend.makeBuffer(count: K)
      try backend.uploadWords(
        lanes.map { UInt32(bitPattern: Int32($0.base ?? -1)) }, to: BufferSlice(laneBases))
      residual = (try backend.makeBuffer(bases.flatMap { $0 }), laneBases)
    } else {
      residual = nil
    }
  }

  /// Floats per lane in one step's widest tensor (LSTM gates, im2col rows, MLP and gathered
  /// rows): K times this must stay within 32-bit indexing, the limit of the layer kernels.
  /// `IndexGuard.split(lanes:perLane:)` with it gives the lane groups that fit.
  public static func widestPerLane(
    _ config: ModelConfig, batchSize: Int, steps: Int, channels: Int, outputs: Int
  ) -> Int {
    let kernel = config.kernelSize ?? 1
    let widths = [
      config.hidden.map { 8 * $0 } ?? 0, 2 * channels, channels * kernel,
      (config.channels ?? 0) * kernel, config.mlp?.max() ?? 0, channels + outputs,
    ]
    return batchSize * steps * widths.max()!
  }

  /// The dropout and augmentation keys of a lane's next step: each stream mixed with the
  /// lane's own step count.
  private func nextStepKeys(_ m: Int) -> (dropout: UInt32, augmentation: UInt32) {
    func key(_ stream: UInt64) -> UInt32 {
      var mixer = SplitMix64(seed: stream ^ (keySteps[m] &* 0xD1B5_4A32_D192_ED03))
      return UInt32(truncatingIfNeeded: mixer.next() >> 32)
    }
    defer { keySteps[m] += 1 }
    return (key(dropoutStreams[m]), key(augmentationStreams[m]))
  }

  /// A lane's scalars for one update: its Adam step count advances.
  private func nextLaneStep(_ m: Int, rows: Int) -> LaneStep {
    adamSteps[m] += 1
    let c = AdamCoefficients(AdamStep(lr: options.learningRate, step: adamSteps[m]))
    return LaneStep(
      count: Float(rows * store.steps * store.outputs), stepSize: c.stepSize,
      sqrtCorrection2: c.sqrtCorrection2, active: true)
  }

  /// Gathers step `s` of a plan into the batch buffers: targets relative to each lane's
  /// base, augmented under `augmentationKeys` (training steps only).
  private func gather(_ indices: BufferSlice, augmentationKeys: BufferSlice? = nil) throws -> (
    x: BufferSlice, y: BufferSlice, mask: BufferSlice
  ) {
    let (K, B, T) = (shape.models, shape.batch, shape.steps)
    let x = try ws.slice("batch.x", K * B * T * shape.selected)
    let y = try ws.slice("batch.y", K * B * T * shape.outputs)
    let mask = try ws.slice("batch.mask", K * B)
    try backend.gatherSequences(
      shape, inputs: BufferSlice(store.inputs), targets: BufferSlice(store.targets),
      indices: indices, channels: BufferSlice(channelWords), mean: BufferSlice(mean),
      scale: BufferSlice(scale),
      residual: residual.map {
        GatherResidual(
          bases: BufferSlice($0.bases), laneBases: BufferSlice($0.laneBases),
          tables: bases.count, storeCount: store.count)
      },
      augmentation: augmentationKeys.map { GatherAugmentation(options.augmentation, keys: $0) },
      x: x, y: y, mask: mask)
    return (x, y, mask)
  }

  /// Per-step index words `[steps][K][B]` (-1: padded row) from per-lane row lists.
  private func indexWords(_ rows: [[[Int]]]) -> [UInt32] {
    let B = shape.batch
    var words: [UInt32] = []
    words.reserveCapacity(rows.count * shape.models * B)
    for step in rows {
      for lane in step {
        for b in 0..<B {
          words.append(b < lane.count ? UInt32(lane[b]) : UInt32(bitPattern: -1))
        }
      }
    }
    return words
  }

  /// One epoch for every active lane in lockstep; inactive lanes (stopped) get no update and
  /// return trainingLoss .nan. Losses are read back once, at the end.
  public func epoch(active: [Bool]) throws -> [LaneEpoch] {
    let (K, B) = (shape.models, shape.batch)
    guard active.count == K else {
      throw ModelError.invalidConfig("lockstep epoch: \(active.count) flags for \(K) lanes")
    }
    // The plan: each active lane's shuffled order in batches of B, padded to the longest.
    var batches: [[[Int]]] = Array(repeating: [], count: K)
    for m in 0..<K where active[m] {
      var order = lanes[m].training
      order.shuffle(using: &shuffles[m])
      batches[m] = stride(from: 0, to: order.count, by: B).map {
        Array(order[$0..<min($0 + B, order.count)])
      }
    }
    let trainSteps = batches.map(\.count).max() ?? 0
    var validation: [[[Int]]] = Array(repeating: [], count: K)
    for m in 0..<K where active[m] {
      let v = lanes[m].validation
      validation[m] = stride(from: 0, to: v.count, by: B).map {
        Array(v[$0..<min($0 + B, v.count)])
      }
    }
    let validationSteps = validation.map(\.count).max() ?? 0
    let total = trainSteps + validationSteps
    guard total > 0 else {
      return (0..<K).map { m in
        LaneEpoch(
          trainingLoss: active[m] && lanes[m].training.isEmpty ? 0 : .nan,
          validationLoss: nil, nonFinite: nil)
      }
    }
    var rows: [[[Int]]] = []
    var steps: [Float] = []
    var keys: [UInt32] = []
    var augmentationKeys: [UInt32] = []
    for s in 0..<trainSteps {
      rows.append((0..<K).map { s < batches[$0].count ? batches[$0][s] : [] })
      for m in 0..<K {
        let real = s < batches[m].count
        steps += real ? nextLaneStep(m, rows: batches[m][s].count).floats : LaneStep.idle.floats
        let stepKeys = real ? nextStepKeys(m) : (dropout: 0, augmentation: 0)
        keys.append(stepKeys.dropout)
        augmentationKeys.append(stepKeys.augmentation)
      }
    }
    for s in 0..<validationSteps {
      rows.append((0..<K).map { s < validation[$0].count ? validation[$0][s] : [] })
      for m in 0..<K {
        let n = s < validation[m].count ? validation[m][s].count : 0
        steps +=
          LaneStep(
            count: Float(n * store.steps * store.outputs), stepSize: 0, sqrtCorrection2: 1,
            active: false
          ).floats
      }
    }
    let indexBuffer = try ws.slice("plan.indices", max(total, 4) * K * B)
    let stepBuffer = try ws.slice("plan.steps", max(total, 4) * K * LaneStep.width)
    let keyBuffer = try ws.slice("plan.keys", max(trainSteps, 4) * K)
    let augment = !options.augmentation.isOff
    let augmentationKeyBuffer = try ws.slice(
      "plan.augmentationKeys", augment ? max(trainSteps, 4) * K : 4)
    // Read back once at the end: each step's per-lane loss sums, then each training step's
    // per-lane squared gradient norms (a non-finite gradient shows there even when a ReLU
    // hides it from the loss),
    // and last each lane's squared weight norm after the epoch (a NaN weight that ReLUs keep
    // out of both).
    let losses = try ws.slice("plan.losses", max(total + trainSteps + 1, 4) * K)
    let norms = losses.advanced(by: total * K)
    try backend.uploadWords(indexWords(rows), to: indexBuffer)
    try backend.upload(steps, to: stepBuffer)
    if !keys.isEmpty { try backend.uploadWords(keys, to: keyBuffer) }
    if augment && !augmentationKeys.isEmpty {
      try backend.uploadWords(augmentationKeys, to: augmentationKeyBuffer)
    }

    let rowWidth = store.steps * store.outputs
    let dy = try ws.slice("dy", K * B * rowWidth)
    for s in 0..<total {
      let training = s < trainSteps
      let (x, y, mask) = try gather(
        indexBuffer.advanced(by: s * K * B),
        augmentationKeys: training && augment ? augmentationKeyBuffer.advanced(by: s * K) : nil)
      let laneSteps = stepBuffer.advanced(by: s * K * LaneStep.width)
      let prediction = try model.forward(
        x, batch: B, steps: store.steps, training: training, seed: 0,
        dropoutKeys: training ? keyBuffer.advanced(by: s * K) : nil, saveForBackward: training)
      try backend.laneMSELoss(
        prediction: prediction, target: y, mask: mask, models: K, rows: B, rowWidth: rowWidth,
        laneSteps: laneSteps, gradient: dy, loss: losses.advanced(by: s * K))
      guard training else { continue }
      _ = try model.backward(dy, inputGradient: false)
      try model.parameters.laneAdamStep(
        laneSteps: laneSteps, norms: norms.advanced(by: s * K), lr: options.learningRate,
        weightDecay: options.weightDecay,
        decoupled: options.decoupledWeightDecay, maxNorm: options.maxGradNorm)
    }
    try model.parameters.laneWeightNormsSquared(into: norms.advanced(by: trainSteps * K))
    let sums = try backend.download(losses, count: (total + trainSteps + 1) * K)

    var results: [LaneEpoch] = []
    for m in 0..<K {
      guard active[m] else {
        results.append(LaneEpoch(trainingLoss: .nan, validationLoss: nil, nonFinite: nil))
        continue
      }
      let perStep = Double(rowWidth)
      var sse = 0.0
      lastStepLosses[m] = []
      for (s, batch) in batches[m].enumerated() {
        let value = Double(sums[s * K + m])
        sse += value
        lastStepLosses[m].append(Float(value / (Double(batch.count) * perStep)))
      }
      let trainingLoss =
        lanes[m].training.isEmpty ? 0 : sse / (Double(lanes[m].training.count) * perStep)
      var validationLoss: Double?
      if !lanes[m].validation.isEmpty {
        var vse = 0.0
        for s in 0..<validation[m].count { vse += Double(sums[(trainSteps + s) * K + m]) }
        validationLoss = vse / (Double(lanes[m].validation.count) * perStep)
      }
      var nonFinite: String?
      let gradientsFinite = (0..<batches[m].count).allSatisfy {
        sums[(total + $0) * K + m].isFinite
      }
      let weightsFinite = sums[(total + trainSteps) * K + m].isFinite
      if !trainingLoss.isFinite || !(validationLoss?.isFinite ?? true) || !gradientsFinite
        || !weightsFinite
      {
        nonFinite = try firstNonFinite(lane: m)
      }
      results.append(
        LaneEpoch(
          trainingLoss: trainingLoss, validationLoss: validationLoss, nonFinite: nonFinite))
    }
    return results
  }

  /// The first of the lane's gradients, then weights, holding a NaN or an infinity.
  func firstNonFinite(lane m: Int) throws -> String {
    let p = model.parameters
    for t in p.layout.tensors
    where try p.read(t.name, model: m, gradient: true).contains(where: { !$0.isFinite }) {
      return "gradient of \(t.name)"
    }
    for t in p.layout.tensors
    where try p.read(t.name, model: m).contains(where: { !$0.isFinite }) {
      return t.name
    }
    return "loss"
  }

  private func laneRanges(_ m: Int) -> [(offset: Int, count: Int)] {
    model.parameters.layout.blocks.map { ($0.offset + m * $0.perModel, $0.perModel) }
  }

  /// Remembers the lane's current weights as its best.
  public func saveBest(lane: Int) throws {
    precondition((0..<laneCount).contains(lane))
    let p = model.parameters
    if best == nil { best = try backend.makeBuffer(count: p.layout.count) }
    for r in laneRanges(lane) {
      try backend.copy(
        from: BufferSlice(p.values, offset: r.offset), to: BufferSlice(best!, offset: r.offset),
        count: r.count)
    }
    hasBest[lane] = true
  }

  /// Puts the remembered weights back (no-op if never saved).
  public func restoreBest(lane: Int) throws {
    precondition((0..<laneCount).contains(lane))
    guard hasBest[lane], let best else { return }
    let p = model.parameters
    for r in laneRanges(lane) {
      try backend.copy(
        from: BufferSlice(best, offset: r.offset), to: BufferSlice(p.values, offset: r.offset),
        count: r.count)
    }
  }

  /// Predictions `[indices.count][T][outputs]` in BW for one lane, dropout off, the lane's
  /// normalisation applied to inputs, no augmentation, the lane's base added back.
  public func predict(lane: Int, indices: [Int]) throws -> [Float] {
    precondition((0..<laneCount).contains(lane))
    guard indices.allSatisfy({ (0..<store.count).contains($0) }) else {
      throw ModelError.invalidConfig("predict: a sequence index outside 0..<\(store.count)")
    }
    let (K, B) = (shape.models, shape.batch)
    let rowWidth = store.steps * store.outputs
    var out: [Float] = []
    out.reserveCapacity(indices.count * rowWidth)
    let indexBuffer = try ws.slice("predict.indices", K * B)
    for start in stride(from: 0, to: indices.count, by: B) {
      let chunk = Array(indices[start..<min(start + B, indices.count)])
      var rows = Array(repeating: [Int](), count: K)
      rows[lane] = chunk
      try backend.uploadWords(indexWords([rows]), to: indexBuffer)
      let (x, _, _) = try gather(indexBuffer)
      let y = try model.infer(x, batch: B, steps: store.steps)
      var values = try backend.download(
        y.advanced(by: lane * B * rowWidth), count: chunk.count * rowWidth)
      if let base = lanes[lane].base {
        for (row, index) in chunk.enumerated() {
          for i in 0..<rowWidth { values[row * rowWidth + i] += bases[base][index * rowWidth + i] }
        }
      }
      out += values
    }
    return out
  }
}

/// The independent streams a lane derives from its seed.
enum LaneStreamPurpose: UInt64 {
  case initialisation = 1
  case shuffling = 2
  case dropout = 3
  case augmentation = 4
}

func laneStream(_ seed: UInt64, _ purpose: LaneStreamPurpose) -> UInt64 {
  var mixer = SplitMix64(seed: seed ^ (purpose.rawValue &* 0x9E37_79B9_7F4A_7C15))
  return mixer.next()
}
