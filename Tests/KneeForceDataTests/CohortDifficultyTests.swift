import XCTest

@testable import KneeForceData

final class CohortDifficultyTests: XCTestCase {
  /// Two-step sequences whose targets are one value on every step and target channel, so
  /// that every RMSE can be worked out by hand.
  private func set(_ rows: [(subject: String, activity: String, trial: String, value: Float)])
    -> SequenceSet
  {
    var set = SequenceSet(length: 2, inputChannels: ["grf.vertical"])
    for row in rows {
      set.inputs += [0, 0]
      set.targets += [Float](repeating: row.value, count: 2 * 3)
      set.subjects.append(row.subject)
      set.activities.append(row.activity)
      set.trialIDs.append(row.trial)
      set.startTimes.append(0)
      set.endTimes.append(1)
    }
    return set
  }

  func testMeanCurveAndOwnCurvePerFoldMatchHandWorkedValues() throws {
    let sequences = set([
      ("A", "walking", "a1", 1), ("A", "walking", "a1", 1), ("A", "walking", "a2", 3),
      ("A", "squat", "a3", 100),
      ("B", "walking", "b1", 2), ("B", "walking", "b2", 2),
      ("C", "walking", "c1", 5),
    ])
    let measured = try CohortDifficulty.measure(sequences, activity: "walking")
    XCTAssertEqual(measured.folds.map(\.heldOutSubject), ["A", "B", "C"])
    XCTAssertEqual(measured.folds.map(\.sequences), [3, 2, 1])
    // A against the mean of B and C (2, 2, 5 → 3): errors 2, 2, 0. Own curve: the a1 cycles
    // against a2 (3), a2 against the a1 cycles (1): every error 2.
    // B against the mean of A and C (1, 1, 3, 5 → 2.5); own curve exact.
    // C against the mean of A and B (1, 1, 3, 2, 2 → 1.8); a single trial has no own curve.
    let expected: [(Double, Double?)] = [((8.0 / 3).squareRoot(), 2), (0.5, 0), (3.2, nil)]
    for (fold, (mean, own)) in zip(measured.folds, expected) {
      for target in 0..<3 {
        XCTAssertEqual(fold.meanCurveRMSE[target], mean, accuracy: 1e-6, fold.heldOutSubject)
        if let own {
          XCTAssertEqual(fold.ownCurveRMSE?[target] ?? -1, own, accuracy: 1e-6)
        } else {
          XCTAssertNil(fold.ownCurveRMSE, fold.heldOutSubject)
        }
      }
    }
    let meanOverFolds = ((8.0 / 3).squareRoot() + 0.5 + 3.2) / 3
    XCTAssertEqual(measured.meanCurveRMSE?[2] ?? -1, meanOverFolds, accuracy: 1e-6)
    XCTAssertEqual(measured.ownCurveRMSE?[2] ?? -1, 1, accuracy: 1e-6)

    let table = measured.render()
    XCTAssertTrue(table.contains("activity walking"), table)
    XCTAssertTrue(table.contains(String(format: "%7.3f", meanOverFolds)), table)
    XCTAssertTrue(
      table.contains("\nC              1     3.200   3.200   3.200          -       -       -\n"),
      table)
  }

  func testNoSequencesOrOneSubjectIsAnError() {
    let sequences = set([("A", "walking", "a1", 1), ("A", "walking", "a2", 2)])
    XCTAssertThrowsError(try CohortDifficulty.measure(sequences, activity: "stairs")) {
      XCTAssertEqual($0 as? CohortDifficulty.MeasureError, .noSequences(activity: "stairs"))
    }
    XCTAssertThrowsError(try CohortDifficulty.measure(sequences, activity: nil)) {
      XCTAssertEqual($0 as? CohortDifficulty.MeasureError, .oneSubject("A"))
    }
  }

  /// The default cohort is calibrated to real walking cycles (docs/SYNTHETIC_COHORT.md,
  /// "Calibration": mean curve near 0.35 BW, own curve near 0.28 BW); the clean one is far
  /// easier. The bands are wide enough for seed-to-seed spread, narrow enough to catch a
  /// change that makes the cohort easy again.
  func testDefaultCohortIsAsHardAsRealWalkingAndTheCleanOneIsNot() throws {
    for nuisance in SyntheticCohortOptions.Nuisance.allCases {
      let dataset = try SyntheticCohort.generate(
        SyntheticCohortOptions(seed: 0, nuisance: nuisance, activities: [.walking]))
      let measured = try CohortDifficulty.measure(
        dataset, segmentation: .cycle(length: 101), activity: "walking")
      let mean = measured.meanCurveRMSE?[2] ?? .nan
      let own = measured.ownCurveRMSE?[2] ?? .nan
      switch nuisance {
      case .realistic:
        XCTAssertTrue((0.30...0.40).contains(mean), "mean curve \(mean)")
        XCTAssertTrue((0.24...0.32).contains(own), "own curve \(own)")
      case .none:
        XCTAssertLessThan(mean, 0.15)
        XCTAssertLessThan(own, 0.06)
      }
    }
  }
}
