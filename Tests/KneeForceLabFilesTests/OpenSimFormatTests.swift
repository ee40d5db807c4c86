import Foundation
import XCTest

@testable import KneeForceLabFiles

/// The OpenSim text formats on small hand-written files: every header form, and errors that
/// name the line and column.
final class OpenSimFormatTests: XCTestCase {
  func sto(_ text: String, name: String = "t.sto") throws -> STOFile {
    try STOFile.parse(Data(text.utf8), name: name)
  }

  func trc(_ text: String) throws -> TRCFile {
    try TRCFile.parse(Data(text.utf8), name: "t.trc")
  }

  func expectError(
    _ body: () throws -> Void, line: Int, column: Int? = nil, containing text: String,
    file: StaticString = #filePath, sourceLine: UInt = #line
  ) {
    do {
      try body()
      XCTFail("expected an error containing \"\(text)\"", file: file, line: sourceLine)
    } catch let error as LabFileError {
      guard case .line(let gotLine, let gotColumn) = error.location else {
        XCTFail("no line in \(error)", file: file, line: sourceLine)
        return
      }
      XCTAssertEqual(gotLine, line, error.description, file: file, line: sourceLine)
      if let column {
        XCTAssertEqual(gotColumn, column, error.description, file: file, line: sourceLine)
      }
      XCTAssertTrue(error.message.contains(text), error.description, file: file, line: sourceLine)
    } catch {
      XCTFail("unexpected \(error)", file: file, line: sourceLine)
    }
  }

  static let version1 = """
    Coordinates
    version=1
    nRows=3
    nColumns=3
    inDegrees=yes
    endheader
    time\tknee_angle_r\thip_flexion_r
    0.00\t5.0\t20.5
    0.01\t5.5\t21.0
    0.02\t6.0\t-0

    """

  func testVersion1MotWithInDegrees() throws {
    let file = try sto(Self.version1, name: "c.mot")
    XCTAssertEqual(file.title, "Coordinates")
    XCTAssertEqual(file.version, 1)
    XCTAssertEqual(file.inDegrees, true)
    XCTAssertEqual(file.columns, ["time", "knee_angle_r", "hip_flexion_r"])
    XCTAssertEqual(file.rowCount, 3)
    XCTAssertEqual(file.column("knee_angle_r"), [5.0, 5.5, 6.0])
  }

  func testVersion2StoWithoutTitleAndSpaceSeparated() throws {
    let text = """
      nColumns=2
      nRows=2
      DataType=double
      version=2
      OpenSimVersion=4.3
      endheader
      time  ground_force_vy
      0.5   700.25
      0.6   -1e-3
      """
    let file = try sto(text)
    XCTAssertEqual(file.title, "")
    XCTAssertEqual(file.version, 2)
    XCTAssertNil(file.inDegrees)
    XCTAssertEqual(file.metadata["DataType"], "double")
    XCTAssertEqual(file.column("ground_force_vy"), [700.25, -0.001])
  }

  func testOldSIMMHeader() throws {
    let text = """
      walk.mot
      datacolumns 2
      datarows 1
      range 0 1
      endheader
      time\tpelvis_tx
      0\t0.25
      """
    let file = try sto(text, name: "walk.mot")
    XCTAssertEqual(file.title, "walk.mot")
    XCTAssertEqual(file.metadata["range 0 1"], "")
    XCTAssertEqual(file.column("pelvis_tx"), [0.25])
  }

  func testRowCountDisagreesWithHeader() {
    expectError(
      { _ = try sto(Self.version1.replacingOccurrences(of: "nRows=3", with: "nRows=4")) },
      line: 3, containing: "header says 4 rows; the file has 3")
  }

  func testColumnCountDisagreesWithHeader() {
    expectError(
      { _ = try sto(Self.version1.replacingOccurrences(of: "nColumns=3", with: "nColumns=2")) },
      line: 4, containing: "header says 2 columns")
  }

  func testBadNumberNamesLineAndColumn() {
    expectError(
      { _ = try sto(Self.version1.replacingOccurrences(of: "21.0", with: "2x")) },
      line: 9, column: 3, containing: "expected a number, found \"2x\"")
  }

  func testShortRow() {
    expectError(
      { _ = try sto(Self.version1.replacingOccurrences(of: "0.01\t5.5\t21.0", with: "0.01\t5.5")) },
      line: 9, column: 3, containing: "2 values, expected 3")
  }

  func testMissingEndheader() {
    expectError({ _ = try sto("version=1\nnRows=0\n") }, line: 3, containing: "no \"endheader\"")
  }

  func testInDegreesMustBeYesOrNo() {
    expectError(
      {
        _ = try sto(
          Self.version1.replacingOccurrences(of: "inDegrees=yes", with: "inDegrees=maybe"))
      },
      line: 5, containing: "expected yes or no")
  }

  static let smallTRC = """
    PathFileType\t4\t(X/Y/Z)\tsmall.trc
    DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames
    100\t100\t2\t2\tmm\t100\t1\t2
    Frame#\tTime\tHeel\t\t\tToe\t\t
    \t\tX1\tY1\tZ1\tX2\tY2\tZ2

    1\t0.01\t1.5\t2.5\t3.5\t10\t20\t30\t
    2\t0.02\t1.6\t2.6\t3.6\t\t\t\t

    """

  func testTRCWithAGap() throws {
    let file = try trc(Self.smallTRC)
    XCTAssertEqual(file.markers, ["Heel", "Toe"])
    XCTAssertEqual(file.dataRate, 100)
    XCTAssertEqual(file.units, "mm")
    XCTAssertEqual(file.frameNumbers, [1, 2])
    XCTAssertEqual(file.times, [0.01, 0.02])
    XCTAssertEqual(file.marker(1, frame: 0).y, 20)
    XCTAssertEqual(file.marker(0, frame: 1).z, 3.6)
    XCTAssertTrue(file.marker(1, frame: 1).x.isNaN)
  }

  func testTRCMarkerCountDisagrees() {
    expectError(
      {
        _ = try trc(
          Self.smallTRC.replacingOccurrences(of: "100\t100\t2\t2\tmm", with: "100\t100\t2\t3\tmm"))
      },
      line: 4, containing: "2 marker names, but NumMarkers is 3")
  }

  func testTRCFrameCountDisagrees() {
    expectError(
      {
        _ = try trc(
          Self.smallTRC.replacingOccurrences(of: "100\t100\t2\t2\tmm", with: "100\t100\t5\t2\tmm"))
      },
      line: 3, column: 3, containing: "NumFrames is 5, but the file has 2 frames")
  }

  func testTRCBadFrameNumber() {
    expectError(
      { _ = try trc(Self.smallTRC.replacingOccurrences(of: "2\t0.02", with: "two\t0.02")) },
      line: 8, column: 1, containing: "expected a frame number")
  }

  func testTRCNeedsPathFileType() {
    expectError({ _ = try trc("x" + Self.smallTRC) }, line: 1, containing: "PathFileType")
  }
}
