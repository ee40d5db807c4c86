import KneeForceCompute
import XCTest

@testable import KneeForceModels

/// Several models in lockstep (the layout that lets leave-one-subject-out folds share GEMMs):
/// two models run as one, with weights `[models][...]` and data `[models][B][T][...]`, must
/// give exactly what each gives alone: outputs, input gradients, parameter gradients and an
/// Adam step, on both backends.
final class FoldBatchingTests: XCTestCase {
  func check(_ config: ModelConfig, batch: Int, steps: Int) throws {
    for backend in try TestBackends.all() {
      let singles = try (0..<2).map {
        try makeModel(config, backend: backend, models: 1, seed: UInt64(10 + $0))
      }
      let pair = try makeModel(config, backend: backend, models: 2, seed: 99)
      for (m, single) in singles.enumerated() {
        for t in single.parameters.layout.tensors {
          try pair.parameters.write(t.name, try single.parameters.read(t.name), model: m)
        }
      }
      let xs = (0..<2).map { randoms(batch * steps * config.inputs, seed: UInt64(20 + $0)) }
      let dys = (0..<2).map { randoms(batch * steps * config.outputs, seed: UInt64(30 + $0)) }
      let yCount = batch * steps * config.outputs
      let xCount = batch * steps * config.inputs

      let pairY = try backend.download(
        try pair.forward(
          BufferSlice(try backend.makeBuffer(xs[0] + xs[1])), batch: batch, steps: steps,
          training: false, seed: 0), count: 2 * yCount)
      let pairDx = try backend.download(
        try pair.backward(
          BufferSlice(try backend.makeBuffer(dys[0] + dys[1])), inputGradient: true)!,
        count: 2 * xCount)
      for (m, single) in singles.enumerated() {
        let what = "\(config.model) model \(m) on \(backend.kind)"
        let y = try backend.download(
          try single.forward(
            BufferSlice(try backend.makeBuffer(xs[m])), batch: batch, steps: steps,
            training: false, seed: 0), count: yCount)
        assertClose(
          Array(pairY[(m * yCount)..<((m + 1) * yCount)]), y, "\(what) y", tolerance: 1e-6)
        let dx = try backend.download(
          try single.backward(BufferSlice(try backend.makeBuffer(dys[m])), inputGradient: true)!,
          count: xCount)
        assertClose(
          Array(pairDx[(m * xCount)..<((m + 1) * xCount)]), dx, "\(what) dx", tolerance: 1e-6)
        for t in single.parameters.layout.tensors {
          assertClose(
            try pair.parameters.read(t.name, model: m, gradient: true),
            try single.parameters.read(t.name, gradient: true), "\(what) grad \(t.name)",
            tolerance: 1e-6)
        }
      }
      // Adam steps, clipped per model by a norm below each model's own gradient norm, update
      // each model as if alone (a global norm over both would clip them differently). Adam
      // is nearly blind to a gradient's scale, so a large eps makes the clip factor show.
      let norms = try singles.map { try $0.parameters.gradientNorm() }
      let maxNorm = 0.5 * norms.min()!
      try pair.parameters.adamStep(lr: 1e-2, eps: 0.1, weightDecay: 0.01, maxNorm: maxNorm)
      for (m, single) in singles.enumerated() {
        try single.parameters.adamStep(lr: 1e-2, eps: 0.1, weightDecay: 0.01, maxNorm: maxNorm)
        for t in single.parameters.layout.tensors {
          assertClose(
            try pair.parameters.read(t.name, model: m), try single.parameters.read(t.name),
            "\(config.model) model \(m) on \(backend.kind) adam \(t.name)", tolerance: 1e-6)
        }
      }
    }
  }

  func testTwoBiLSTMMLPsInLockstepEqualTwoAlone() throws {
    try check(.bilstmMLP(inputs: 3, hidden: 5, layers: 2, mlp: [6, 4]), batch: 3, steps: 7)
  }

  func testTwoTCNsInLockstepEqualTwoAlone() throws {
    try check(.tcn(inputs: 3, channels: 5, levels: 3, kernelSize: 3), batch: 3, steps: 9)
  }
}

private func randoms(_ count: Int, seed: UInt64) -> [Float] {
  var rng = SplitMix64(seed: seed)
  return (0..<count).map { _ in rng.nextGaussian() }
}
