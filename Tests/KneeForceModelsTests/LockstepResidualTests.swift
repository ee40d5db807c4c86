import KneeForceCompute
import XCTest

@testable import KneeForceModels

/// The small-cohort recipe's trainer side: residual targets from base curves, a zeroed
/// output layer and training-only augmentation.
extension LockstepTrainerTests {
  static let augmentation = Augmentation(noise: 0.1, offset: 0.2, gain: 0.1, timeWarp: 0.3)

  /// Two base tables `[count][steps][outputs]`: one near the targets (as an aligned curve
  /// would be), one unrelated.
  static let bases: [[Float]] = {
    var rng = SplitMix64(seed: 88)
    let near = data.y.map { 0.8 * $0 + 0.1 * rng.nextGaussian() }
    let other = data.y.map { _ in rng.nextGaussian() }
    return [near, other]
  }()

  /// A lane on base B with targets Y trains bitwise as a lane without base on targets
  /// Y - B, time warp included (the gather forms the residual before it interpolates), and
  /// its predictions are those plus B.
  func testResidualTargetsTrainLikeShiftedTargets() throws {
    var options = Self.options
    options.augmentation = Self.augmentation
    let base = Self.bases[0]
    let shifted = zip(Self.data.y, base).map { $0 - $1 }
    var onBase = Self.lanes
    for m in onBase.indices { onBase[m].base = 0 }
    let indices = [3, 12, 5, 0, 9, 1]
    for backend in try TestBackends.all() {
      for config in Self.configs {
        let what = "\(config.model) on \(backend.kind)"
        let a = try trainer(config, backend, lanes: onBase, options: options, bases: Self.bases)
        let b = try trainer(config, backend, lanes: Self.lanes, options: options, targets: shifted)
        for _ in 0..<2 {
          let ra = try a.epoch(active: [true, true, true])
          let rb = try b.epoch(active: [true, true, true])
          for m in 0..<3 {
            XCTAssertEqual(ra[m].trainingLoss, rb[m].trainingLoss, "\(what) lane \(m)")
            XCTAssertEqual(ra[m].validationLoss, rb[m].validationLoss, "\(what) lane \(m)")
          }
        }
        for m in 0..<3 {
          assertBitwise(try weights(a, lane: m), try weights(b, lane: m), "\(what) lane \(m)")
          let residual = try b.predict(lane: m, indices: indices)
          let width = Self.steps * Self.outputs
          let expected = indices.enumerated().flatMap { row, index in
            (0..<width).map { residual[row * width + $0] + base[index * width + $0] }
          }
          assertBitwise(
            try a.predict(lane: m, indices: indices), expected, "\(what) lane \(m) predict")
        }
      }
    }
  }

  /// With the output layer zeroed, every lane starts exactly at its base curve (zero
  /// without one), and gradients still reach the layer: one epoch moves it.
  func testZeroOutputLayerStartsAtTheBase() throws {
    var options = Self.options
    options.zeroOutputLayer = true
    var lanes = Self.lanes
    (lanes[0].base, lanes[1].base) = (1, 0)
    let indices = [2, 7, 13]
    let width = Self.steps * Self.outputs
    for backend in try TestBackends.all() {
      for config in Self.configs {
        let what = "\(config.model) on \(backend.kind)"
        let t = try trainer(config, backend, lanes: lanes, options: options, bases: Self.bases)
        var starts: [[Float]] = []
        for (m, lane) in lanes.enumerated() {
          let expected = indices.flatMap { index in
            lane.base.map { Array(Self.bases[$0][(index * width)..<((index + 1) * width)]) }
              ?? Array(repeating: 0, count: width)
          }
          starts.append(try t.predict(lane: m, indices: indices))
          assertBitwise(starts[m], expected, "\(what) lane \(m) starts at its base")
        }
        let plain = try trainer(config, backend, lanes: lanes, bases: Self.bases)
        XCTAssertNotEqual(
          try plain.predict(lane: 0, indices: indices), starts[0],
          "\(what): without zeroing, the network adds to the base")
        _ = try t.epoch(active: [true, true, true])
        let layer = outputLayerTensors(t.model)
        for m in 0..<3 {
          XCTAssertNotEqual(try t.predict(lane: m, indices: indices), starts[m], what)
          XCTAssertTrue(
            try layer.contains { try t.model.parameters.read($0, model: m).contains { $0 != 0 } },
            "\(what) lane \(m): output layer still zero after an epoch")
        }
      }
    }
  }

  /// Augmentation touches training batches only: with a zero learning rate (weights fixed)
  /// it changes the training loss but neither the validation loss nor predictions.
  func testAugmentationOnlyInTraining() throws {
    var still = Self.options
    still.learningRate = 0
    var augmented = still
    augmented.augmentation = Self.augmentation
    for backend in try TestBackends.all() {
      for config in Self.configs {
        let what = "\(config.model) on \(backend.kind)"
        let a = try trainer(config, backend, lanes: Self.lanes, options: still)
        let b = try trainer(config, backend, lanes: Self.lanes, options: augmented)
        let ra = try a.epoch(active: [true, true, true])
        let rb = try b.epoch(active: [true, true, true])
        for m in 0..<3 {
          XCTAssertNotEqual(ra[m].trainingLoss, rb[m].trainingLoss, "\(what) lane \(m)")
          XCTAssertEqual(ra[m].validationLoss, rb[m].validationLoss, "\(what) lane \(m)")
          assertBitwise(
            try b.predict(lane: m, indices: [0, 11]), try a.predict(lane: m, indices: [0, 11]),
            "\(what) lane \(m) predict")
        }
      }
    }
  }
}
