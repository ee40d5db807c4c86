import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// `kneeforce check` through the real executable: a folder that is not a dataset folder
/// exits 1 with one line that says what it is, and file problems never hang or echo bytes.
final class CheckCommandTests: XCTestCase {
  private func synthesised(_ name: String) throws -> URL {
    let folder = try makeTemporaryFolder(name)
    let synth = try kneeforce(["synth", "--out", folder.path, "--subjects", "2", "--trials", "1"])
    XCTAssertEqual(synth.status, 0, synth.output)
    return folder
  }

  func testMissingFolderFileAsFolderAndUnreadableFolderExit1WithDistinctMessages() throws {
    let base = try makeTemporaryFolder("check-folders")
    defer {
      chmod(base.path + "/locked", 0o755)
      try? FileManager.default.removeItem(at: base)
    }
    let missing = base.path + "/missing"
    let file = base.path + "/file.csv"
    try Data("trial_id\n".utf8).write(to: URL(fileURLWithPath: file))
    var messages: [String] = []
    for (path, expected) in [
      (missing, "error: the dataset folder '\(missing)' does not exist"),
      (
        file,
        "error: '\(file)' is a file, not a dataset folder; give the folder that holds "
          + "manifest.csv"
      ),
    ] {
      let result = try kneeforce(["check", path])
      XCTAssertEqual(result.status, 1, result.output)
      XCTAssertEqual(result.stderr.trimmingCharacters(in: .newlines), expected, result.output)
      XCTAssertFalse(result.output.contains("no manifest.csv"), result.output)
      XCTAssertEqual(result.stdout, "", "no summary for a folder that is not one")
      messages.append(result.stderr)
    }
    XCTAssertNotEqual(messages[0], messages[1])

    let locked = base.path + "/locked"
    try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
    chmod(locked, 0)
    let result = try kneeforce(["check", locked])
    XCTAssertEqual(result.status, 1, result.output)
    if getuid() == 0 {
      // Root reads it anyway: an empty folder, so the manifest is what is missing.
      XCTAssertTrue(result.output.contains("no manifest.csv in the dataset folder"), result.output)
    } else {
      XCTAssertTrue(
        result.stderr.contains(
          "error: cannot read the dataset folder '\(locked)': "
            + "Permission denied"), result.output)
    }
    let usage = try kneeforce(["check"])
    XCTAssertEqual(usage.status, 64, usage.output)
    XCTAssertTrue(usage.output.contains("Usage: kneeforce check"), usage.output)
  }

  func testFIFOAndUTF16TrialFilesAreNamedAndExit1() throws {
    let folder = try synthesised("check-fifo")
    defer { try? FileManager.default.removeItem(at: folder) }
    let manifest = try String(
      contentsOf: folder.appendingPathComponent("manifest.csv"), encoding: .utf8)
    let rows = manifest.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
    let fileColumn = try XCTUnwrap(rows[0].firstIndex(of: "file"))
    let first = folder.appendingPathComponent(rows[1][fileColumn]).path
    let second = folder.appendingPathComponent(rows[2][fileColumn]).path
    try FileManager.default.removeItem(atPath: first)
    XCTAssertEqual(mkfifo(first, 0o644), 0)
    let text = try String(contentsOfFile: second, encoding: .utf8)
    var utf16 = Data([0xFF, 0xFE])
    for unit in text.utf16 { utf16.append(contentsOf: [UInt8(unit & 0xFF), UInt8(unit >> 8)]) }
    try utf16.write(to: URL(fileURLWithPath: second))

    let result = try kneeforce(["check", folder.path])
    XCTAssertEqual(result.status, 1, result.output)
    XCTAssertTrue(
      result.stdout.contains("is a FIFO (named pipe), not a regular file"), result.stdout)
    XCTAssertTrue(
      result.stdout.contains("is UTF-16 (little-endian) text; save it as UTF-8 CSV"), result.stdout)
    XCTAssertFalse(result.stdout.contains("\u{0}"), "NUL bytes echoed")
    XCTAssertFalse(result.stdout.contains("does not exist"), result.stdout)
  }

  func testDifficultyPrintsOneRowPerFoldAndNamesAMissingActivity() throws {
    let folder = try makeTemporaryFolder("check-difficulty")
    defer { try? FileManager.default.removeItem(at: folder) }
    let synth = try kneeforce([
      "synth", "--out", folder.path, "--subjects", "3", "--trials", "2", "--nuisance", "none",
    ])
    XCTAssertEqual(synth.status, 0, synth.output)
    let result = try kneeforce(["check", folder.path, "--difficulty"])
    XCTAssertEqual(result.status, 0, result.output)
    XCTAssertTrue(result.stdout.contains("activity walking"), result.stdout)
    let lines = result.stdout.split(separator: "\n")
    let header = lines.firstIndex { $0.hasPrefix("held out") } ?? lines.endIndex
    let rows = lines.dropFirst(header + 1).prefix { !$0.hasPrefix("mean curve:") }
    // Three folds of 2 trials x 3 cycles, then the mean; every cell a number.
    XCTAssertEqual(rows.count, 4, result.stdout)
    for row in rows {
      let numbers = row.split(separator: " ").compactMap { Double($0) }
      XCTAssertEqual(numbers.count, row.hasPrefix("mean") ? 6 : 7, String(row))
    }
    let missing = try kneeforce(["check", folder.path, "--difficulty", "--activity", "jumping"])
    XCTAssertEqual(missing.status, 1, missing.output)
    XCTAssertTrue(missing.stderr.contains("no sequences of activity jumping"), missing.output)
  }
}
