import Foundation
import XCTest

@testable import KneeForceData

#if canImport(Glibc)
  import Glibc
#endif

/// Files that are not what the manifest promises (FIFOs, folders, unreadable, UTF-16 or
/// binary files, files without a final newline, paths outside the folder) are reported in
/// words, never read in a way that blocks, and never echo raw bytes.
final class FileProblemTests: XCTestCase {
  private var folder: TemporaryFolder!

  override func setUpWithError() throws {
    folder = try TemporaryFolder()
    try Fixture.write(into: folder)
  }

  override func tearDown() {
    chmod(folder.path, 0o755)
    folder.remove()
  }

  private var trialPath: String { folder.path + "/trials/P1_walk_02.csv" }

  /// Checks on a background thread and fails, rather than hangs, after 20 s.
  private func checkWithin20s(
    sourceFile: StaticString = #filePath, sourceLine: UInt = #line
  ) throws -> DatasetCheckReport {
    let done = DispatchSemaphore(value: 0)
    let path = folder.path
    nonisolated(unsafe) var result: DatasetCheckReport?
    Thread.detachNewThread {
      result = DatasetChecker().check(folder: path)
      done.signal()
    }
    guard done.wait(timeout: .now() + 20) == .success, let result else {
      XCTFail("the checker did not return within 20 s", file: sourceFile, line: sourceLine)
      throw XCTSkip("checker hung")
    }
    return result
  }

  /// No message may carry a control character other than the line breaks of lists.
  private func assertPrintable(_ diagnostics: [Diagnostic], sourceLine: UInt = #line) {
    for diagnostic in diagnostics {
      let bad = diagnostic.description.unicodeScalars.filter {
        $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.value == 0xFFFD
      }
      XCTAssertTrue(bad.isEmpty, "unescaped bytes in \(diagnostic)", line: sourceLine)
    }
  }

