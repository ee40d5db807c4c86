import XCTest

@testable import KneeForceData

/// Each test breaks one thing in an otherwise valid dataset and expects the checker to name
/// the file, line and column, so that a researcher can go straight to the cell.
final class BrokenDatasetTests: XCTestCase {
  private var folder: TemporaryFolder!

  override func setUpWithError() throws {
    folder = try TemporaryFolder()
  }

  override func tearDown() {
    folder.remove()
  }

  private func check(_ changes: [String: String?], maxGap: Int = 5) throws -> DatasetCheckReport {
    try Fixture.write(into: folder, changes: changes)
    return DatasetChecker(maxGap: maxGap).check(folder: folder.path)
  }

  private func replacingLine(_ text: String, _ line: Int, with newLine: String) -> String {
    var lines = text.components(separatedBy: "\n")
    lines[line - 1] = newLine
    return lines.joined(separator: "\n")
  }

  func testValidFixtureHasNoProblems() throws {
    let report = try check([:])
    XCTAssertEqual(report.diagnostics, [])
    XCTAssertEqual(report.dataset.trials.count, 3)
    XCTAssertNoThrow(try Dataset.load(folder.path))
  }

  func testMissingManifestColumn() throws {
    let manifest = Fixture.manifest.replacingOccurrences(of: "side,", with: "sides,")
    let report = try check(["manifest.csv": manifest])
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 1, column: 1,
      contains: "missing required column 'side'")
    XCTAssertThrowsError(try Dataset.load(folder.path)) { error in
      XCTAssertTrue("\(error)".contains("manifest.csv:1:1: error: missing required column"))
    }
  }

  func testDuplicateColumns() throws {
    let manifest = Fixture.manifest.replacingOccurrences(of: ",note", with: ",subject")
    let trial = Fixture.trial().replacingOccurrences(
      of: "emg.vastus_medialis", with: "kin.knee_flexion")
    let report = try check(["manifest.csv": manifest])
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 1, column: 7,
      contains: "duplicate column 'subject' (also column 2)")
    let trialReport = try check(["manifest.csv": Fixture.manifest, "trials/P1_walk_02.csv": trial])
    assertDiagnostic(
      trialReport.diagnostics, .error, file: "trials/P1_walk_02.csv", line: 1, column: 5,
      contains: "duplicate column 'kin.knee_flexion' (also column 2)")
  }

  func testMissingTrialFile() throws {
    let report = try check(["trials/P1_walk_02.csv": nil])
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 3, column: 6,
      contains: "file 'trials/P1_walk_02.csv' of trial 'P1_walk_02' does not exist")
    XCTAssertEqual(report.dataset.trials.count, 2)
  }

  func testNonIncreasingTime() throws {
    let trial = replacingLine(Fixture.trial(), 5, with: "0.02,1,700,0,0.1,800,600,1400")
    let report = try check(["trials/P2_walk_01.csv": trial])
    assertDiagnostic(
      report.diagnostics, .error, file: "trials/P2_walk_01.csv", line: 5, column: 1,
      contains: "time_s does not increase: 0.02 after 0.02 on line 4")
  }

  func testNonNumericCell() throws {
    let trial = replacingLine(Fixture.trial(), 3, with: "0.01,11,abc,0.01,0.1,801,600,1401")
    let report = try check(["trials/P1_walk_01.csv": trial])
    assertDiagnostic(
      report.diagnostics, .error, file: "trials/P1_walk_01.csv", line: 3, column: 3,
      contains: "not a number: 'abc' in grf.vertical")
  }

  func testChannelsDifferingBetweenTrials() throws {
    let missing = Fixture.trial().replacingOccurrences(
      of: "emg.vastus_medialis", with: "emg.vastus_lateralis")
    let report = try check(["trials/P2_walk_01.csv": missing])
    assertDiagnostic(
      report.diagnostics, .error, file: "trials/P2_walk_01.csv", line: 1, column: 9,
      contains: "channels differ between trials: missing emg.vastus_medialis")
    assertDiagnostic(
      report.diagnostics, .error, file: "trials/P2_walk_01.csv", line: 1, column: 5,
      contains: "'emg.vastus_lateralis' is not in")
  }

  func testChannelOrderMayDifferAndIsAligned() throws {
    var lines = Fixture.trial(offset: 2).components(separatedBy: "\n")
    lines = lines.map { line in
      let fields = line.components(separatedBy: ",")
      guard fields.count == 8 else { return line }
      return ([fields[0], fields[2], fields[1]] + fields[3...]).joined(separator: ",")
    }
    let report = try check(["trials/P2_walk_01.csv": lines.joined(separator: "\n")])
    XCTAssertEqual(report.diagnostics, [])
    let trial = report.dataset.trials[2]
    XCTAssertEqual(trial.channels, report.dataset.trials[0].channels)
    XCTAssertEqual(trial.column("kin.knee_flexion")?.first, 12)
  }

  func testNonPositiveBodyWeight() throws {
    for (weight, shown) in [("-5", "'-5'"), ("0", "'0'"), ("heavy", "'heavy'"), ("", "an empty")] {
      let manifest = Fixture.manifest.replacingOccurrences(of: ",800,", with: ",\(weight),")
      let report = try check(["manifest.csv": manifest])
      assertDiagnostic(
        report.diagnostics, .error, file: "manifest.csv", line: 4, column: 5,
        contains: "body_weight_n must be a positive number of newtons, got \(shown)")
    }
  }

  func testBodyWeightInKilogramsIsAWarning() throws {
    let manifest = Fixture.manifest.replacingOccurrences(of: ",800,", with: ",80,")
    let report = try check(["manifest.csv": manifest])
    assertDiagnostic(
      report.diagnostics, .warning, file: "manifest.csv", line: 4, column: 5,
      contains: "not kilograms")
    XCTAssertFalse(report.diagnostics.hasErrors)
  }

  func testSubjectWithNoUsableTrials() throws {
    let report = try check(["trials/P2_walk_01.csv": nil])
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 4, column: 2,
      contains: "subject 'P2' has no usable trials")
  }

  func testMissingTargetChannel() throws {
    let trial = Fixture.trial().replacingOccurrences(of: ",kcf.total", with: ",kcf.resultant")
    let report = try check(["trials/P1_walk_01.csv": trial])
    assertDiagnostic(
      report.diagnostics, .error, file: "trials/P1_walk_01.csv", line: 1, column: 1,
      contains: "missing target channel 'kcf.total'")
  }

  func testLongGapIsAnErrorAndShortGapIsInterpolated() throws {
    var lines = Fixture.trial().components(separatedBy: "\n")
    for line in 3...8 {
      var fields = lines[line - 1].components(separatedBy: ",")
      fields[4] = line <= 7 ? "" : "NaN"
      lines[line - 1] = fields.joined(separator: ",")
    }
    let long = lines.joined(separator: "\n")
    let report = try check(["trials/P1_walk_01.csv": long])
    assertDiagnostic(
      report.diagnostics, .error, file: "trials/P1_walk_01.csv", line: 3, column: 5,
      contains: "gap of 6 samples")
    let relaxed = try check(["trials/P1_walk_01.csv": long], maxGap: 6)
    XCTAssertFalse(relaxed.diagnostics.hasErrors)

    var short = Fixture.trial().components(separatedBy: "\n")
    var fields = short[4].components(separatedBy: ",")
    fields[2] = ""
    short[4] = fields.joined(separator: ",")
    let shortReport = try check(["trials/P1_walk_01.csv": short.joined(separator: "\n")])
    assertDiagnostic(
      shortReport.diagnostics, .warning, file: "trials/P1_walk_01.csv", line: 5, column: 3,
      contains: "gap of 1 sample in grf.vertical at t = 0.03 s, linearly interpolated")
    XCTAssertFalse(shortReport.diagnostics.hasErrors)
    let vertical = shortReport.dataset.trials[0].column("grf.vertical") ?? []
    XCTAssertEqual(vertical[3], 730, accuracy: 1e-9)
  }

  func testRaggedRowAndBadSide() throws {
    let trial = replacingLine(Fixture.trial(), 4, with: "0.02,12,720")
    let manifest = Fixture.manifest.replacingOccurrences(of: ",R,", with: ",right-ish,")
    let report = try check(["trials/P1_walk_01.csv": trial, "manifest.csv": manifest])
    assertDiagnostic(
      report.diagnostics, .error, file: "trials/P1_walk_01.csv", line: 4, column: 4,
      contains: "row has only 3 fields but the header has 8")
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 4, column: 4,
      contains: "side must be L or R")
  }

  func testDuplicateTrialIDAndUnknownEventTrial() throws {
    let manifest = Fixture.manifest.replacingOccurrences(of: "P2_walk_01,P2", with: "P1_walk_01,P2")
    let events = Fixture.events + "P9_walk_01,foot_strike,0.5\n"
    let report = try check(["manifest.csv": manifest, "events.csv": events])
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 4, column: 1,
      contains: "duplicate trial_id 'P1_walk_01' (first on line 2)")
    assertDiagnostic(
      report.diagnostics, .error, file: "events.csv", line: 5, column: 1,
      contains: "unknown trial_id 'P9_walk_01'")
  }

  func testEventsOfARejectedRowAreNotUnknown() throws {
    let manifest = Fixture.manifest.replacingOccurrences(
      of: "walking,L,700,trials/P1_walk_01", with: "walking,?,700,trials/P1_walk_01")
    let report = try check(["manifest.csv": manifest])
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 2, column: 4,
      contains: "side must be L or R, got '?'")
    XCTAssertFalse(report.diagnostics.contains { $0.file.hasSuffix("events.csv") })
    XCTAssertEqual(report.dataset.events.count, 0)
  }

  func testMissingManifestAndEmptyTrial() throws {
    let report = try check(["manifest.csv": nil])
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 1, column: 1,
      contains: "no manifest.csv")
    let empty = try check(["manifest.csv": Fixture.manifest, "trials/P1_walk_01.csv": ""])
    assertDiagnostic(
      empty.diagnostics, .error, file: "trials/P1_walk_01.csv", line: 1, column: 1,
      contains: "trial file is empty")
  }

  func testManyBadCellsAreCappedWithACount() throws {
    var lines = [Fixture.header]
    for i in 0..<50 { lines.append("\(Double(i) / 100),x,700,0,0.1,800,600,1400") }
    let report = try check(["trials/P1_walk_01.csv": lines.joined(separator: "\n") + "\n"])
    let mentions = report.diagnostics.filter { $0.file.hasSuffix("P1_walk_01.csv") }
    XCTAssertEqual(mentions.count, 6)
    XCTAssertTrue(mentions.last?.message.contains("45 more non-numeric cells") ?? false)
  }
}
