import XCTest

@testable import KneeForceData

final class DatasetLoadingTests: XCTestCase {
  private var folder: TemporaryFolder!

  override func setUpWithError() throws {
    folder = try TemporaryFolder()
  }

  override func tearDown() {
    folder.remove()
  }

  private func windows(_ text: String) -> [UInt8] {
    [0xEF, 0xBB, 0xBF] + Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
  }

  func testBOMAndCRLFDatasetReadsFine() throws {
    try Fixture.write(into: folder)
    try folder.write("manifest.csv", bytes: windows(Fixture.manifest))
    try folder.write("trials/P1_walk_01.csv", bytes: windows(Fixture.trial()))
    try folder.write("events.csv", bytes: windows(Fixture.events))
    let dataset = try Dataset.load(folder.path)
    XCTAssertEqual(dataset.trials.count, 3)
    XCTAssertEqual(dataset.trials[0].time.count, 8)
    XCTAssertEqual(dataset.trials[0].channels.first, "kin.knee_flexion")
    XCTAssertEqual(dataset.events(for: "P1_walk_01").count, 3)
    XCTAssertEqual(dataset.warnings, [])
  }

  func testManifestFieldsExtraColumnsAndEvents() throws {
    try Fixture.write(into: folder)
    let dataset = try Dataset.load(folder.path)
    let info = dataset.trials[1].info
    XCTAssertEqual(info.trialID, "P1_walk_02")
    XCTAssertEqual(info.side, .left)
    XCTAssertEqual(info.bodyWeightN, 700)
    XCTAssertEqual(info.extra["note"], "second, with comma")
    XCTAssertEqual(info.line, 3)
    XCTAssertEqual(dataset.extraColumns, ["note"])
    XCTAssertEqual(dataset.subjects, ["P1", "P2"])
    XCTAssertEqual(dataset.activities, ["walking"])
    XCTAssertEqual(dataset.trials[0].sampleRate, 100, accuracy: 1e-9)
    XCTAssertEqual(dataset.trials[0].duration, 0.07, accuracy: 1e-12)
    XCTAssertEqual(
      dataset.events(for: "P1_walk_01").map(\.event), ["foot_strike", "foot_off", "foot_strike"])
  }

  func testWriterOutputReadsBackIdentically() throws {
    try Fixture.write(into: folder)
    let original = try Dataset.load(folder.path)
    let copy = folder.path + "/copy"
    try DatasetWriter.write(original, to: copy, command: "test")
    let reread = try Dataset.load(copy)
    XCTAssertEqual(reread.trials.map(\.values), original.trials.map(\.values))
    XCTAssertEqual(reread.trials.map(\.info.extra), original.trials.map(\.info.extra))
    XCTAssertEqual(reread.events, original.events)
  }

  func testSummaryReportsCountsRatesAndForcesInBodyWeights() throws {
    try Fixture.write(into: folder)
    let report = DatasetChecker().check(folder: folder.path)
    let summary = report.summary
    XCTAssertEqual(summary.subjects.map(\.subject), ["P1", "P2"])
    XCTAssertEqual(summary.trialCounts["P1"]?["walking"], 2)
    XCTAssertEqual(summary.sampleRates, [100])
    XCTAssertEqual(summary.channelsByGroup.map(\.group), ["kin", "grf", "emg", "kcf"])
    let total = summary.peakForcesBW["walking"]?["kcf.total"]
    XCTAssertEqual(total?.max ?? 0, 1407 / 700, accuracy: 1e-9)
    XCTAssertEqual(total?.min ?? 0, 1407 / 800, accuracy: 1e-9)
    let text = summary.render()
    for expected in ["2 subjects", "P1", "walking", "100 Hz", "0 errors, 0 warnings", "kcf"] {
      XCTAssertTrue(text.contains(expected), "\(expected) in\n\(text)")
    }
    XCTAssertFalse(summary.isSynthetic)
  }
}
