import Foundation
import KneeForceCompute

/// Sequences resident on the device: inputs `[N][T][inputs]`, targets `[N][T][outputs]`.
/// Uploaded once; batches are gathered on the device, so an epoch moves no data from the host.
public final class DeviceSequences {
  public let count: Int
  public let steps: Int
  public let inputs: Int
  public let outputs: Int
  let x: DeviceBuffer
  let y: DeviceBuffer

  public init(
    backend: ComputeBackend, x: [Float], y: [Float], count: Int, steps: Int, inputs: Int,
    outputs: Int
  ) throws {
    precondition(x.count == count * steps * inputs && y.count == count * steps * outputs)
    self.count = count
    self.steps = steps
    self.inputs = inputs
    self.outputs = outputs
    self.x = try backend.makeBuffer(x)
    self.y = try backend.makeBuffer(y)
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

/// Mini-batch training with MSE loss (averaged over every target value, in BW), global-norm
/// clipping and Adam, the same sequence of operations on every backend.
public final class Trainer {
  public let model: SequenceModel
  public let options: TrainingOptions
  let backend: ComputeBackend
  let ws: Workspace
  private var rng: SplitMix64
  private var stepCount: UInt32 = 0

  public init(model: SequenceModel, options: TrainingOptions) {
    self.model = model
    self.options = options
    backend = model.parameters.backend
    ws = Workspace(backend: backend)
    rng = SplitMix64(seed: options.seed ^ 0x5eed)
  }

  /// Copies the chosen sequences into contiguous batch buffers on the device.
  func gather(_ data: DeviceSequences, _ indices: ArraySlice<Int>) throws -> (
    BufferSlice, BufferSlice
  ) {
    let b = indices.count
    let xw = data.steps * data.inputs
    let yw = data.steps * data.outputs
    let xb = try ws.slice("batch.x", b * xw)
    let yb = try ws.slice("batch.y", b * yw)
    for (row, index) in indices.enumerated() {
      try backend.copy(
        from: BufferSlice(data.x, offset: index * xw), to: xb.advanced(by: row * xw), count: xw)
      try backend.copy(
        from: BufferSlice(data.y, offset: index * yw), to: yb.advanced(by: row * yw), count: yw)
    }
    return (xb, yb)
  }

  /// One optimisation step on the given sequences; the loss is left on the device at `loss`.
  public func step(_ data: DeviceSequences, indices: ArraySlice<Int>, loss: BufferSlice) throws {
    let (xb, yb) = try gather(data, indices)
    let batch = indices.count
    stepCount &+= 1
    let y = try model.forward(
      xb, batch: batch, steps: data.steps, training: true,
      seed: UInt32(truncatingIfNeeded: options.seed) &+ stepCount)
    let count = batch * data.steps * data.outputs
    let dy = try ws.slice("dy", count)
    try backend.mseLoss(prediction: y, target: yb, count: count, gradient: dy, loss: loss)
    _ = try model.backward(dy, inputGradient: false)
    try model.parameters.adamStep(
      lr: options.learningRate, weightDecay: options.weightDecay,
      decoupled: options.decoupledWeightDecay, maxNorm: options.maxGradNorm)
  }

  /// One pass over the data in a seeded random order; returns each step's training loss
  /// (read back once, at the end of the epoch).
  @discardableResult
  public func epoch(_ data: DeviceSequences) throws -> [Float] {
    var order = Array(0..<data.count)
    order.shuffle(using: &rng)
    let batches = stride(from: 0, to: data.count, by: options.batchSize).map {
      order[$0..<min($0 + options.batchSize, data.count)]
    }
    let losses = try ws.slice("losses", max(batches.count, 1))
    for (i, indices) in batches.enumerated() {
      try step(data, indices: indices, loss: losses.advanced(by: i))
    }
    return try backend.download(losses, count: batches.count)
  }

  /// Predictions for every sequence, in order, dropout off.
  public func predict(_ data: DeviceSequences) throws -> [Float] {
    var out: [Float] = []
    out.reserveCapacity(data.count * data.steps * data.outputs)
    for start in stride(from: 0, to: data.count, by: options.batchSize) {
      let indices = start..<min(start + options.batchSize, data.count)
      let (xb, _) = try gather(data, Array(indices)[...])
      let y = try model.forward(
        xb, batch: indices.count, steps: data.steps, training: false, seed: 0)
      out += try backend.download(y, count: indices.count * data.steps * data.outputs)
    }
    return out
  }
}
