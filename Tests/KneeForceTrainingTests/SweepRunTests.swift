import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceModels
import KneeForceTestSupport
import XCTest

@testable import KneeForceTraining

/// Whole sweeps on a tiny cohort (3 subjects, 2 activities, tiny networks, 3 epochs):
/// fold batching, shards and merge, failure handling, through the library.
final class SweepRunTests: XCTestCase {
  static func tinyDataset() throws -> Dataset {
    var d = try SyntheticCohort.generate(
      SyntheticCohortOptions(
        subjects: 3, trials: 1, seed: 5, nuisance: .none, activities: [.walking, .squat]
      ))
    d.folder = "tiny"
    return d
  }

  static func tinyOptions() -> SweepOptions {
    var o = SweepOptions()
    o.epochs = 3
    o.patience = 1
    o.hidden = 4
    o.mlp = [4, 4]
    o.channels = 4
    o.levels = 1
    o.batchSize = 4
    return o
  }

  func sweep(
    _ dataset: Dataset, _ options: SweepOptions, foldBatch: Int? = nil, shard: (Int, Int) = (1, 1),
    into folder: URL
  ) throws -> SweepOutcome {
    try runSweep(dataset, options, foldBatch: foldBatch, shard: shard, into: folder)
  }

  func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

  func testFoldBatchAndShardsGiveBitwiseEqualResults() throws {
    let root = try makeTemporaryFolder("sweep-equal")
    defer { try? FileManager.default.removeItem(at: root) }
    let dataset = try Self.tinyDataset()
    var options = Self.tinyOptions()
    options.seeds = 2
    let all = try sweep(dataset, options, into: root.appendingPathComponent("batched"))
    XCTAssertTrue(all.failed.isEmpty)
    XCTAssertTrue(all.record.complete)
    XCTAssertEqual(all.record.units.planned, 2 * 3 + 4 * 3)
    let one = try sweep(dataset, options, foldBatch: 1, into: root.appendingPathComponent("one"))
    let batched = try text(root.appendingPathComponent("batched/results.csv"))
    XCTAssertEqual(try text(root.appendingPathComponent("one/results.csv")), batched)
    XCTAssertEqual(one.rows, all.rows)
    let rows = batched.split(separator: "\n")
    // 6 models x 3 subjects x (all + 2 activities) x 3 targets, plus the header.
    XCTAssertEqual(rows.count, 1 + 6 * 3 * 3 * 3)
    XCTAssertTrue(rows.dropFirst().allSatisfy { $0.hasSuffix(",ok") })
    for model in UnitKey.baselines {
      for subject in dataset.subjects {
        XCTAssertEqual(
          rows.filter { $0.hasPrefix("\(model),all,all,\(subject),") }.count, 3,
          "\(model) \(subject): one row per target")
      }
    }

    let shards = (1...2).map { root.appendingPathComponent("shard\($0)") }
    for (i, folder) in shards.enumerated() {
      _ = try sweep(dataset, options, shard: (i + 1, 2), into: folder)
    }
    let unitsPerShard = shards.map { UnitJournal.all(in: $0).count }
    XCTAssertEqual(unitsPerShard.reduce(0, +), 18)
    XCTAssertTrue(unitsPerShard.allSatisfy { $0 > 0 }, "\(unitsPerShard)")
    let merged = root.appendingPathComponent("merged")
    try FileManager.default.createDirectory(at: merged, withIntermediateDirectories: true)
    _ = try SweepMerge.merge(shards, into: merged)
    XCTAssertEqual(try text(merged.appendingPathComponent("results.csv")), batched)
    let record = try XCTUnwrap(try SweepRecord.read(from: merged))
    XCTAssertEqual(record.shard, SweepRecord.Shard(index: 1, count: 1))
    XCTAssertEqual(record.units.finished, 18)

    // Refusals: a missing shard, a shard given twice, a shard of other options.
    let refused = root.appendingPathComponent("refused")
    try FileManager.default.createDirectory(at: refused, withIntermediateDirectories: true)
    XCTAssertThrowsError(try SweepMerge.merge([shards[0]], into: refused)) {
      XCTAssertTrue("\($0)".contains("missing 2/2"), "\($0)")
    }
    XCTAssertThrowsError(try SweepMerge.merge([shards[0], shards[0]], into: refused)) {
      XCTAssertTrue("\($0)".contains("both shard 1/2"), "\($0)")
    }
    var other = options
    other.epochs = 2
    let odd = root.appendingPathComponent("odd")
    _ = try sweep(dataset, other, shard: (2, 2), into: odd)
    XCTAssertThrowsError(try SweepMerge.merge([shards[0], odd], into: refused)) {
      XCTAssertTrue("\($0)".contains("epochs"), "\($0)")
    }
    // The checkpoint of a unit holds both members and what prediction needs.
    let unit = UnitKey(
      model: "tcn", features: "all", activities: "all", subject: dataset.subjects[0])
    let loaded = try Checkpoint.load(
      from: UnitJournal.folder(merged, unit).appendingPathComponent("checkpoint.safetensors"),
      backend: CPUBackend())
    XCTAssertEqual(loaded.info.members, 2)
    XCTAssertEqual(loaded.info.seeds, [0, 1])
    XCTAssertEqual(loaded.info.heldOutSubject, dataset.subjects[0])
    XCTAssertEqual(loaded.info.validationSubject, dataset.subjects[1])
    XCTAssertEqual(loaded.info.synthetic, true)
  }

