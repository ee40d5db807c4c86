import Foundation
import KneeForceTestSupport
import XCTest

@testable import KneeForceLabFiles

/// `kneeforce c3d` as a user runs it: summary, --json, --csv, and its exit codes.
final class C3DCommandTests: XCTestCase {
  var synthetic: URL {
    LabFilesTestData.references.appendingPathComponent("synthetic/synthetic_intel_float.c3d")
  }

  func testJSONSummary() throws {
    let result = try runKneeforce(["c3d", synthetic.path, "--json"])
    XCTAssertEqual(result.status, 0, result.output)
    let json = try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    XCTAssertEqual(json["processor"] as? String, "intel")
    XCTAssertEqual(json["storage"] as? String, "float")
    XCTAssertEqual(json["frames"] as? Int, 40)
    XCTAssertEqual(json["first_frame"] as? Int, 7)
    XCTAssertEqual(json["point_rate_hz"] as? Double, 100)
    XCTAssertEqual(json["analog_rate_hz"] as? Double, 400)
    XCTAssertEqual(json["analog_samples"] as? Int, 160)
    XCTAssertEqual(json["subjects"] as? [String], [])
    let points = try XCTUnwrap(json["points"] as? [[String: Any]])
    XCTAssertEqual(
      points.map { $0["label"] as? String },
      ["RHeel", "RToe", "LHeel", "LToe", "Sacrum", "C7 marker"])
    let plates = try XCTUnwrap(json["force_plates"] as? [[String: Any]])
    XCTAssertEqual(plates.map { $0["type"] as? Int }, [2, 4, 1, 3])
    let events = try XCTUnwrap(json["events"] as? [[String: Any]])
    XCTAssertEqual(
      events.map { $0["label"] as? String }, ["RHS", "LTO", "Foot Strike", "Foot Off", "Foot Off"])
  }

  func testTextSummaryAndCSVExport() throws {
    let folder = try temporaryDirectory("c3d-csv")
    defer { try? FileManager.default.removeItem(at: folder) }
    let out = folder.appendingPathComponent("out")
    let result = try runKneeforce(["c3d", synthetic.path, "--csv", out.path])
    XCTAssertEqual(result.status, 0, result.output)
    XCTAssertTrue(result.stdout.contains("intel, float storage"), result.stdout)
    XCTAssertTrue(result.stdout.contains("4: type 3, channels Fx124"), result.stdout)
    XCTAssertTrue(result.stdout.contains("Foot Strike"), result.stdout)

    let file = try C3DFile.read(synthetic)
    let markers = try String(contentsOf: out.appendingPathComponent("markers.csv"), encoding: .utf8)
      .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    XCTAssertEqual(markers.count, 42)  // header, 40 frames, final newline
    XCTAssertTrue(markers[0].hasPrefix("frame,time_s,RHeel_x,RHeel_y,RHeel_z,RToe_x"), markers[0])
    XCTAssertTrue(markers[0].hasSuffix("C7 marker_x,C7 marker_y,C7 marker_z"), markers[0])
    let row11 = markers[11].split(separator: ",", omittingEmptySubsequences: false)
    XCTAssertEqual(row11[0], "17")  // first frame 7 + 10
    XCTAssertEqual(Double(row11[1]) ?? 0, 0.16, accuracy: 1e-6)
    XCTAssertEqual(row11[5], "")  // RToe is invalid on frames 10-13
    XCTAssertEqual(Float(row11[2]), file.point(frame: 10, index: 0).x)

    let analogs = try String(contentsOf: out.appendingPathComponent("analogs.csv"), encoding: .utf8)
      .split(separator: "\n").map(String.init)
    XCTAssertEqual(analogs.count, 161)
    XCTAssertEqual(analogs[0].split(separator: ",").count, 29)
    let sample5 = analogs[6].split(separator: ",")
    XCTAssertEqual(Double(sample5[3]) ?? 0, file.analog(sample: 5, channel: 2), accuracy: 1e-4)

    let plates = try String(
      contentsOf: out.appendingPathComponent("forceplates.csv"), encoding: .utf8
    )
    .split(separator: "\n").map(String.init)
    XCTAssertEqual(plates.count, 161)
    let header = plates[0].split(separator: ",").map(String.init)
    XCTAssertEqual(header.count, 1 + 4 * 7)
    XCTAssertEqual(
      Array(header[1...7]),
      ["fp1_fx", "fp1_fy", "fp1_fz", "fp1_cop_x", "fp1_cop_y", "fp1_cop_z", "fp1_tz"])
    let series = try file.forcePlates()
    let row = plates[101].split(separator: ",", omittingEmptySubsequences: false)
    XCTAssertEqual(Double(row[8 + 2]) ?? 0, series[1].force[100][2], accuracy: 1e-3)
    XCTAssertEqual(Double(row[8 + 3]) ?? 0, series[1].centreOfPressure[100][0], accuracy: 1e-6)
    XCTAssertEqual(Double(row[8 + 6]) ?? 0, series[1].freeMoment[100][2], accuracy: 1e-4)
  }

