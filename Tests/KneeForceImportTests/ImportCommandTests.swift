import Foundation
import KneeForceTestSupport
import XCTest

final class ImportCommandTests: XCTestCase {
  func testUsageErrorsExit64AndFileErrorsExit1() throws {
    let tmp = try temporaryDirectory("import-cli")
    defer { try? FileManager.default.removeItem(at: tmp) }
    let both = try runKneeforce([
      "import", "grand-challenge", tmp.path, "--out", tmp.appendingPathComponent("o").path,
    ])
    XCTAssertEqual(both.status, 64, both.output)
    XCTAssertTrue(both.output.contains("give exactly one of --body-mass and --subjects"))
    let range = try runKneeforce([
      "import", "grand-challenge", tmp.path, "--body-mass", "5", "--out",
      tmp.appendingPathComponent("o").path,
    ])
    XCTAssertEqual(range.status, 64, range.output)
    let cams = tmp.appendingPathComponent("K3R_sd_01_export_proc_data.csv")
    try "Patient,K3R\n".write(to: cams, atomically: true, encoding: .utf8)
    let mapping = tmp.appendingPathComponent("map.csv")
    try CAMSKneeTestWriter.mappingText.write(to: mapping, atomically: true, encoding: .utf8)
    let bad = try runKneeforce([
      "import", "cams", cams.path, "--markers", mapping.path, "--out",
      tmp.appendingPathComponent("o").path,
    ])
    XCTAssertEqual(bad.status, 1, bad.output)
    XCTAssertTrue(bad.stderr.hasPrefix("error: \(cams.path): "), bad.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("o").path))
  }
}
