import KneeForceCompute
import XCTest

@testable import KneeForceModels

/// The fold-batched trainer: a lane trained among others is bitwise the lane trained alone
/// (dropout on, lanes of different sizes, one stopped part-way), on both backends and with
/// 1 or 2 CPU threads; stopped lanes do not move; best weights round-trip; a lane that turns
/// non-finite is reported while the others go on untouched.
final class LockstepTrainerTests: XCTestCase {
  static let (count, steps, storeChannels, outputs) = (14, 6, 4, 2)
  static let channels = [0, 2, 3]

  /// Raw inputs with per-channel offsets and scales (so z-scores matter) and targets that
  /// depend on the selected channels.
  static let data: (x: [Float], y: [Float]) = {
    var rng = SplitMix64(seed: 77)
    var x: [Float] = []
    var y: [Float] = []
    for _ in 0..<(count * steps) {
      let row = (0..<storeChannels).map { c in Float(c) * 2 + Float(c + 1) * rng.nextGaussian() }
      x += row
      y += [0.3 * row[0] - 0.1 * row[2], 0.2 * row[3] + 0.05 * row[0] * row[2]]
    }
    return (x, y)
  }()

  static let lanes: [LaneSpec] = [
    LaneSpec(
      training: [0, 1, 2, 3, 4, 5, 6], validation: [12, 13], mean: [0, 4, 6],
      scale: [1, 0.3, 0.25],
      seed: 101),
    LaneSpec(
      training: Array(0..<11), validation: [11], mean: [0.1, 3.9, 6.2], scale: [0.9, 0.35, 0.2],
      seed: 102),
    LaneSpec(
      training: [7, 8, 9, 10, 11], validation: [], mean: [-0.2, 4.1, 5.8], scale: [1.1, 0.3, 0.3],
      seed: 103),
  ]

  /// Epoch by epoch, which lanes train: the third stops after two epochs.
  static let schedule: [[Bool]] = [[true, true, true], [true, true, true], [true, true, false]]

  static var options: LockstepOptions {
    var o = LockstepOptions()
    o.learningRate = 1e-2
    o.weightDecay = 1e-3
    o.maxGradNorm = 0.5
    o.batchSize = 4
    return o
  }

  static let configs: [ModelConfig] = [
    .bilstmMLP(inputs: 3, outputs: 2, hidden: 5, layers: 2, mlp: [6, 4], dropout: 0.2),
    .tcn(inputs: 3, outputs: 2, channels: 5, levels: 2, kernelSize: 3, dropout: 0.2),
  ]

  static func backends() throws -> [ComputeBackend] {
    var list: [ComputeBackend] = [CPUBackend(threads: 1), CPUBackend(threads: 2)]
    for backend in try TestBackends.all() where backend.kind == .opencl { list.append(backend) }
    return list
  }

  func trainer(
    _ config: ModelConfig, _ backend: ComputeBackend, lanes: [LaneSpec],
    options: LockstepOptions = LockstepTrainerTests.options, targets: [Float]? = nil,
    bases: [[Float]] = []
  ) throws -> LockstepTrainer {
    let store = try SequenceStore(
      backend: backend, inputs: Self.data.x, targets: targets ?? Self.data.y, count: Self.count,
      steps: Self.steps, channels: Self.storeChannels, outputs: Self.outputs)
    return try LockstepTrainer(
      config: config, backend: backend, store: store, channels: Self.channels, lanes: lanes,
      options: options, bases: bases)
  }

  func weights(_ trainer: LockstepTrainer, lane: Int) throws -> [Float] {
    let p = trainer.model.parameters
    return try p.layout.tensors.flatMap { try p.read($0.name, model: lane) }
  }

  /// Trains the given lanes through the schedule; returns each lane's final weights and
  /// per-epoch results.
  func run(
    _ config: ModelConfig, _ backend: ComputeBackend, lanes picked: [Int],
    all lanes: [LaneSpec] = LockstepTrainerTests.lanes,
    options: LockstepOptions = LockstepTrainerTests.options, bases: [[Float]] = []
  ) throws -> (weights: [[Float]], epochs: [[LaneEpoch]]) {
    let t = try trainer(
      config, backend, lanes: picked.map { lanes[$0] }, options: options, bases: bases)
    var epochs: [[LaneEpoch]] = Array(repeating: [], count: picked.count)
    for active in Self.schedule {
      let results = try t.epoch(active: picked.map { active[$0] })
      for (i, r) in results.enumerated() { epochs[i].append(r) }
    }
    return (try (0..<picked.count).map { try weights(t, lane: $0) }, epochs)
  }