  func testBrokenFileExitsOneNamingFileAndByte() throws {
    let folder = try temporaryDirectory("c3d-bad")
    defer { try? FileManager.default.removeItem(at: folder) }
    var bytes = try [UInt8](Data(contentsOf: synthetic))
    bytes = Array(bytes[0..<3000])
    let bad = folder.appendingPathComponent("cut.c3d")
    try Data(bytes).write(to: bad)
    let result = try runKneeforce(["c3d", bad.path])
    XCTAssertEqual(result.status, 1, result.output)
    XCTAssertTrue(result.stderr.hasPrefix("error: \(bad.path): byte "), result.stderr)
    XCTAssertTrue(result.stderr.contains("file ends before the data section"), result.stderr)
  }

  func testUsageErrorsExit64() throws {
    let result = try runKneeforce(["c3d", synthetic.path, "--csv", ""])
    XCTAssertEqual(result.status, 64, result.output)
    XCTAssertTrue(result.stderr.contains("--csv is empty"), result.stderr)
    XCTAssertTrue(result.stderr.contains("Usage: kneeforce c3d"), result.stderr)
    XCTAssertEqual(try runKneeforce(["c3d"]).status, 64)
  }

  func testOutputFolderRules() throws {
    let folder = try temporaryDirectory("c3d-rules")
    defer { try? FileManager.default.removeItem(at: folder) }
    let foreign = folder.appendingPathComponent("foreign")
    try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
    try Data("mine".utf8).write(to: foreign.appendingPathComponent("notes.txt"))
    let refused = try runKneeforce(["c3d", synthetic.path, "--csv", foreign.path, "--force"])
    XCTAssertEqual(refused.status, 64, refused.output)
    XCTAssertTrue(refused.stderr.contains("was not written by kneeforce"), refused.stderr)
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: foreign.path), ["notes.txt"])

    let out = folder.appendingPathComponent("out")
    XCTAssertEqual(try runKneeforce(["c3d", synthetic.path, "--csv", out.path]).status, 0)
    let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
    XCTAssertEqual(
      names, [".kneeforce-out.json", "analogs.csv", "forceplates.csv", "markers.csv"])
    let again = try runKneeforce(["c3d", synthetic.path, "--csv", out.path])
    XCTAssertEqual(again.status, 64, again.output)
    XCTAssertTrue(again.stderr.contains("kneeforce c3d"), again.stderr)
    let forced = try runKneeforce(["c3d", synthetic.path, "--csv", out.path, "--force"])
    XCTAssertEqual(forced.status, 0, forced.output)
  }

  func testMissingFileExitsOne() throws {
    let result = try runKneeforce(["c3d", "/nonexistent/trial.c3d"])
    XCTAssertEqual(result.status, 1, result.output)
    XCTAssertEqual(result.stderr, "error: /nonexistent/trial.c3d does not exist\n")
  }

  func testEveryRealFilePrintsAndExports() throws {
    let files = try LabFilesTestData.realC3DFiles()
    let folder = try temporaryDirectory("c3d-real")
    defer { try? FileManager.default.removeItem(at: folder) }
    for url in files {
      let out = folder.appendingPathComponent(url.deletingPathExtension().lastPathComponent)
      let result = try runKneeforce(["c3d", url.path, "--csv", out.path])
      XCTAssertEqual(result.status, 0, "\(url.lastPathComponent): \(result.output)")
      XCTAssertTrue(result.stdout.contains("Force plates"), url.lastPathComponent)
      XCTAssertTrue(result.stdout.contains("Subjects    "), url.lastPathComponent)
      let file = try C3DFile.read(url)
      for (name, rows) in [
        ("markers.csv", file.frameCount), ("analogs.csv", file.analogSampleCount),
        ("forceplates.csv", file.analogSampleCount),
      ] {
        let text = try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8)
        XCTAssertEqual(
          text.split(separator: "\n").count, rows + 1, "\(url.lastPathComponent) \(name)")
      }
    }
  }
}
