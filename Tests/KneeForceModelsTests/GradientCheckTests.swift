import KneeForceCompute
import XCTest

@testable import KneeForceModels

/// Central finite differences of L = sum(y * dy) against the analytic gradients, for sampled
/// parameters and inputs of tiny models, on both backends (independent of the PyTorch fixtures).
final class GradientCheckTests: XCTestCase {
  func check(_ config: ModelConfig, batch: Int, steps: Int) throws {
    for backend in try TestBackends.all() {
      let model = try makeModel(config, backend: backend, seed: 11)
      var rng = SplitMix64(seed: 5)
      let x = (0..<(batch * steps * config.inputs)).map { _ in rng.nextGaussian() }
      let dy = (0..<(batch * steps * config.outputs)).map { _ in rng.nextGaussian() }
      let xb = try backend.makeBuffer(x)
      let dyb = try backend.makeBuffer(dy)
      func loss() throws -> Double {
        let y = try backend.download(
          try model.forward(BufferSlice(xb), batch: batch, steps: steps, training: false, seed: 0),
          count: dy.count)
        return zip(y, dy).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
      }
      _ = try loss()
      let dx = try backend.download(
        try model.backward(BufferSlice(dyb), inputGradient: true)!, count: x.count)
      let grads = try backend.download(model.parameters.gradients)
      var params = try model.parameters.readAll()
      let eps: Float = 1e-3
      var checked = 0
      for index in (0..<24).map({ _ in Int(rng.next() % UInt64(params.count)) }) {
        let saved = params[index]
        params[index] = saved + eps
        try model.parameters.writeAll(params)
        let plus = try loss()
        params[index] = saved - eps
        try model.parameters.writeAll(params)
        let minus = try loss()
        params[index] = saved
        try model.parameters.writeAll(params)
        let numeric = Float((plus - minus) / Double(2 * eps))
        XCTAssertEqual(
          grads[index], numeric, accuracy: 2e-3 * max(1, abs(numeric)),
          "\(config.model) on \(backend.kind): parameter \(index)")
        checked += 1
      }
      var xs = x
      for index in (0..<12).map({ _ in Int(rng.next() % UInt64(x.count)) }) {
        let saved = xs[index]
        xs[index] = saved + eps
        try backend.upload(xs, to: BufferSlice(xb))
        let plus = try loss()
        xs[index] = saved - eps
        try backend.upload(xs, to: BufferSlice(xb))
        let minus = try loss()
        xs[index] = saved
        try backend.upload(xs, to: BufferSlice(xb))
        let numeric = Float((plus - minus) / Double(2 * eps))
        XCTAssertEqual(
          dx[index], numeric, accuracy: 2e-3 * max(1, abs(numeric)),
          "\(config.model) on \(backend.kind): input \(index)")
        checked += 1
      }
      XCTAssertEqual(checked, 36)
    }
  }

  func testBiLSTMMLPGradients() throws {
    try check(.bilstmMLP(inputs: 3, hidden: 4, layers: 2, mlp: [5, 4]), batch: 2, steps: 5)
  }

  func testTCNGradients() throws {
    try check(.tcn(inputs: 3, channels: 4, levels: 3, kernelSize: 3), batch: 2, steps: 9)
  }
}
