import XCTest

@testable import KneeForceData

/// Malformed files must never crash the readers: random bytes, truncations and mutations of
/// valid files go through every parser and, a few times, through the whole checker. Seeded
/// and bounded, so a failure reproduces and the test stays fast.
final class FuzzTests: XCTestCase {
  private let alphabet = Array("0123456789.,-+eE\"\n\r \tNaN\u{FEFF}time_skin.grf".utf8)

  private func randomBytes(_ rng: inout SeededRandom) -> [UInt8] {
    let count = rng.integer(0, 200)
    return (0..<count).map { _ in
      rng.unit() < 0.8
        ? alphabet[rng.integer(0, alphabet.count - 1)] : UInt8(truncatingIfNeeded: rng.next())
    }
  }

  private func mutated(_ bytes: [UInt8], _ rng: inout SeededRandom) -> [UInt8] {
    var out = bytes
    for _ in 0..<rng.integer(1, 6) where !out.isEmpty {
      let at = rng.integer(0, out.count - 1)
      switch rng.integer(0, 3) {
      case 0: out[at] = alphabet[rng.integer(0, alphabet.count - 1)]
      case 1: out.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
      case 2: out.remove(at: at)
      default: out.insert(contentsOf: [0xEF, 0xBB, 0xBF], at: at)
      }
    }
    return out
  }

  /// Every diagnostic points at a line and column of `file` (the file it is about), and
  /// carries no raw control character or undecodable byte.
  private func assertSane(_ diagnostics: [Diagnostic], _ context: String, file: String? = nil) {
    for diagnostic in diagnostics {
      XCTAssertGreaterThanOrEqual(diagnostic.line, 1, context)
      XCTAssertGreaterThanOrEqual(diagnostic.column, 1, context)
      XCTAssertFalse(diagnostic.message.isEmpty, context)
      if let file { XCTAssertEqual(diagnostic.file, file, context) }
      let raw = diagnostic.message.unicodeScalars.contains {
        $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.value == 0xFFFD
      }
      XCTAssertFalse(raw, "\(context): unescaped bytes in \(diagnostic)")
    }
  }

  private func parseAll(_ bytes: [UInt8], _ context: String) {
    _ = CSVReader.parse(bytes)
    let (_, manifest) = Manifest.parse(bytes, file: "manifest.csv")
    assertSane(manifest, context, file: "manifest.csv")
    let info = TrialInfo(
      trialID: "t", subject: "s", activity: "walking", side: .right, bodyWeightN: 700,
      file: "t.csv")
    for maxGap in [0, 5] {
      let (trial, diagnostics) = TrialReader.parse(
        bytes, file: "t.csv", info: info, maxGap: maxGap)
      assertSane(diagnostics, context, file: "t.csv")
      if let trial {
        XCTAssertEqual(trial.values.count, trial.channels.count, context)
        for column in trial.values { XCTAssertEqual(column.count, trial.time.count, context) }
        _ = try? FeaturePipeline().sequences(from: [trial])
      }
    }
    let (_, events) = GaitEventsReader.parse(bytes, file: "events.csv", knownTrials: ["t"])
    assertSane(events, context, file: "events.csv")
    assertChunkingDoesNotMatter(bytes, context)
  }

  func testReadersSurviveRandomTruncatedAndMutatedInput() {
    var rng = SeededRandom(seed: 2024)
    let valid = [
      Array(Fixture.manifest.utf8), Array(Fixture.trial().utf8), Array(Fixture.events.utf8),
    ]
    for i in 0..<300 { parseAll(randomBytes(&rng), "random \(i)") }
    for (f, bytes) in valid.enumerated() {
      for cut in stride(from: 0, through: bytes.count, by: 3) {
        parseAll(Array(bytes[..<cut]), "file \(f) cut at \(cut)")
      }
      for i in 0..<150 { parseAll(mutated(bytes, &rng), "file \(f) mutation \(i)") }
    }
  }

