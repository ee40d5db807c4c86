import Foundation
import KneeForceData
import KneeForceTestSupport
import XCTest

@testable import KneeForceImport

/// On the real files of ../shared/data/grand-challenge (skipped where ../shared is absent).
final class GrandChallengeImportTests: XCTestCase {
  static let shared = repositoryRoot.deletingLastPathComponent()
    .appendingPathComponent("shared/data/grand-challenge")

  func source(_ sub: String) throws -> String {
    let url = Self.shared.appendingPathComponent(sub)
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw XCTSkip("\(url.path) is absent: the real Grand Challenge files are not here")
    }
    return url.path
  }

  func testJWImportsTrialsThatCheckAccepts() throws {
    var importer = GrandChallengeImporter(source: try source("jw"))
    importer.defaultSubject = .init(bodyMassKg: 66.7, side: .right)
    let result = try importer.run()
    let dataset = result.dataset
    XCTAssertEqual(
      dataset.trials.map(\.info.trialID), ["jw_2legsquat1", "jw_ngait_og3", "jw_stairupf1"])
    XCTAssertEqual(dataset.trials.map(\.info.activity), ["squat", "walking", "stair_ascent"])
    // jw_chairrise1 has no c3d: skipped with a warning naming it.
    XCTAssertTrue(
      result.log.warnings.contains { $0.hasPrefix("jw_chairrise1: no jw_chairrise1.c3d") })
    let out = FileManager.default.temporaryDirectory
      .appendingPathComponent("kneeforce-gc-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    try DatasetWriter.write(dataset, to: out, command: "test")
    let report = DatasetChecker().check(folder: out)
    XCTAssertFalse(
      report.diagnostics.hasErrors, report.diagnostics.map(\.description).joined(separator: "\n"))
    XCTAssertEqual(report.dataset.trials.count, 3)

    let gait = dataset.trials.first { $0.info.trialID == "jw_ngait_og3" }!
    let weight = gait.info.bodyWeightN
    let peak = gait.column("kcf.total")!.max()! / weight
    XCTAssertEqual(peak, 2.4, accuracy: 0.1, "total contact force peak, BW")
    // medial + lateral = total, the load cells in lbf converted to N.
    let m = gait.column("kcf.medial")!, l = gait.column("kcf.lateral")!
    let total = gait.column("kcf.total")!
    for i in 0..<gait.sampleCount { XCTAssertEqual(m[i] + l[i], total[i], accuracy: 1e-6) }

    // Knee flexion against the GON goniometer column, aligned by time stamps.
    let forces = try NumericTable.parse(
      String(
        contentsOfFile: try source("jw/jw_ngait_og3/jw_ngait_og3_knee_forces.csv"), encoding: .utf8),
      file: "forces")
    let gon = Resampling.interpolate(
      times: try forces.times(), values: forces.column(forces.columnIndex("GON")!),
      at: gait.time, tolerance: 0.5 / 120)
    let knee = gait.column("kin.knee_flexion")!
    let diffs = zip(knee, gon).filter { $1.isFinite }.map { $0 - $1 }
    let mean = diffs.reduce(0, +) / Double(diffs.count)
    let rms = (diffs.map { $0 * $0 }.reduce(0, +) / Double(diffs.count)).squareRoot()
    // Measured 2026-12-01: offset -0.41°, RMS 5.11° over 291 frames.
    XCTAssertLessThan(abs(mean), 3, "mean knee flexion minus GON, degrees")
    XCTAssertLessThan(rms, 7, "RMS of knee flexion minus GON, degrees")
    XCTAssertTrue(
      result.log.text.contains(
        "jw_ngait_og3: knee_forces.csv Time(sec) minus the c3d frame time: mean -0.00166"))
    // Two stances of the right foot on plates 2 and 3.
    XCTAssertEqual(
      dataset.events(for: "jw_ngait_og3").map(\.event),
      ["foot_strike", "foot_off", "foot_strike", "foot_off"])
  }

  func testOpenSimExportsOfDM() throws {
    let folder = try source("dm/opensim")
    let tmp = FileManager.default.temporaryDirectory
      .appendingPathComponent("kneeforce-os-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: tmp) }
    // A made-up contact-force file (DM's measured forces are not here).
    var csv = "time_s,kcf.medial,kcf.lateral,kcf.total\n"
    for i in 0..<600 {
      let t = 0.75 + Double(i) / 120
      csv += "\(t),\(600 + Double(i)),400,\(1000 + Double(i))\n"
    }
    let forces = tmp.appendingPathComponent("DM_ngait_og1_forces.csv")
    try csv.write(to: forces, atomically: true, encoding: .utf8)
    var importer = OpenSimImporter(source: folder, bodyMassKg: 70, side: .right)
    importer.forceFiles = [forces.path]
    let result = try importer.run()
    let trial = result.dataset.trials[0]
    XCTAssertEqual(trial.info.subject, "DM")
    XCTAssertEqual(trial.sampleRate, 120, accuracy: 1e-6)
    // DM's markers locate the ankle (R_Ankle_Lateral, RankleMedial): CoP relative to it.
    XCTAssertNotNil(trial.index(of: "grf.cop_anterior"))
    let knee = trial.column("kin.knee_flexion")!
    XCTAssertGreaterThan(knee.max()! - knee.min()!, 45, "a gait cycle's knee flexion range")
    let out = tmp.appendingPathComponent("out").path
    try DatasetWriter.write(result.dataset, to: out, command: "test")
    let report = DatasetChecker().check(folder: out)
    XCTAssertFalse(report.diagnostics.hasErrors, report.diagnostics.map(\.description).joined())
  }
}
