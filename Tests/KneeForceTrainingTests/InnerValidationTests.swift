import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceTestSupport
import XCTest

@testable import KneeForceTraining

/// Inner leave-one-subject-out validation and the per-fold choice of inputs.
final class InnerValidationTests: XCTestCase {
  func testInnerMembersNeverSeeTheHeldOutSubject() throws {
    var d = try SyntheticCohort.generate(
      SyntheticCohortOptions(subjects: 4, trials: 1, seed: 3, activities: [.walking]))
    d.folder = "inner-plan"
    var options = SweepOptions()
    options.validation = .inner
    options.seeds = 2
    let data = try SweepData(dataset: d, options: options)
    let plan = try UnitPlanner.plan(data: data, options: options)
    let networks = plan.filter { !$0.key.isBaseline }
    XCTAssertEqual(networks.count, 2 * 4)
    for unit in networks {
      let held = try XCTUnwrap(unit.heldOut)
      XCTAssertNil(unit.validationSubject)
      XCTAssertEqual(unit.trainingSubjects.count, 3)
      XCTAssertEqual(unit.members.count, 3 * 2, "one group per training subject x seeds")
      XCTAssertEqual(unit.members.map(\.index), Array(0..<6))
      XCTAssertEqual(Set(unit.members.compactMap(\.validation)), Set(unit.trainingSubjects))
      for member in unit.members {
        let v = try XCTUnwrap(member.validation)
        XCTAssertFalse(member.training.contains(v))
        XCTAssertFalse(member.training.contains(held))
        XCTAssertNotEqual(v, held)
        XCTAssertEqual(Set(member.training + [v]), Set(unit.trainingSubjects))
      }
    }
    // Without patience there is nothing to validate: seeds only.
    options.patience = 0
    let plain = try UnitPlanner.plan(data: data, options: options).filter { !$0.key.isBaseline }
    XCTAssertTrue(plain.allSatisfy { $0.members.count == 2 && $0.members[0].validation == nil })
  }

  func record(_ features: String, subject: String, losses: [Double?], failed: Bool = false)
    -> UnitRecord
  {
    UnitRecord(
      unit: UnitKey(model: "tcn", features: features, activities: "all", subject: subject),
      status: failed ? "failed" : "ok", failure: nil, trainingSubjects: [], validationSubject: nil,
      seeds: losses.indices.map { UInt64($0) }, epochsTrained: [], bestEpochs: [],
      trainingSequences: 1, heldOutActivities: [], seconds: 0, files: [],
      bestValidationLosses: losses)
  }

  func testSelectionTakesTheLowestMeanInnerLossAndNeedsEveryCandidate() {
    let entries: [(record: UnitRecord, predictions: UnitPredictions?)] = [
      (record("grf", subject: "A", losses: [0.2, 0.4]), nil),
      (record("all", subject: "A", losses: [0.1, 0.6]), nil),
      (record("grf", subject: "B", losses: [0.3, nil]), nil),
      (record("all", subject: "B", losses: [0.3]), nil),
      (record("grf", subject: "C", losses: [0.1]), nil),
      (record("all", subject: "C", losses: [0.05], failed: true), nil),
    ]
    let choices = InputSelection.choices(entries, featureSets: ["grf", "all"])
    XCTAssertEqual(choices.map(\.subject), ["A", "B"], "C lacks a scored `all` unit")
    XCTAssertEqual(choices[0].chosen, "grf", "mean 0.3 beats mean 0.35")
    XCTAssertEqual(choices[0].scores[0].loss, 0.3, accuracy: 1e-12)
    XCTAssertEqual(choices[0].scores[1].loss, 0.35, accuracy: 1e-12)
    XCTAssertEqual(choices[1].chosen, "grf", "a tie goes to the first listed set")
    let selected = InputSelection.withSelected(entries, featureSets: ["grf", "all"])
    XCTAssertEqual(selected.count, entries.count + 2)
    XCTAssertEqual(selected.last?.record.unit.features, "selected")
    XCTAssertEqual(selected.last?.record.selectedFeatures, "grf")
    let csv = InputSelection.csv(choices)
    XCTAssertTrue(csv.contains("tcn,all,A,grf,0.30000000000000004,1\n"), csv)
    XCTAssertTrue(csv.contains("tcn,all,A,all,0.35,0\n"), csv)
  }

  func testInnerSweepScoresTheChosenSetAndIsTheSameInAnyFoldBatch() throws {
    let root = try makeTemporaryFolder("inner-sweep")
    defer { try? FileManager.default.removeItem(at: root) }
    let dataset = try SweepRunTests.tinyDataset()
    var options = SweepRunTests.tinyOptions()
    options.validation = .inner
    options.featureSetList = ["grf", "all"]
    options.models = [.tcn]
    func run(_ name: String, foldBatch: Int?) throws -> SweepOutcome {
      try runSweep(dataset, options, foldBatch: foldBatch, into: root.appendingPathComponent(name))
    }
    let batched = try run("batched", foldBatch: nil)
    XCTAssertTrue(batched.failed.isEmpty)
    let one = try run("one", foldBatch: 1)
    let csv = try String(
      contentsOf: root.appendingPathComponent("batched/results.csv"), encoding: .utf8)
    XCTAssertEqual(
      try String(contentsOf: root.appendingPathComponent("one/results.csv"), encoding: .utf8), csv)
    XCTAssertEqual(one.rows, batched.rows)

    let folder = root.appendingPathComponent("batched")
    let selection = try String(
      contentsOf: folder.appendingPathComponent("selection.csv"), encoding: .utf8)
    let lines = selection.split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
    XCTAssertEqual(lines.count, 3 * 2, "3 folds x 2 candidates")
    for subject in try SweepData(dataset: dataset, options: options).subjects {
      var scores: [String: Double] = [:]
      for features in ["grf", "all"] {
        let entry = try XCTUnwrap(
          UnitJournal.read(
            UnitKey(model: "tcn", features: features, activities: "all", subject: subject),
            in: folder))
        // Two training subjects: two inner groups, each validated on the other subject.
        XCTAssertEqual(entry.seeds.count, 2)
        XCTAssertEqual(
          Set((entry.memberValidationSubjects ?? []).compactMap { $0 }),
          Set(entry.trainingSubjects))
        let losses = (entry.bestValidationLosses ?? []).compactMap { $0 }
        XCTAssertEqual(losses.count, 2)
        scores[features] = losses.reduce(0, +) / 2
      }
      let chosen = scores["grf"]! <= scores["all"]! ? "grf" : "all"
      let row = try XCTUnwrap(lines.first { $0[2] == subject && $0[5] == "1" })
      XCTAssertEqual(String(row[3]), chosen)
      let tcn = batched.rows.filter { $0.subject == subject && $0.model == "tcn" }
      let selectedRows = tcn.filter { $0.features == "selected" }
      let chosenRows = tcn.filter { $0.features == chosen }
      XCTAssertEqual(selectedRows.count, chosenRows.count)
      XCTAssertFalse(selectedRows.isEmpty)
      XCTAssertEqual(selectedRows.map(\.rmse), chosenRows.map(\.rmse))
    }
    XCTAssertTrue(batched.summary.contains("| tcn | selected | all | total |"), batched.summary)
  }
}