  func testNonFiniteLossFailsItsUnitAndTheSweepGoesOn() throws {
    let root = try makeTemporaryFolder("sweep-nan")
    defer { try? FileManager.default.removeItem(at: root) }
    var dataset = try Self.tinyDataset()
    // Targets of the last subject so large that their squared error overflows Float.
    let last = dataset.subjects.last!
    for i in dataset.trials.indices where dataset.trials[i].info.subject == last {
      for c in dataset.trials[i].channels.indices
      where dataset.trials[i].channels[c].hasPrefix("kcf.") {
        dataset.trials[i].values[c] = dataset.trials[i].values[c].map { $0 * 1e30 }
      }
    }
    var options = Self.tinyOptions()
    options.models = [.tcn]
    options.patience = 0
    let outcome = try sweep(dataset, options, into: root)
    // The subject trains in every fold but its own.
    XCTAssertEqual(Set(outcome.failed.map(\.subject)), Set(dataset.subjects.dropLast()))
    let record = try XCTUnwrap(UnitJournal.read(outcome.failed[0], in: root))
    XCTAssertEqual(record.failure?.epoch, 1)
    XCTAssertFalse(record.failure?.what.isEmpty ?? true)
    XCTAssertTrue(outcome.record.complete)
    let csv = try text(root.appendingPathComponent("results.csv"))
    XCTAssertTrue(csv.contains("tcn,all,all,\(dataset.subjects[0]),medial,,,"), csv)
    XCTAssertTrue(csv.contains("tcn,all,all,\(last),medial,"), csv)
    XCTAssertTrue(
      try text(root.appendingPathComponent("summary.md")).contains("Failed units"))
  }
}

/// The same tiny sweep on OpenCL (PoCL here) and on the CPU: every unit finishes on both, and
/// the scores agree to rounding.
final class SweepOpenCLTests: XCTestCase {
  func testOpenCLSweepMatchesCPU() throws {
    let opencl = try firstOpenCLBackend()
    let root = try makeTemporaryFolder("sweep-opencl")
    defer { try? FileManager.default.removeItem(at: root) }
    let dataset = try SweepRunTests.tinyDataset()
    var options = SweepRunTests.tinyOptions()
    options.epochs = 2
    var outcomes: [SweepOutcome] = []
    for (name, backend) in [("cpu", CPUBackend() as ComputeBackend), ("opencl", opencl)] {
      let folder = root.appendingPathComponent(name)
      try OutputFolder.prepare(folder.path, command: "sweep", mode: .fresh)
      outcomes.append(
        try Sweep.run(
          dataset: dataset, options: options, settings: SweepRunSettings(), backend: backend,
          out: folder, progress: SweepProgress(terminal: false) { _ in }))
    }
    let (cpu, gpu) = (outcomes[0], outcomes[1])
    XCTAssertEqual(gpu.record.options.backend, "opencl")
    XCTAssertEqual(gpu.record.run.device, opencl.deviceName)
    XCTAssertTrue(gpu.failed.isEmpty && gpu.record.complete)
    XCTAssertEqual(gpu.rows.count, cpu.rows.count)
    for (c, g) in zip(cpu.rows, gpu.rows) {
      XCTAssertEqual(g.model, c.model)
      XCTAssertEqual(g.rmse ?? .nan, c.rmse ?? .nan, accuracy: 2e-3, "\(c.model) \(c.target) RMSE")
      XCTAssertEqual(
        g.pearson ?? .nan, c.pearson ?? .nan, accuracy: 2e-3, "\(c.model) \(c.target) r")
    }
  }
}
