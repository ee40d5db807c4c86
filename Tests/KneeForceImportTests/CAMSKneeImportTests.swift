import Foundation
import KneeForceData
import XCTest

@testable import KneeForceImport

final class CAMSKneeImportTests: XCTestCase {
  var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "kneeforce-cams-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: folder)
  }

  func importer() throws -> CAMSKneeImporter {
    CAMSKneeImporter(
      source: folder.path,
      mapping: try MarkerMapping.parse(CAMSKneeTestWriter.mappingText, file: "mapping.csv"))
  }

  func importWritten(_ writer: CAMSKneeTestWriter, name: String = "K3R_walking_01") throws
    -> (Dataset, ImportLog)
  {
    _ = try writer.write(to: folder, name: name)
    let result = try importer().run()
    return (result.dataset, result.log)
  }

  func testRoundTripWithMoments() throws {
    let (dataset, log) = try importWritten(CAMSKneeTestWriter())
    XCTAssertEqual(dataset.trials.count, 1)
    let trial = dataset.trials[0]
    XCTAssertEqual(trial.info.trialID, "K3R_walking_01")
    XCTAssertEqual(trial.info.subject, "K3R")
    XCTAssertEqual(trial.info.side, .right)
    XCTAssertEqual(trial.info.activity, "walking")
    XCTAssertEqual(trial.info.bodyWeightN, 800)
    XCTAssertEqual(trial.sampleRate, 100, accuracy: 1e-6)
    for channel in JointAngles.channels + [
      "grf.vertical", "grf.cop_anterior", "grf.cop_medial",
      "emg.rectus_femoris", "emg.vastus_medialis", "kcf.medial", "kcf.lateral", "kcf.total",
    ] {
      XCTAssertNotNil(trial.index(of: channel), channel)
    }
    // Only the instrumented leg's EMG (R), two muscles.
    XCTAssertEqual(trial.channels.filter { $0.hasPrefix("emg.") }.count, 2)
    let total = trial.column("kcf.total")!, medial = trial.column("kcf.medial")!
    let lateral = trial.column("kcf.lateral")!, knee = trial.column("kin.knee_flexion")!
    var worstKnee = 0.0
    for (i, t) in trial.time.enumerated() {
      XCTAssertEqual(total[i], CAMSKneeTestWriter.fres(t), accuracy: 1.5)
      XCTAssertEqual(medial[i] + lateral[i], CAMSKneeTestWriter.fres(t), accuracy: 1.5)
      XCTAssertEqual(
        medial[i] - lateral[i], 2 * CAMSKneeTestWriter.mx(t) / CAMSKneeTestWriter.condylarDistanceM,
        accuracy: 2)
      worstKnee = max(worstKnee, abs(knee[i] - CAMSKneeTestWriter.flexion(t)))
    }
    XCTAssertLessThan(worstKnee, 1.0, "knee flexion from the synthetic markers")
    // The plate under the instrumented foot only, reaction on the body, up positive.
    let vertical = trial.column("grf.vertical")!
    XCTAssertEqual(vertical[50], 600, accuracy: 5)
    XCTAssertEqual(vertical[10], 0, accuracy: 1e-9)
    XCTAssertEqual(vertical[95], 0, accuracy: 1e-9)
    let events = dataset.events(for: trial.info.trialID).map { "\($0.event)@\($0.time)" }
    XCTAssertEqual(events, ["foot_strike@0.2", "left_foot_strike@0.5", "foot_off@0.8"])
    XCTAssertTrue(log.text.contains("blocks TRAJECTORIES, FORCE PLATE 1, FORCE PLATE 2"))
    // The written folder passes the checker.
    let out = folder.appendingPathComponent("out").path
    try DatasetWriter.write(dataset, to: out, command: "test")
    let report = DatasetChecker().check(folder: out)
    XCTAssertFalse(report.diagnostics.hasErrors, report.diagnostics.map(\.description).joined())
  }

  func testLeftKneeIsMirrored() throws {
    var writer = CAMSKneeTestWriter()
    writer.patient = "K1L"
    writer.events = [("Left Foot Strike", 0.2)]
    let (dataset, _) = try importWritten(writer, name: "K1L_walking_01")
    let trial = dataset.trials[0]
    XCTAssertEqual(trial.info.side, .left)
    let knee = trial.column("kin.knee_flexion")!
    let adduction = trial.column("kin.knee_adduction")!
    for (i, t) in trial.time.enumerated() {
      XCTAssertEqual(knee[i], CAMSKneeTestWriter.flexion(t), accuracy: 1.0)
      XCTAssertEqual(adduction[i], 0, accuracy: 1.0)
    }
    XCTAssertEqual(dataset.events(for: "K1L_walking_01").map(\.event), ["foot_strike"])
  }

  func testWithoutMomentsImportsTheTotalAndSaysSo() throws {
    var writer = CAMSKneeTestWriter()
    writer.withMoments = false
    let (dataset, log) = try importWritten(writer)
    let trial = dataset.trials[0]
    XCTAssertNotNil(trial.index(of: "kcf.total"))
    XCTAssertNil(trial.index(of: "kcf.medial"))
    XCTAssertNil(trial.index(of: "kcf.lateral"))
    XCTAssertTrue(log.text.contains("kcf.medial and kcf.lateral unavailable"), log.text)
    XCTAssertTrue(log.warnings.contains { $0.contains("requires all three targets") })
  }

  func testCondylarDistanceIsAParameter() throws {
    _ = try CAMSKneeTestWriter().write(to: folder)
    var importer = try importer()
    importer.condylarDistanceMM = 80
    let trial = try importer.run().dataset.trials[0]
    let medial = trial.column("kcf.medial")!, lateral = trial.column("kcf.lateral")!
    let t = trial.time[25]
    XCTAssertEqual(medial[25] - lateral[25], 2 * CAMSKneeTestWriter.mx(t) / 0.080, accuracy: 2)
  }

  func assertImportError(
    _ writer: CAMSKneeTestWriter, _ expected: String, file: StaticString = #file,
    line: UInt = #line
  ) throws {
    let url = try writer.write(to: folder)
    XCTAssertThrowsError(try importer().run(), file: file, line: line) { error in
      let text = "\(error)"
      XCTAssertTrue(text.hasPrefix(url.path), text, file: file, line: line)
      XCTAssertTrue(text.contains(expected), "\(text) lacks \(expected)", file: file, line: line)
    }
  }

  func testMalformedFilesGiveClearErrors() throws {
    var noImplant = CAMSKneeTestWriter()
    noImplant.blockNames = ["TRAJECTORIES", "FORCE PLATE 1", "FORCE PLATE 2", "EMG DATA", ""]
    try assertImportError(noImplant, ":23: no \"In-vivo knee prosthesis data\" block")

    var noTrajectories = CAMSKneeTestWriter()
    noTrajectories.blockNames = [
      "", "FORCE PLATE 1", "FORCE PLATE 2", "EMG DATA",
      "In-vivo knee prosthesis data",
    ]
    try assertImportError(noTrajectories, "no \"TRAJECTORIES\" block")

    var unknownBlock = CAMSKneeTestWriter()
    unknownBlock.blockNames = [
      "TRAJECTORIES", "FORCE PLATE 1", "FORCE PLATE 9", "EMG DATA",
      "In-vivo knee prosthesis data",
    ]
    try assertImportError(unknownBlock, "unknown block \"FORCE PLATE 9\"")

    var pounds = CAMSKneeTestWriter()
    pounds.plateForceUnit = "lbf"
    try assertImportError(pounds, "unit \"lbf\"; expected N")

    var counts = CAMSKneeTestWriter()
    counts.emgUnit = "counts"
    try assertImportError(counts, "unit \"counts\"; expected V, mV or uV")

    var noWeight = CAMSKneeTestWriter()
    noWeight.omitBodyweight = true
    try assertImportError(noWeight, "no `Bodyweight,<newtons>` line")

    var unsided = CAMSKneeTestWriter()
    unsided.patient = "K3"
    try assertImportError(unsided, "ending in L or R")

    var bad = CAMSKneeTestWriter()
    bad.badCell = (row: 7, column: 4, text: "12,5")
    try assertImportError(bad, "cells, line 24 has")

    var word = CAMSKneeTestWriter()
    word.badCell = (row: 7, column: 4, text: "abc")
    try assertImportError(word, ":34:5: \"abc\" is not a number")
  }

  func testTooShortFile() throws {
    let url = folder.appendingPathComponent("K3R_sd_01_export_proc_data.csv")
    try "Patient,K3R\nBodyweight,800\n".write(to: url, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try importer().run()) { error in
      XCTAssertTrue("\(error)".contains("25-line header"), "\(error)")
    }
  }
}