  func testFIFOAsTrialFileIsReportedWithoutBlocking() throws {
    try FileManager.default.removeItem(atPath: trialPath)
    XCTAssertEqual(mkfifo(trialPath, 0o644), 0)
    let report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 3, column: 6,
      contains: "file 'trials/P1_walk_02.csv' of trial 'P1_walk_02' is a FIFO (named pipe), "
        + "not a regular file")
    XCTAssertFalse(report.diagnostics.contains { $0.message.contains("does not exist") })
    XCTAssertEqual(report.dataset.trials.count, 2)
  }

  func testFolderAsTrialFile() throws {
    try FileManager.default.removeItem(atPath: trialPath)
    try FileManager.default.createDirectory(atPath: trialPath, withIntermediateDirectories: false)
    let report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 3, column: 6,
      contains: "of trial 'P1_walk_02' is a folder, not a regular file")
  }

  func testFIFOOrFolderAsManifestOrEvents() throws {
    try FileManager.default.removeItem(atPath: folder.path + "/events.csv")
    XCTAssertEqual(mkfifo(folder.path + "/events.csv", 0o644), 0)
    var report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "events.csv", line: 1, column: 1,
      contains: "events.csv is a FIFO (named pipe), not a regular file")
    try FileManager.default.removeItem(atPath: folder.path + "/manifest.csv")
    try FileManager.default.createDirectory(
      atPath: folder.path + "/manifest.csv", withIntermediateDirectories: false)
    report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 1, column: 1,
      contains: "manifest.csv is a folder, not a regular file")
    XCTAssertFalse(report.diagnostics.contains { $0.message.contains("no manifest.csv") })
  }

  func testUnreadableTrialFile() throws {
    guard getuid() != 0 else {
      throw XCTSkip(
        "running as root, where file permissions do not stop reads; the errno wording is "
          + "tested by testReadErrorsGiveTheSystemsReason")
    }
    XCTAssertEqual(chmod(trialPath, 0), 0)
    let report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 3, column: 6,
      contains: "of trial 'P1_walk_02' cannot be read: Permission denied")
  }

  func testReadErrorsGiveTheSystemsReason() throws {
    // A symbolic link loop fails to open even for root, with ELOOP.
    try FileManager.default.removeItem(atPath: trialPath)
    XCTAssertEqual(symlink("P1_walk_02.csv", trialPath), 0)
    let report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 3, column: 6,
      contains: "of trial 'P1_walk_02' cannot be read: Too many levels of symbolic links")
    XCTAssertEqual(
      FileReadProblem.file(.system(errno: EACCES)).predicate, "cannot be read: Permission denied")
    XCTAssertEqual(
      FileReadProblem.kind(.inaccessible(errno: EACCES)).sentence(name: "manifest.csv"),
      "manifest.csv cannot be read: Permission denied")
  }

  func testUTF16AndUTF32FilesAreNamedNotEchoed() throws {
    let text = Fixture.trial()
    let utf16LE: [UInt8] =
      [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    let utf16BE: [UInt8] =
      [0xFE, 0xFF] + text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    let noMark = Array(utf16LE.dropFirst(2))
    let utf32LE: [UInt8] =
      [0xFF, 0xFE, 0, 0] + text.unicodeScalars.flatMap { [UInt8($0.value & 0xFF), 0, 0, 0] }
    let cases: [([UInt8], String)] = [
      (utf16LE, "is UTF-16 (little-endian) text; save it as UTF-8 CSV"),
      (utf16BE, "is UTF-16 (big-endian) text"),
      (noMark, "is UTF-16 (little-endian, without a byte order mark) text"),
      (utf32LE, "is UTF-32 (little-endian) text"),
    ]
    for (bytes, words) in cases {
      try folder.write("trials/P1_walk_02.csv", bytes: bytes)
      let report = try checkWithin20s()
      assertDiagnostic(
        report.diagnostics, .error, file: "trials/P1_walk_02.csv", line: 1, column: 1,
        contains: "'P1_walk_02.csv' \(words)")
      XCTAssertEqual(report.diagnostics.filter { $0.file.hasSuffix("P1_walk_02.csv") }.count, 1)
      assertPrintable(report.diagnostics)
    }
    try folder.write(
      "manifest.csv",
      bytes: [0xFF, 0xFE]
        + Array(Fixture.manifest.utf16).map {
          UInt8($0 & 0xFF)
        })
    let report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 1, column: 1,
      contains: "'manifest.csv' is UTF-16 (little-endian) text")
  }

  func testBinaryFilesAndControlBytesAreEscaped() throws {
    try folder.write(
      "trials/P1_walk_02.csv", bytes: [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0, 0x1B, 0x5B])
    var report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "trials/P1_walk_02.csv", line: 1, column: 1,
      contains: "'P1_walk_02.csv' contains NUL bytes (the first at byte 8): it is binary data")
    assertPrintable(report.diagnostics)

    try folder.write("trials/P1_walk_02.csv", bytes: [0x50, 0x4B, 0x03, 0x04, 0x14, 0, 6, 0])
    report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "trials/P1_walk_02.csv", line: 1, column: 1,
      contains: "is a ZIP archive (an .xlsx or .ods workbook?)")

    // Control characters and bytes that are not UTF-8, without NULs, reach the parser: the
    // offending cell is shown escaped.
    let header = "\u{1B}[31mtime\u{07}," + Fixture.header.dropFirst("time_s,".count)
    try folder.write(
      "trials/P1_walk_02.csv", bytes: Array((header + "\n0,1,2,3,4,5,6,7\n").utf8) + [0xE9, 0x0A])
    report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "trials/P1_walk_02.csv", line: 1, column: 1,
      contains: "first column must be 'time_s', found '\\x1B[31mtime\\x07'")
    let cell = Fixture.trial().replacingOccurrences(of: "\n0.01,11", with: "\n0.01,1\u{1}1\u{9B}")
    try folder.write("trials/P1_walk_02.csv", bytes: Array(cell.utf8))
    report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "trials/P1_walk_02.csv", line: 3, column: 2,
      contains: "not a number: '1\\x011\\x9B' in kin.knee_flexion")
    assertPrintable(report.diagnostics)
  }

  func testMissingFinalNewlineWarnsButAShortLastRowIsAnError() throws {
    let trial = Fixture.trial()
    try folder.write("trials/P1_walk_02.csv", String(trial.dropLast()))
    try folder.write("manifest.csv", String(Fixture.manifest.dropLast()))
    try folder.write("events.csv", String(Fixture.events.dropLast()))
    var report = try checkWithin20s()
    XCTAssertFalse(report.diagnostics.hasErrors, "\(report.diagnostics)")
    assertDiagnostic(
      report.diagnostics, .warning, file: "trials/P1_walk_02.csv", line: 9, column: 1,
      contains: "the file does not end with a newline; check that its last row (line 9)")
    assertDiagnostic(
      report.diagnostics, .warning, file: "manifest.csv", line: 4, column: 1,
      contains: "does not end with a newline")
    assertDiagnostic(
      report.diagnostics, .warning, file: "events.csv", line: 4, column: 1,
      contains: "does not end with a newline")
    XCTAssertEqual(report.dataset.trials.count, 3)

    // Cut inside the last row: fewer fields, an error, and no extra warning.
    try Fixture.write(into: folder, changes: ["trials/P1_walk_02.csv": String(trial.dropLast(20))])
    report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "trials/P1_walk_02.csv", line: 9, column: 5,
      contains: "row has only 4 fields but the header has 8; the file ends inside this row, "
        + "without a newline: it was cut short")
    XCTAssertFalse(report.diagnostics.contains { $0.message.contains("does not end with") })
    XCTAssertEqual(report.dataset.trials.count, 2)
    try folder.write("manifest.csv", String(Fixture.manifest.dropLast(12)))
    report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 4, column: 7,
      contains: "row has only 6 fields but the header has 7; the file ends inside this row")
  }

  func testPathsLeavingTheFolderAreErrorsAndNotRead() throws {
    let outside = folder.path + "-outside.csv"
    try Data("SECRET-FIRST-LINE,x\n".utf8).write(to: URL(fileURLWithPath: outside))
    defer { try? FileManager.default.removeItem(atPath: outside) }
    let name = (outside as NSString).lastPathComponent
    let manifest = Fixture.manifest
      .replacingOccurrences(of: "trials/P1_walk_02.csv", with: "trials/../../\(name)")
      .replacingOccurrences(of: "trials/P2_walk_01.csv", with: outside)
      .replacingOccurrences(of: "trials/P1_walk_01.csv", with: "trials/..")
    try folder.write("manifest.csv", manifest)
    let report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 3, column: 6,
      contains: "of trial 'P1_walk_02' leaves the dataset folder (by '..'); trial files must "
        + "be inside the dataset folder")
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 4, column: 6,
      contains: "of trial 'P2_walk_01' is an absolute path; trial files must be inside")
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 2, column: 6,
      contains: "of trial 'P1_walk_01' names the dataset folder itself, not a file in it")
    XCTAssertFalse(report.diagnostics.contains { $0.description.contains("SECRET") })
    XCTAssertFalse(report.diagnostics.contains { $0.file == outside })
    // `..` that stays inside is fine.
    try folder.write(
      "manifest.csv",
      Fixture.manifest.replacingOccurrences(
        of: "trials/P1_walk_02.csv", with: "trials/../trials/./P1_walk_02.csv"))
    XCTAssertEqual(try checkWithin20s().diagnostics, [])
  }

  func testSymlinksInsideTheFolderAreFollowed() throws {
    try FileManager.default.createDirectory(
      atPath: folder.path + "/elsewhere", withIntermediateDirectories: false)
    try FileManager.default.moveItem(
      atPath: trialPath, toPath: folder.path + "/elsewhere/second.csv")
    XCTAssertEqual(symlink("../elsewhere/second.csv", trialPath), 0)
    let report = try checkWithin20s()
    XCTAssertEqual(report.diagnostics, [])
    XCTAssertEqual(report.dataset.trials.count, 3)
  }

  func testMissingFolderAndFileAsFolderSayDifferentThings() throws {
    let missing = folder.path + "/no-such-folder"
    let file = folder.path + "/manifest.csv"
    let fifo = folder.path + "/pipe"
    XCTAssertEqual(mkfifo(fifo, 0o644), 0)
    XCTAssertEqual(
      DatasetChecker.folderProblem(missing), "the dataset folder '\(missing)' does not exist")
    XCTAssertEqual(
      DatasetChecker.folderProblem(file),
      "'\(file)' is a file, not a dataset folder; give the folder that holds manifest.csv")
    XCTAssertEqual(
      DatasetChecker.folderProblem(fifo), "'\(fifo)' is a FIFO (named pipe), not a dataset folder")
    XCTAssertNil(DatasetChecker.folderProblem(folder.path))
    for path in [missing, file, fifo] {
      let report = DatasetChecker().check(folder: path)
      XCTAssertEqual(report.diagnostics.count, 1)
      XCTAssertEqual(report.diagnostics.first?.message, DatasetChecker.folderProblem(path))
      XCTAssertThrowsError(try Dataset.load(path)) { error in
        XCTAssertFalse("\(error)".contains("no manifest.csv"), "\(error)")
      }
    }
    if getuid() != 0 {
      XCTAssertEqual(chmod(folder.path, 0), 0)
      XCTAssertEqual(
        DatasetChecker.folderProblem(folder.path),
        "cannot read the dataset folder '\(folder.path)': Permission denied")
    }
  }

  func testManifestCellsAreEscapedInMessagesPathsAndTheSummary() throws {
    let manifest = Fixture.manifest
      .replacingOccurrences(of: "trials/P1_walk_02.csv", with: "trials/\u{1B}[2J.csv")
      .replacingOccurrences(of: "P2,walking", with: "P\u{7}2,walking\u{202E}")
    try folder.write("manifest.csv", manifest)
    let report = try checkWithin20s()
    assertDiagnostic(
      report.diagnostics, .error, file: "manifest.csv", line: 3, column: 6,
      contains: "file 'trials/\\x1B[2J.csv' of trial 'P1_walk_02' does not exist (looked for "
        + folder.path + "/trials/\\x1B[2J.csv)")
    assertPrintable(report.diagnostics)
    let summary = report.summary.render()
    XCTAssertTrue(summary.contains("P\\x072"), summary)
    XCTAssertTrue(summary.contains("walking\\u{202E}"), summary)
    XCTAssertFalse(summary.unicodeScalars.contains { $0.value == 0x1B || $0.value == 7 })
  }

  func testScanKeepsNoTrialsAndSummarisesAsCheckDoes() throws {
    try folder.write("trials/P1_walk_02.csv", Fixture.trial(offset: 1) + "0.08,x,1,1,1,1,1,1\n")
    var seen: [String] = []
    let scan = DatasetChecker().scan(folder: folder.path) { seen.append($0.info.trialID) }
    XCTAssertEqual(seen, ["P1_walk_01", "P2_walk_01"])
    // The scan's result holds no trial and no dataset, at any depth.
    func holdsTrials(_ value: Any, depth: Int = 0) -> Bool {
      if value is Trial || value is Dataset || value is [Trial] { return true }
      guard depth < 6 else { return false }
      return Mirror(reflecting: value).children.contains { holdsTrials($0.value, depth: depth + 1) }
    }
    XCTAssertFalse(holdsTrials(scan))
    let check = DatasetChecker().check(folder: folder.path)
    XCTAssertEqual(scan.diagnostics, check.diagnostics)
    XCTAssertEqual(scan.summary.render(), check.summary.render())
    let rebuilt = DatasetSummary(
      dataset: check.dataset, manifestRows: 3, diagnostics: check.diagnostics)
    XCTAssertEqual(scan.summary.render(), rebuilt.render())
    XCTAssertEqual(check.dataset.trials.map(\.info.trialID), seen)
  }

  func testStreamedTrialEqualsParsedTrialAcrossChunkBoundaries() throws {
    let text = Fixture.trial().replacingOccurrences(of: "\n", with: "\r\n")
    let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(text.utf8)
    try folder.write("trials/P1_walk_02.csv", bytes: bytes)
    let info = TrialInfo(
      trialID: "t", subject: "s", activity: "walking", side: .right, bodyWeightN: 700,
      file: "trials/P1_walk_02.csv")
    let parsed = TrialReader.parse(bytes, file: trialPath, info: info)
    guard case .success(let streamed) = TrialReader.read(trialPath, info: info) else {
      return XCTFail("read failed")
    }
    XCTAssertEqual(streamed.0, parsed.0)
    XCTAssertEqual(streamed.1, parsed.1)
    var chunks: [Int] = []
    XCTAssertNil(DatasetFiles.stream(trialPath, chunkSize: 7) { chunks.append($0.count) })
    XCTAssertEqual(chunks.reduce(0, +), bytes.count)
    XCTAssertTrue(chunks.dropLast().allSatisfy { $0 == 7 })
  }
}