  func testLaneInABatchOfThreeIsBitwiseTheLaneAlone() throws {
    try assertLanesIndependent()
  }

  /// The same with every small-cohort feature on: augmentation (time warp included), base
  /// curves (two lanes on different tables, one on none) and a zeroed output layer.
  func testLaneIsBitwiseTheLaneAloneWithAugmentationAndBases() throws {
    var options = Self.options
    options.augmentation = Self.augmentation
    options.zeroOutputLayer = true
    var lanes = Self.lanes
    (lanes[0].base, lanes[2].base) = (1, 0)
    try assertLanesIndependent(lanes: lanes, options: options, bases: Self.bases)
  }

  func assertLanesIndependent(
    lanes: [LaneSpec] = LockstepTrainerTests.lanes,
    options: LockstepOptions = LockstepTrainerTests.options, bases: [[Float]] = [],
    file: StaticString = #filePath, line: UInt = #line
  ) throws {
    for config in Self.configs {
      var cpuRuns: [[[Float]]] = []
      for backend in try Self.backends() {
        let what = "\(config.model) on \(backend.deviceName)"
        let batched = try run(
          config, backend, lanes: [0, 1, 2], all: lanes, options: options, bases: bases)
        for lane in 0..<3 {
          let alone = try run(
            config, backend, lanes: [lane], all: lanes, options: options, bases: bases)
          assertBitwise(batched.weights[lane], alone.weights[0], "\(what): lane \(lane) weights")
          for (e, (a, b)) in zip(batched.epochs[lane], alone.epochs[0]).enumerated() {
            XCTAssertTrue(
              a.trainingLoss == b.trainingLoss || (a.trainingLoss.isNaN && b.trainingLoss.isNaN),
              "\(what): lane \(lane) epoch \(e) loss \(a.trainingLoss) vs \(b.trainingLoss)",
              file: file, line: line)
            XCTAssertEqual(
              a.validationLoss, b.validationLoss, "\(what): lane \(lane) epoch \(e)", file: file,
              line: line)
          }
          XCTAssertNil(batched.epochs[lane].last!.nonFinite, file: file, line: line)
        }
        XCTAssertTrue(
          batched.epochs[2][2].trainingLoss.isNaN, "a stopped lane reports NaN", file: file,
          line: line)
        XCTAssertNil(
          batched.epochs[2][0].validationLoss, "no validation indices, no loss", file: file,
          line: line)
        XCTAssertNotNil(batched.epochs[0][0].validationLoss, file: file, line: line)
        XCTAssertNotEqual(
          batched.weights[0], batched.weights[1], "lanes must differ", file: file, line: line)
        if backend.kind == .cpu { cpuRuns.append(batched.weights) }
      }
      XCTAssertEqual(cpuRuns.count, 2, file: file, line: line)
      for lane in 0..<3 {
        assertBitwise(
          cpuRuns[0][lane], cpuRuns[1][lane], "\(config.model): 1 vs 2 CPU threads", file: file,
          line: line)
      }
    }
  }

  /// Large enough that the CPU backend runs the batched recurrences and GEMMs on two threads
  /// while the lane alone runs them on one.
  func testWideLaneIsBitwiseTheLaneAloneOnTwoThreads() throws {
    let config = ModelConfig.bilstmMLP(
      inputs: 3, outputs: 2, hidden: 48, layers: 1, mlp: [64, 8], dropout: 0.2)
    var options = Self.options
    options.batchSize = 16
    let lanes = [Self.lanes[1], Self.lanes[0]]
    let backend = CPUBackend(threads: 2)
    let batched = try trainer(config, backend, lanes: lanes, options: options)
    let alone = try trainer(config, backend, lanes: [lanes[0]], options: options)
    for _ in 0..<2 {
      let a = try batched.epoch(active: [true, true])
      let b = try alone.epoch(active: [true])
      XCTAssertEqual(a[0].trainingLoss, b[0].trainingLoss)
    }
    assertBitwise(try weights(batched, lane: 0), try weights(alone, lane: 0), "wide lane")
  }

