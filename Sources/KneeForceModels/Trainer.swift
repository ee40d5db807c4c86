import Foundation
import KneeForceCompute

/// Sequences resident on the device: inputs `[N][T][inputs]`, targets `[N][T][outputs]`,
/// already normalised. A thin wrapper over `SequenceStore` for single-model training.
public final class DeviceSequences {
  public let count: Int
  public let steps: Int
  public let inputs: Int
  public let outputs: Int
  let store: SequenceStore

  public init(
    backend: ComputeBackend, x: [Float], y: [Float], count: Int, steps: Int, inputs: Int,
    outputs: Int
  ) throws {
    store = try SequenceStore(
      backend: backend, inputs: x, targets: y, count: count, steps: steps, channels: inputs,
      outputs: outputs)
    self.count = count
    self.steps = steps
    self.inputs = inputs
    self.outputs = outputs
  }
}

public struct TrainingOptions: Sendable {
  public var learningRate: Float = 1e-3
  public var weightDecay: Float = 0
  /// AdamW instead of Adam with L2.
  public var decoupledWeightDecay = false
  /// Global gradient-norm clipping; 0 disables.
  public var maxGradNorm: Float = 1
  public var batchSize = 64
  public var seed: UInt64 = 0

  public init() {}
}

/// Mini-batch training of one model with MSE loss (in BW), gradient-norm clipping and Adam:
/// the lockstep trainer with one lane over all of `data`, the model as given (already
/// initialised), inputs as they are (mean 0, scale 1).
public final class Trainer {
  public let model: SequenceModel
  public let options: TrainingOptions
  private var training: (data: DeviceSequences, trainer: LockstepTrainer)?

  public init(model: SequenceModel, options: TrainingOptions) {
    self.model = model
    self.options = options
  }

  private func lockstep(_ data: DeviceSequences, keep: Bool) throws -> LockstepTrainer {
    if let training, training.data === data { return training.trainer }
    var settings = LockstepOptions()
    settings.learningRate = options.learningRate
    settings.weightDecay = options.weightDecay
    settings.decoupledWeightDecay = options.decoupledWeightDecay
    settings.maxGradNorm = options.maxGradNorm
    settings.batchSize = options.batchSize
    let lane = LaneSpec(
      training: Array(0..<data.count), validation: [],
      mean: Array(repeating: 0, count: data.inputs), scale: Array(repeating: 1, count: data.inputs),
      seed: options.seed)
    let trainer = try LockstepTrainer(
      model: model, store: data.store, channels: Array(0..<data.inputs), lanes: [lane],
      options: settings)
    if keep { training = (data, trainer) }
    return trainer
  }

  /// One pass over the data in a seeded random order; returns each step's training loss
  /// (read back once, at the end of the epoch).
  @discardableResult
  public func epoch(_ data: DeviceSequences) throws -> [Float] {
    let trainer = try lockstep(data, keep: true)
    _ = try trainer.epoch(active: [true])
    return trainer.lastStepLosses[0]
  }

  /// Predictions for every sequence, in order, dropout off.
  public func predict(_ data: DeviceSequences) throws -> [Float] {
    try lockstep(data, keep: false).predict(lane: 0, indices: Array(0..<data.count))
  }
}
