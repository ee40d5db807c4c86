import Foundation
import XCTest

@testable import KneeForceData

/// A temporary dataset folder written file by file, removed by the test's teardown.
final class TemporaryFolder {
  let path: String

  init() throws {
    path = NSTemporaryDirectory() + "kneeforce-data-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  func write(_ relative: String, _ text: String) throws {
    try write(relative, bytes: Array(text.utf8))
  }

  func write(_ relative: String, bytes: [UInt8]) throws {
    let full = path + "/" + relative
    let directory = (full as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try Data(bytes).write(to: URL(fileURLWithPath: full))
  }

  func remove() {
    try? FileManager.default.removeItem(atPath: path)
  }
}

/// A small valid dataset: two subjects, three trials of 8 samples, events for one trial.
/// Each broken-dataset test changes one file of it.
enum Fixture {
  static let manifest = """
    trial_id,subject,activity,side,body_weight_n,file,note
    P1_walk_01,P1,walking,L,700,trials/P1_walk_01.csv,first
    P1_walk_02,P1,walking,L,700,trials/P1_walk_02.csv,"second, with comma"
    P2_walk_01,P2,walking,R,800,trials/P2_walk_01.csv,

    """

  static let header =
    "time_s,kin.knee_flexion,grf.vertical,grf.cop_anterior,emg.vastus_medialis,kcf.medial,"
    + "kcf.lateral,kcf.total"

  /// Eight samples at 100 Hz; `offset` makes trials differ.
  static func trial(offset: Double = 0) -> String {
    var lines = [header]
    for i in 0..<8 {
      let t = Double(i) / 100
      let row = [
        t, 10 + Double(i) + offset, 700 + 10 * Double(i), 0.01 * Double(i), 0.1,
        800 + Double(i), 600, 1400 + Double(i),
      ]
      lines.append(row.map { format($0) }.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  static let events = """
    trial_id,event,time_s
    P1_walk_01,foot_strike,0.01
    P1_walk_01,foot_off,0.04
    P1_walk_01,foot_strike,0.06

    """

  static func format(_ value: Double) -> String {
    var bytes: [UInt8] = []
    DecimalFormatter.append(value, decimals: 6, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Writes the fixture, then applies `changes` (relative path → new content, nil removes).
  static func write(into folder: TemporaryFolder, changes: [String: String?] = [:]) throws {
    var files: [String: String] = [
      "manifest.csv": manifest,
      "trials/P1_walk_01.csv": trial(),
      "trials/P1_walk_02.csv": trial(offset: 1),
      "trials/P2_walk_01.csv": trial(offset: 2),
      "events.csv": events,
    ]
    for (path, content) in changes {
      if let content { files[path] = content } else { files.removeValue(forKey: path) }
    }
    for (path, content) in files { try folder.write(path, content) }
  }
}

extension XCTestCase {
  /// Asserts that `diagnostics` contain one of `severity` at `file` (suffix), `line` and
  /// `column` whose message contains `text`, and prints them otherwise.
  func assertDiagnostic(
    _ diagnostics: [Diagnostic], _ severity: Diagnostic.Severity, file: String, line: Int,
    column: Int, contains text: String, sourceFile: StaticString = #filePath,
    sourceLine: UInt = #line
  ) {
    let found = diagnostics.contains {
      $0.severity == severity && $0.file.hasSuffix(file) && $0.line == line
        && $0.column == column && $0.message.contains(text)
        && $0.description.contains("\(file):\(line):\(column): \(severity.rawValue): ")
    }
    XCTAssertTrue(
      found,
      "expected \(file):\(line):\(column): \(severity.rawValue): ...\(text)... in\n"
        + diagnostics.map(\.description).joined(separator: "\n"),
      file: sourceFile, line: sourceLine)
  }
}
