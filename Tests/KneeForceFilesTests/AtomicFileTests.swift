import Foundation
import KneeForceFiles
import KneeForceTestSupport
import XCTest

final class AtomicFileTests: XCTestCase {
  func testWritesTheBytesAndLeavesNoTemporary() throws {
    let folder = try temporaryDirectory("atomic")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("results.csv")
    try AtomicFile.write("a,b\n1,2\n", to: url)
    try AtomicFile.write("a,b\n3,4\n", to: url)
    XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "a,b\n3,4\n")
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: folder.path), ["results.csv"])
    XCTAssertTrue(Interruption.registered.isEmpty)
  }

  func testAFailedWriteNamesTheFileAndTheReason() throws {
    let url = URL(fileURLWithPath: "/nonexistent-kneeforce-folder/out.csv")
    XCTAssertThrowsError(try AtomicFile.write("x", to: url)) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("/nonexistent-kneeforce-folder/out.csv"), text)
      XCTAssertTrue(text.contains("No such file or directory"), text)
    }
  }

  func testStaleTemporariesOfDeadProcessesAreRemovedAndLiveOnesKept() throws {
    let folder = try temporaryDirectory("stale")
    defer { try? FileManager.default.removeItem(at: folder) }
    // A pid far above pid_max does not run; our own pid does.
    let dead = folder.appendingPathComponent("\(AtomicFile.temporaryMarker)99999999.abcd.x.csv")
    let live = folder.appendingPathComponent("\(AtomicFile.temporaryMarker)\(getpid()).abcd.y.csv")
    let kept = folder.appendingPathComponent("results.csv")
    for url in [dead, live, kept] { try Data("x".utf8).write(to: url) }
    AtomicFile.removeStaleTemporaries(in: folder)
    let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
    XCTAssertEqual(names, [live.lastPathComponent, kept.lastPathComponent])
  }
}

final class FileIdentityTests: XCTestCase {
  func testLinksAndSpellingsOfOnePathAreTheSameFile() throws {
    let folder = try temporaryDirectory("identity")
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("ck.safetensors")
    try Data("x".utf8).write(to: file)
    let hard = folder.appendingPathComponent("hard")
    let soft = folder.appendingPathComponent("soft")
    XCTAssertEqual(link(file.path, hard.path), 0)
    try FileManager.default.createSymbolicLink(at: soft, withDestinationURL: file)
    XCTAssertTrue(FileIdentity.same(file.path, hard.path))
    XCTAssertTrue(FileIdentity.same(file.path, soft.path))
    XCTAssertTrue(FileIdentity.same(file.path, folder.path + "/./ck.safetensors"))
    XCTAssertFalse(FileIdentity.same(file.path, folder.appendingPathComponent("other").path))
    XCTAssertThrowsError(
      try FileIdentity.refuseOverwriting(
        output: ("--output", soft.path), inputs: [("--checkpoint", file.path)])
    ) { error in
      XCTAssertTrue("\(error)".contains("is the same file as --checkpoint"), "\(error)")
    }
  }

  func testKindsAreNamedInWords() throws {
    let folder = try temporaryDirectory("kinds")
    defer { try? FileManager.default.removeItem(at: folder) }
    let fifo = folder.appendingPathComponent("pipe")
    XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
    XCTAssertEqual(FileKind(path: fifo.path), .fifo)
    XCTAssertEqual(FileKind(path: folder.path), .directory)
    XCTAssertEqual(FileKind(path: "/dev/null"), .device)
    XCTAssertEqual(FileKind(path: folder.appendingPathComponent("none").path), .missing)
    XCTAssertEqual(FileKind(path: fifo.path).words, "is a FIFO (named pipe)")
  }
}

final class RegularFileTests: XCTestCase {
  func testEachKindOfNonFileIsNamedAndAFIFOIsNeverOpened() throws {
    let folder = try temporaryDirectory("regular")
    defer { try? FileManager.default.removeItem(at: folder) }
    let fifo = folder.appendingPathComponent("pipe")
    XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
    let file = folder.appendingPathComponent("a.bin")
    try Data([1, 2, 3]).write(to: file)
    XCTAssertEqual(try RegularFile.read(file.path), Data([1, 2, 3]))
    let cases: [(String, String)] = [
      (folder.appendingPathComponent("none").path, "does not exist"),
      (folder.path, "is a folder, expected a file"),
      (fifo.path, "is a FIFO (named pipe), expected a regular file"),
      ("/dev/null", "is a device, expected a regular file"),
    ]
    for (path, reason) in cases {
      XCTAssertThrowsError(try RegularFile.read(path)) { error in
        XCTAssertEqual((error as? RegularFileError)?.reason, reason, "\(path)")
        XCTAssertFalse("\(error)".contains("NSCocoaErrorDomain"))
      }
    }
  }
}
