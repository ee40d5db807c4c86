import Foundation
import XCTest

@testable import KneeForceLabFiles

/// A path that is not a readable file gets the project's words (a FIFO is never opened, so it
/// cannot block the reader), never Foundation's "The file doesn't exist" for every case.
final class LabFilePathTests: XCTestCase {
  func testEveryReaderNamesWhatIsWrongWithThePath() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("kneeforce-labpaths-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let fifo = folder.appendingPathComponent("trial.c3d")
    XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
    let cases: [(URL, String)] = [
      (folder.appendingPathComponent("none.c3d"), "does not exist"),
      (folder, "is a folder, expected a file"),
      (fifo, "is a FIFO (named pipe), expected a regular file"),
    ]
    let readers: [(String, (URL) throws -> Void)] = [
      ("c3d", { _ = try C3DFile.read($0) }),
      ("trc", { _ = try TRCFile.read($0) }),
      ("sto", { _ = try STOFile.read($0) }),
    ]
    for (url, words) in cases {
      for (name, read) in readers {
        XCTAssertThrowsError(try read(url), "\(name) \(url.path)") { error in
          XCTAssertEqual("\(error)", "\(url.path): \(words)", name)
        }
      }
    }
  }
}
