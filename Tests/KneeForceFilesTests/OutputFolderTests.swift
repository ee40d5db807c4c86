import Foundation
import KneeForceFiles
import KneeForceTestSupport
import XCTest

final class OutputFolderTests: XCTestCase {
  var root: URL!

  override func setUpWithError() throws { root = try temporaryDirectory("outfolder") }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

  func names(_ url: URL) throws -> Set<String> {
    Set(try FileManager.default.contentsOfDirectory(atPath: url.path))
  }

  func testAnAbsentFolderIsCreatedAndMarked() throws {
    let out = root.appendingPathComponent("a/b")
    let prepared = try OutputFolder.prepare(out.path, command: "demo", mode: .fresh)
    XCTAssertFalse(prepared.resumed)
    XCTAssertEqual(OutputFolder.readMarker(out)?.command, "demo")
    XCTAssertEqual(OutputFolder.readMarker(out)?.tool, "kneeforce")
  }

  func testAUsersNonEmptyFolderIsRefusedEvenWithForce() throws {
    let out = root.appendingPathComponent("thesis")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    try Data("my only copy".utf8).write(to: out.appendingPathComponent("data.csv"))
    for mode in [OutputFolder.Mode.fresh, .force, .resume] {
      XCTAssertThrowsError(try OutputFolder.prepare(out.path, command: "demo", mode: mode)) {
        XCTAssertTrue("\($0)".contains("was not written by kneeforce"), "\($0)")
      }
    }
    XCTAssertEqual(try names(out), ["data.csv"])
  }

  func testAMarkedFolderNeedsForceAndForceReplacesItsContents() throws {
    let out = root.appendingPathComponent("run")
    try OutputFolder.prepare(out.path, command: "demo", mode: .fresh)
    try Data("old".utf8).write(to: out.appendingPathComponent("old.csv"))
    XCTAssertThrowsError(try OutputFolder.prepare(out.path, command: "demo", mode: .fresh)) {
      XCTAssertTrue("\($0)".contains("--force"), "\($0)")
    }
    XCTAssertTrue(try names(out).contains("old.csv"))
    try OutputFolder.prepare(out.path, command: "demo", mode: .force)
    XCTAssertEqual(try names(out), [OutputFolder.markerName])
  }

  func testResumeKeepsAMarkedFolderOfTheSameCommandOnly() throws {
    let out = root.appendingPathComponent("sweep")
    try OutputFolder.prepare(out.path, command: "sweep", mode: .resume)
    try Data("unit".utf8).write(to: out.appendingPathComponent("unit.json"))
    let again = try OutputFolder.prepare(out.path, command: "sweep", mode: .resume)
    XCTAssertTrue(again.resumed)
    XCTAssertTrue(try names(out).contains("unit.json"))
    XCTAssertThrowsError(try OutputFolder.prepare(out.path, command: "demo", mode: .resume)) {
      XCTAssertTrue("\($0)".contains("cannot be resumed"), "\($0)")
    }
  }

  func testEmptyPathsAndFilesAreRefused() throws {
    XCTAssertThrowsError(try OutputFolder.prepare("", command: "demo", mode: .fresh)) {
      XCTAssertTrue("\($0)".contains("--out is empty"), "\($0)")
    }
    let file = root.appendingPathComponent("file")
    try Data("x".utf8).write(to: file)
    XCTAssertThrowsError(try OutputFolder.prepare(file.path, command: "demo", mode: .force)) {
      XCTAssertTrue("\($0)".contains("is a file, expected a folder"), "\($0)")
    }
  }

  func testWriteWholePublishesCompleteFoldersOnly() throws {
    let out = root.appendingPathComponent("data")
    _ = try OutputFolder.writeWhole(out.path, command: "synth", mode: .fresh) { staging in
      try Data("m".utf8).write(to: staging.appendingPathComponent("manifest.csv"))
    }
    XCTAssertEqual(try names(out), ["manifest.csv", OutputFolder.markerName])

    // A build that fails half-way leaves the published folder as it was and no staging.
    struct Stop: Error {}
    XCTAssertThrowsError(
      _ = try OutputFolder.writeWhole(out.path, command: "synth", mode: .force) { staging in
        try Data("new".utf8).write(to: staging.appendingPathComponent("half.csv"))
        throw Stop()
      })
    XCTAssertEqual(try names(out), ["manifest.csv", OutputFolder.markerName])
    XCTAssertEqual(try names(root), ["data"])

    // With --force the old contents are gone, not mixed with the new.
    _ = try OutputFolder.writeWhole(out.path, command: "synth", mode: .force) { staging in
      try Data("t".utf8).write(to: staging.appendingPathComponent("trial.csv"))
    }
    XCTAssertEqual(try names(out), ["trial.csv", OutputFolder.markerName])
    XCTAssertEqual(try names(root), ["data"])
  }
}
