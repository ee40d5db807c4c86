import KneeForceCompute
import XCTest

@testable import KneeForceModels

/// A short training run on a learnable toy signal: the loss must fall by a stated factor on
/// both backends, and the two backends must take the same path, step by step.
final class TrainingTests: XCTestCase {
  /// Smooth random inputs; targets are a causal moving average, a product and a leaky
  /// integral of them: learnable by both networks, not by a per-step linear map alone.
  static func toyData(count: Int, steps: Int) -> (x: [Float], y: [Float]) {
    var rng = SplitMix64(seed: 3)
    var x: [Float] = []
    var y: [Float] = []
    for _ in 0..<count {
      var state: [Float] = [0, 0, 0]
      var integral: Float = 0
      var window: [Float] = []
      for _ in 0..<steps {
        for c in 0..<3 { state[c] = 0.8 * state[c] + 0.6 * rng.nextGaussian() }
        x += state
        window.append(state[0])
        if window.count > 3 { window.removeFirst() }
        integral = 0.7 * integral + 0.3 * state[2]
        y += [window.reduce(0, +) / Float(window.count), state[1] * state[2], integral]
      }
    }
    return (x, y)
  }

  func train(_ config: ModelConfig, backend: ComputeBackend, steps: Int) throws -> [Float] {
    let (count, length) = (16, 12)
    let (x, y) = Self.toyData(count: count, steps: length)
    let data = try DeviceSequences(
      backend: backend, x: x, y: y, count: count, steps: length, inputs: 3, outputs: 3)
    let model = try makeModel(config, backend: backend, seed: 1)
    var options = TrainingOptions()
    options.learningRate = 1e-2
    options.batchSize = 8
    let trainer = Trainer(model: model, options: options)
    var losses: [Float] = []
    for _ in 0..<steps { losses += try trainer.epoch(data) }
    return losses
  }

  func checkLearns(_ config: ModelConfig, epochs: Int, factor: Float) throws {
    var runs: [(BackendKind, [Float])] = []
    for backend in try TestBackends.all() {
      let losses = try train(config, backend: backend, steps: epochs)
      let first = losses.prefix(2).reduce(0, +) / 2
      let last = losses.suffix(2).reduce(0, +) / 2
      XCTAssert(
        last * factor <= first,
        "\(config.model) on \(backend.kind): loss \(first) -> \(last), expected a \(factor)x drop")
      runs.append((backend.kind, losses))
    }
    guard runs.count == 2 else { return }
    for (step, (a, b)) in zip(runs[0].1, runs[1].1).enumerated() {
      XCTAssertEqual(
        a, b, accuracy: 1e-3 * max(abs(a), 1e-3),
        "\(config.model): step \(step) loss differs between cpu and opencl")
    }
  }

  func testBiLSTMMLPLearnsToySignal() throws {
    try checkLearns(
      .bilstmMLP(inputs: 3, hidden: 12, layers: 1, mlp: [16, 8], dropout: 0.1), epochs: 60,
      factor: 4)
  }

  func testTCNLearnsToySignal() throws {
    try checkLearns(
      .tcn(inputs: 3, channels: 12, levels: 2, kernelSize: 3, dropout: 0.1), epochs: 60,
      factor: 4)
  }
}
