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
  /// Initialisation, shuffling and dropout streams all derive from it.
  public var seed: UInt64

  public init(training: [Int], validation: [Int], mean: [Float], scale: [Float], seed: UInt64) {
    self.training = training
    self.validation = validation
    self.mean = mean
    self.scale = scale
    self.seed = seed
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

/// Trains `lanes.count` models of one architecture in lockstep as one computation.
public final class LockstepTrainer {
  public let model: SequenceModel
  public let options: LockstepOptions
  public let store: SequenceStore
  public let channels: [Int]
  public let lanes: [LaneSpec]
  public var laneCount: Int { lanes.count }

  /// `channels`: indices of the store's input channels this group uses (LOFO input sets),
  /// the same for every lane.
  public init(
    config: ModelConfig, backend: ComputeBackend, store: SequenceStore, channels: [Int],
    lanes: [LaneSpec], options: LockstepOptions
  ) throws {
    self.options = options
    self.store = store
    self.channels = channels
    self.lanes = lanes
    model = try makeModel(config, backend: backend, models: max(lanes.count, 1))
  }

  /// One epoch for every active lane in lockstep; inactive lanes (stopped) get no update and
  /// return trainingLoss .nan.
  public func epoch(active: [Bool]) throws -> [LaneEpoch] {
    throw ModelError.invalidConfig("LockstepTrainer.epoch: not implemented yet")
  }

  /// Remembers the lane's current weights as its best.
  public func saveBest(lane: Int) throws {}

  /// Puts the remembered weights back (no-op if never saved).
  public func restoreBest(lane: Int) throws {}

  /// Predictions `[indices.count][T][outputs]` in BW for one lane, dropout off, the lane's
  /// normalisation applied to inputs.
  public func predict(lane: Int, indices: [Int]) throws -> [Float] {
    throw ModelError.invalidConfig("LockstepTrainer.predict: not implemented yet")
  }
}