  /// The streaming parser gives the same records, issues and final-newline answer however the
  /// input is cut into chunks (inside a CRLF, a `""` pair, a BOM-less start).
  private func assertChunkingDoesNotMatter(_ bytes: [UInt8], _ context: String) {
    var whole = CSVParser()
    var expected: [CSVRecord] = []
    bytes.withUnsafeBufferPointer { whole.feed($0) { expected.append($0) } }
    whole.finish { expected.append($0) }
    XCTAssertEqual(expected, CSVReader.parse(bytes).records, context)
    var chunked = CSVParser()
    var records: [CSVRecord] = []
    var start = 0
    var step = bytes.count % 7 + 1
    bytes.withUnsafeBufferPointer { all in
      while start < all.count {
        let end = min(all.count, start + step)
        chunked.feed(UnsafeBufferPointer(rebasing: all[start..<end])) { records.append($0) }
        start = end
        step = step % 5 + 1
      }
    }
    chunked.finish { records.append($0) }
    XCTAssertEqual(records, expected, context)
    XCTAssertEqual(chunked.issues, whole.issues, context)
    XCTAssertEqual(chunked.unterminatedLine, whole.unterminatedLine, context)
  }

  /// Random and truncated files, with byte order marks and NULs, through the file readers:
  /// no trap, and every message names the file.
  func testFileReadersSurviveRandomFiles() throws {
    var rng = SeededRandom(seed: 7)
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let path = folder.path + "/f.csv"
    let info = TrialInfo(
      trialID: "t", subject: "s", activity: "walking", side: .right, bodyWeightN: 700,
      file: "f.csv")
    let starts: [[UInt8]] = [
      [], [0xFF, 0xFE], [0xFE, 0xFF], [0xEF, 0xBB, 0xBF], [0, 0, 0xFE, 0xFF],
    ]
    let trial = Array(Fixture.trial().utf8)
    for i in 0..<120 {
      var bytes = starts[rng.integer(0, starts.count - 1)]
      switch i % 3 {
      case 0: bytes += randomBytes(&rng)
      case 1: bytes += Array(trial[..<rng.integer(0, trial.count)])
      default: bytes += mutated(trial, &rng) + (rng.unit() < 0.3 ? [0] : [])
      }
      try folder.write("f.csv", bytes: bytes)
      switch TrialReader.read(path, info: info) {
      case .success(let (_, diagnostics)):
        assertSane(diagnostics, "file \(i)", file: path)
      case .failure(let problem):
        XCTAssertTrue(problem.sentence(name: "'f.csv'").contains("'f.csv'"), "file \(i)")
        XCTAssertFalse(problem.predicate.unicodeScalars.contains { $0.value < 0x20 })
      }
      if case .success(let read) = DatasetFiles.readAll(path) {
        XCTAssertEqual(read, bytes, "file \(i)")
      }
    }
  }

  func testCheckerSurvivesMutatedFolders() throws {
    var rng = SeededRandom(seed: 99)
    for i in 0..<25 {
      let folder = try TemporaryFolder()
      defer { folder.remove() }
      try Fixture.write(into: folder)
      let targets = ["manifest.csv", "trials/P1_walk_01.csv", "events.csv"]
      let target = targets[rng.integer(0, targets.count - 1)]
      let original: [UInt8] =
        target == "manifest.csv"
        ? Array(Fixture.manifest.utf8)
        : target == "events.csv" ? Array(Fixture.events.utf8) : Array(Fixture.trial().utf8)
      let broken =
        rng.unit() < 0.5
        ? Array(original[..<rng.integer(0, original.count)]) : mutated(original, &rng)
      try folder.write(target, bytes: broken)
      let report = DatasetChecker().check(folder: folder.path)
      assertSane(report.diagnostics, "folder \(i) \(target)")
      _ = report.summary.render()
    }
  }
}
