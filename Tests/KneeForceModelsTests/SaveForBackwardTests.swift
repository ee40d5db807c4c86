import KneeForceCompute
import XCTest

@testable import KneeForceModels

/// The non-saving forward (inference, validation, predict) and the rules that keep a backward
/// from using activations that are not those of its forward.
final class SaveForBackwardTests: XCTestCase {
  static let configs: [ModelConfig] = [
    .bilstmMLP(inputs: 4, outputs: 3, hidden: 5, layers: 2, mlp: [6, 7]),
    .tcn(inputs: 4, outputs: 3, channels: 6, levels: 2, kernelSize: 3),
  ]

  func testInferenceEqualsTheSavingForward() throws {
    for backend in try TestBackends.all() {
      for config in Self.configs {
        let (batch, steps) = (3, 9)
        let model = try makeModel(config, backend: backend, models: 2, seed: 4)
        let x = try backend.makeBuffer(values(2 * batch * steps * config.inputs, seed: 5))
        let count = 2 * batch * steps * config.outputs
        let saving = try backend.download(
          try model.forward(BufferSlice(x), batch: batch, steps: steps, training: false, seed: 0),
          count: count)
        let inferred = try backend.download(
          try model.infer(BufferSlice(x), batch: batch, steps: steps), count: count)
        XCTAssertEqual(inferred, saving, "\(config.model) on \(backend.kind)")
      }
    }
  }

  func assertUsageError(
    _ body: @autoclosure () throws -> Any?, _ expected: String, _ what: String,
    line: UInt = #line
  ) {
    XCTAssertThrowsError(try body(), what, line: line) { error in
      XCTAssertTrue(error is ModelUsageError, "\(what): \(error)", line: line)
      XCTAssertTrue("\(error)".contains(expected), "\(what): \(error)", line: line)
    }
  }

  func testBackwardNeedsExactlyOneSavingForward() throws {
    let backend = TestBackends.cpu
    for config in Self.configs {
      let (batch, steps) = (2, 5)
      let model = try makeModel(config, backend: backend, seed: 1)
      let x = BufferSlice(try backend.makeBuffer(values(batch * steps * config.inputs, seed: 2)))
      let dy = BufferSlice(
        try backend.makeBuffer(values(batch * steps * config.outputs, seed: 3)))
      let what = "\(config.model)"
      assertUsageError(try model.backward(dy, inputGradient: true), "no forward has run", what)

      _ = try model.forward(x, batch: batch, steps: steps, training: true, seed: 1)
      let first = try backend.download(model.backward(dy, inputGradient: true)!, count: 10)
      assertUsageError(
        try model.backward(dy, inputGradient: true), "backward already ran", "\(what) twice")

      _ = try model.forward(x, batch: batch, steps: steps, training: true, seed: 1)
      _ = try model.infer(x, batch: batch, steps: steps)
      assertUsageError(
        try model.backward(dy, inputGradient: true), "saveForBackward: false",
        "\(what) after infer")

      _ = try model.forward(x, batch: batch, steps: steps, training: true, seed: 1)
      _ = try model.forward(x, batch: batch, steps: steps, training: true, seed: 1)
      assertUsageError(
        try model.backward(dy, inputGradient: true), "two saving forwards",
        "\(what) after two forwards")

      // The model stays usable: forward, backward as before, same gradients.
      _ = try model.forward(x, batch: batch, steps: steps, training: true, seed: 1)
      let again = try backend.download(model.backward(dy, inputGradient: true)!, count: 10)
      XCTAssertEqual(again, first, what)
    }
  }
}

private func values(_ count: Int, seed: UInt64) -> [Float] {
  var rng = SplitMix64(seed: seed)
  return (0..<count).map { _ in rng.nextFloat(in: -1...1) }
}