  func testStoppedLaneDoesNotChange() throws {
    for backend in try TestBackends.all() {
      let t = try trainer(Self.configs[0], backend, lanes: Self.lanes)
      _ = try t.epoch(active: [true, true, true])
      let before = try (0..<3).map { try weights(t, lane: $0) }
      let results = try t.epoch(active: [true, false, true])
      XCTAssertTrue(results[1].trainingLoss.isNaN)
      XCTAssertNil(results[1].validationLoss)
      XCTAssertEqual(try weights(t, lane: 1), before[1], "\(backend.kind): stopped lane moved")
      XCTAssertNotEqual(try weights(t, lane: 0), before[0])
      XCTAssertNotEqual(try weights(t, lane: 2), before[2])
    }
  }

  func testSaveAndRestoreBest() throws {
    for backend in try TestBackends.all() {
      let t = try trainer(Self.configs[1], backend, lanes: Self.lanes)
      _ = try t.epoch(active: [true, true, true])
      try t.saveBest(lane: 0)
      let saved = try (0..<3).map { try weights(t, lane: $0) }
      _ = try t.epoch(active: [true, true, true])
      let moved = try (0..<3).map { try weights(t, lane: $0) }
      XCTAssertNotEqual(moved[0], saved[0])
      try t.restoreBest(lane: 0)
      try t.restoreBest(lane: 1)  // never saved: a no-op
      XCTAssertEqual(try weights(t, lane: 0), saved[0], "\(backend.kind): restore")
      XCTAssertEqual(try weights(t, lane: 1), moved[1], "\(backend.kind): unsaved lane moved")
      XCTAssertEqual(try weights(t, lane: 2), moved[2], "\(backend.kind): other lane moved")
    }
  }

  /// A NaN in one lane's weights, or in its inputs (through its z-score): that lane is
  /// reported by tensor name, the others train exactly as they would without it.
  func testNonFiniteLaneIsReportedOthersGoOn() throws {
    for backend in try TestBackends.all() {
      for (config, viaInput) in [(0, false), (1, false), (0, true), (1, true)].map({
        (Self.configs[$0.0], $0.1)
      }) {
        var lanes = Self.lanes
        if viaInput { lanes[1].mean[1] = .nan }
        let clean = try trainer(config, backend, lanes: Self.lanes)
        let broken = try trainer(config, backend, lanes: lanes)
        if !viaInput {
          let name = broken.model.parameters.layout.tensors[0].name
          var w = try broken.model.parameters.read(name, model: 1)
          w[0] = .nan
          try broken.model.parameters.write(name, w, model: 1)
        }
        for _ in 0..<2 {
          let a = try clean.epoch(active: [true, true, true])
          let b = try broken.epoch(active: [true, true, true])
          XCTAssertNil(a[1].nonFinite)
          XCTAssertNotNil(b[1].nonFinite, "\(config.model) on \(backend.kind)")
          let names = broken.model.parameters.layout.tensors.map(\.name)
          XCTAssertTrue(
            names.contains { b[1].nonFinite == $0 || b[1].nonFinite == "gradient of \($0)" },
            "\(config.model) on \(backend.kind): \(b[1].nonFinite ?? "nil")")
          for lane in [0, 2] {
            XCTAssertNil(b[lane].nonFinite)
            XCTAssertEqual(a[lane].trainingLoss, b[lane].trainingLoss)
          }
        }
        for lane in [0, 2] {
          XCTAssertEqual(
            try weights(broken, lane: lane), try weights(clean, lane: lane),
            "\(config.model) on \(backend.kind): lane \(lane) affected by a NaN lane")
        }
      }
    }
  }

