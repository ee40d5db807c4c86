import KneeForceCompute
import XCTest

@testable import KneeForceModels

/// The CPU backend's own kernels (packed GEMM for products against weights, packed recurrent
/// products) give, at sizes where they engage (batch x steps >= 256 rows), what OpenBLAS gives
/// for whole models: outputs, input gradients and every parameter gradient. The PyTorch
/// fixtures are too small to reach these paths.
final class CPUKernelChoiceTests: XCTestCase {
  func run(_ config: ModelConfig, packed: Bool) throws -> [String: [Float]] {
    let backend = CPUBackend()
    backend.usePackedGemm = packed
    backend.recurrentKernel = packed ? .packed : .blas
    let (batch, steps) = (5, 61)
    let model = try makeModel(config, backend: backend, models: 2, seed: 3)
    var rng = SplitMix64(seed: 9)
    let x = (0..<(2 * batch * steps * config.inputs)).map { _ in rng.nextGaussian() }
    let dy = (0..<(2 * batch * steps * config.outputs)).map { _ in rng.nextGaussian() }
    let y = try backend.download(
      try model.forward(
        BufferSlice(try backend.makeBuffer(x)), batch: batch, steps: steps, training: true,
        seed: 5), count: dy.count)
    let dx = try backend.download(
      try model.backward(BufferSlice(try backend.makeBuffer(dy)), inputGradient: true)!,
      count: x.count)
    var result = ["y": y, "dx": dx]
    for t in model.parameters.layout.tensors {
      for m in 0..<2 {
        result["\(t.name)[\(m)]"] = try model.parameters.read(t.name, model: m, gradient: true)
      }
    }
    return result
  }

  func testOwnKernelsMatchOpenBLASOnWholeModels() throws {
    for config in [
      ModelConfig.bilstmMLP(inputs: 40, outputs: 3, hidden: 24, layers: 2, mlp: [48, 32]),
      ModelConfig.tcn(inputs: 40, outputs: 3, channels: 48, levels: 3, kernelSize: 3),
    ] {
      let ours = try run(config, packed: true)
      let blas = try run(config, packed: false)
      XCTAssertEqual(ours.count, blas.count)
      for (name, values) in blas {
        XCTAssertLessThanOrEqual(
          relativeError(ours[name]!, values), 1e-5, "\(config.model) \(name)")
      }
    }
  }
}
