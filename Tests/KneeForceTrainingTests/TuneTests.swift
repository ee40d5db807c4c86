import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceTestSupport
import XCTest

@testable import KneeForceTraining

/// `kneeforce tune`: the grid, the nested choice, and a sweep that uses it.
final class TuneTests: XCTestCase {
  func testGridIsTheProductOfItsAxesAndRefusesBadSettings() {
    let grid = Tune.Grid(axes: [
      .init(name: "weight_decay", values: [0, 1]), .init(name: "hidden", values: [8, 16, 32]),
    ])
    XCTAssertNil(grid.problem)
    XCTAssertEqual(grid.points.count, 6)
    XCTAssertEqual(grid.points[0], ["weight_decay": 0, "hidden": 8])
    XCTAssertEqual(grid.points[5], ["weight_decay": 1, "hidden": 32])
    XCTAssertEqual(
      Tune.Grid(axes: [.init(name: "hidden", values: [8.5])]).problem,
      "hidden must be a whole number, not 8.5")
    XCTAssertEqual(
      Tune.Grid(axes: [.init(name: "dropout", values: [1.5])]).problem,
      "dropout 1.5 is outside 0.0...0.95")
    XCTAssertTrue(
      Tune.Grid(axes: [.init(name: "depth", values: [1])]).problem?.hasPrefix(
        "unknown setting 'depth'") ?? false)
    XCTAssertEqual(Tune.Grid(axes: []).problem, "the grid is empty")
  }

  func testTuneChoosesWithoutTheHeldOutSubjectAndSweepTrainsTheChoice() throws {
    let root = try makeTemporaryFolder("tune")
    defer { try? FileManager.default.removeItem(at: root) }
    let dataset = try SweepRunTests.tinyDataset()
    var options = SweepRunTests.tinyOptions()
    options.models = [.tcn]
    options.validation = .inner
    let grid = Tune.Grid(axes: [.init(name: "weight_decay", values: [0, 3])])
    let quiet = SweepProgress(terminal: false) { _ in }
    let tuneFolder = root.appendingPathComponent("tune")
    try OutputFolder.prepare(tuneFolder.path, command: "tune", mode: .fresh)
    let record = try Tune.run(
      dataset: dataset, options: options, grid: grid, foldBatch: nil, resume: false,
      backend: CPUBackend(), out: tuneFolder, progress: quiet)
    XCTAssertEqual(record.scores.count, 3 * 2, "3 folds x 2 points")
    XCTAssertEqual(record.choices.count, 3)
    for choice in record.choices {
      let mine = record.scores.filter { $0.subject == choice.subject }
      let best = try XCTUnwrap(mine.min { $0.loss! < $1.loss! })
      XCTAssertEqual(choice.settings, grid.points[best.point])
    }
    // The held-out subject was never predicted, trained on or validated on.
    for i in 0..<2 {
      for entry in UnitJournal.all(in: Tune.pointFolder(tuneFolder, i)) {
        XCTAssertFalse(entry.files.contains("predictions.csv"))
        XCTAssertFalse(entry.trainingSubjects.contains(entry.unit.subject))
        XCTAssertFalse(
          (entry.memberValidationSubjects ?? []).contains(entry.unit.subject), "\(entry.unit)")
      }
    }
    let reread = try Tune.Record.read(tuneFolder.appendingPathComponent(Tune.recordName))
    XCTAssertEqual(reread, record)

    func sweep(_ name: String, _ o: SweepOptions) throws -> SweepOutcome {
      try runSweep(dataset, o, into: root.appendingPathComponent(name))
    }
    var tunedOptions = options
    tunedOptions.tuned = record.choices
    let tuned = try sweep("tuned", tunedOptions)
    for (i, point) in grid.points.enumerated() {
      let plain = try sweep("plain\(i)", try options.applying(point))
      for choice in record.choices where choice.settings == point {
        let a = tuned.rows.filter { $0.model == "tcn" && $0.subject == choice.subject }
        let b = plain.rows.filter { $0.model == "tcn" && $0.subject == choice.subject }
        XCTAssertFalse(a.isEmpty)
        XCTAssertEqual(a, b, "the tuned fold is the fold trained with its chosen settings")
        let entry = try XCTUnwrap(
          UnitJournal.read(
            UnitKey(model: "tcn", features: "all", activities: "all", subject: choice.subject),
            in: root.appendingPathComponent("tuned")))
        XCTAssertEqual(entry.tunedSettings, point)
      }
    }
  }
}