  /// Predictions are the lane's model on the lane's z-scored selected channels.
  func testPredictAppliesTheLaneNormalisation() throws {
    for backend in try TestBackends.all() {
      let config = Self.configs[0]
      let t = try trainer(config, backend, lanes: Self.lanes)
      _ = try t.epoch(active: [true, true, true])
      let indices = [3, 12, 5, 0, 9, 1]
      let got = try t.predict(lane: 1, indices: indices)
      let single = try makeModel(config, backend: backend)
      for tensor in single.parameters.layout.tensors {
        try single.parameters.write(
          tensor.name, try t.model.parameters.read(tensor.name, model: 1))
      }
      let lane = Self.lanes[1]
      var x: [Float] = []
      for i in indices {
        for s in 0..<Self.steps {
          let row = (i * Self.steps + s) * Self.storeChannels
          for (c, channel) in Self.channels.enumerated() {
            x.append((Self.data.x[row + channel] - lane.mean[c]) * lane.scale[c])
          }
        }
      }
      let y = try single.forward(
        BufferSlice(try backend.makeBuffer(x)), batch: indices.count, steps: Self.steps,
        training: false, seed: 0)
      let expected = try backend.download(y, count: indices.count * Self.steps * Self.outputs)
      assertClose(got, expected, "\(backend.kind) predict", tolerance: 1e-5)
    }
  }

  /// Groups too large for 32-bit kernel indices are refused (never wrapped), and the guard
  /// tells how to split them.
  func testIndexGuardSplitsLargeGroups() throws {
    let config = ModelConfig.bilstmMLP(inputs: 16, hidden: 64, layers: 2, mlp: [128, 64])
    let perLane = LockstepTrainer.widestPerLane(
      config, batchSize: 4096, steps: 1000, channels: 16, outputs: 3)
    XCTAssertEqual(perLane, 4096 * 1000 * 512)
    let groups = IndexGuard.split(lanes: 6, perLane: perLane)
    XCTAssertEqual(groups.count, 6)
    XCTAssertTrue(groups.allSatisfy { IndexGuard.fits32($0.count * perLane) })
    var options = Self.options
    options.batchSize = 1 << 22
    XCTAssertThrowsError(
      try trainer(Self.configs[0], CPUBackend(threads: 1), lanes: Self.lanes, options: options)
    ) {
      XCTAssertTrue("\($0)".contains("2^31"), "\($0)")
    }
  }

  func testRejectsMismatchedLanes() throws {
    let backend = CPUBackend(threads: 1)
    var bad = Self.lanes[0]
    bad.mean = [0]
    XCTAssertThrowsError(try trainer(Self.configs[0], backend, lanes: [bad]))
    bad = Self.lanes[0]
    bad.training = [Self.count]
    XCTAssertThrowsError(try trainer(Self.configs[0], backend, lanes: [bad]))
    XCTAssertThrowsError(try trainer(Self.configs[0], backend, lanes: []))
    bad = Self.lanes[0]
    bad.base = 2
    XCTAssertThrowsError(try trainer(Self.configs[0], backend, lanes: [bad], bases: Self.bases)) {
      XCTAssertTrue("\($0)".contains("base table 2"), "\($0)")
    }
    bad.base = 0
    XCTAssertThrowsError(try trainer(Self.configs[0], backend, lanes: [bad], bases: [[1, 2]])) {
      XCTAssertTrue("\($0)".contains("base table 0 has 2 values"), "\($0)")
    }
    var options = Self.options
    options.augmentation.timeWarp = 1
    XCTAssertThrowsError(
      try trainer(Self.configs[0], backend, lanes: [Self.lanes[0]], options: options)
    ) {
      XCTAssertTrue("\($0)".contains("timeWarp"), "\($0)")
    }
  }
}

/// Exact equality, reported by the first differing element.
func assertBitwise(
  _ got: [Float], _ expected: [Float], _ what: String, file: StaticString = #filePath,
  line: UInt = #line
) {
  guard got.count == expected.count else {
    XCTFail("\(what): \(got.count) vs \(expected.count) values", file: file, line: line)
    return
  }
  let differing = got.indices.filter { got[$0].bitPattern != expected[$0].bitPattern }
  if let first = differing.first {
    XCTFail(
      "\(what): \(differing.count) of \(got.count) differ, first at \(first): \(got[first]) vs "
        + "\(expected[first])", file: file, line: line)
  }
}
