import Foundation
import XCTest

@testable import KneeForceLabFiles

/// Broken C3D files give a LabFileError naming the file and the byte, never a trap.
final class C3DBrokenFileTests: XCTestCase {
  let fileName = "broken.c3d"

  var good: [UInt8] { C3DFixtures.synthetic(.intel, .float).bytes() }

  /// Parses `bytes`, expects a LabFileError at a byte offset, returns it for more checks.
  @discardableResult
  func expectError(
    _ bytes: [UInt8], containing text: String, orAnyOf others: [String] = [], at offset: Int? = nil,
    file: StaticString = #filePath, line: UInt = #line
  ) -> LabFileError? {
    do {
      let parsed = try C3DFile.parse(Data(bytes), name: fileName)
      _ = try parsed.forcePlates()
      XCTFail("expected an error containing \"\(text)\"", file: file, line: line)
      return nil
    } catch let error as LabFileError {
      XCTAssertEqual(error.file, fileName, file: file, line: line)
      XCTAssertTrue(
        ([text] + others).contains { error.message.contains($0) },
        "\"\(error.message)\" lacks \"\(text)\"", file: file, line: line)
      XCTAssertTrue(
        error.description.hasPrefix("\(fileName): "), error.description, file: file, line: line)
      if let offset {
        XCTAssertEqual(error.location, .byte(offset), error.description, file: file, line: line)
      }
      return error
    } catch {
      XCTFail("unexpected error type: \(error)", file: file, line: line)
      return nil
    }
  }

  /// The byte where the first parameter record's offset-to-next field sits.
  func firstRecordOffsetField(_ bytes: [UInt8]) -> Int {
    516 + 2 + Int(bytes[516])
  }

  func testTruncatedAnywhereBeforeTheDataEndsIsAnError() {
    let bytes = good
    let parameterBlocks = Int(bytes[512 + 2])
    let dataStart = (1 + parameterBlocks) * 512
    let dataEnd = dataStart + 40 * (6 * 16 + 28 * 4 * 4)
    var cuts = Array(stride(from: 0, to: dataEnd, by: 97)) + [1, 511, 512, 515, 516, dataEnd - 1]
    cuts += Array(stride(from: 517, to: 700, by: 1))
    for cut in cuts {
      let error = expectError(
        Array(bytes[0..<cut]), containing: "file ends before",
        orAnyOf: ["past the end of the file", "no POINT group"])
      if case .byte(let offset)? = error?.location {
        XCTAssertLessThanOrEqual(offset, cut, "cut at \(cut)")
      } else {
        XCTFail("cut at \(cut): no byte offset in \(String(describing: error))")
      }
    }
    // Cut inside the padding after the last frame: the file is complete.
    XCTAssertNoThrow(try C3DFile.parse(Data(bytes[0..<dataEnd]), name: fileName))
  }

  func testWrongMagicByte() {
    var bytes = good
    bytes[1] = 0x51
    expectError(bytes, containing: "expected 80 (0x50)", at: 1)
  }

  func testUnknownProcessor() {
    var bytes = good
    bytes[512 + 3] = 87
    expectError(bytes, containing: "processor type is 87", at: 515)
  }

  func testParameterSectionPastTheEnd() {
    var bytes = good
    bytes[0] = 200
    expectError(bytes, containing: "file ends before the parameter section header", at: bytes.count)
  }

  func testParameterRecordPointingPastTheEnd() {
    var bytes = good
    let field = firstRecordOffsetField(bytes)
    bytes[field] = 0xff
    bytes[field + 1] = 0x7f
    expectError(bytes, containing: "past the end of the file", at: field)
  }

  func testNegativeOffsetToNextRecord() {
    var bytes = good
    let field = firstRecordOffsetField(bytes)
    bytes[field] = 0xf0
    bytes[field + 1] = 0xff
    expectError(bytes, containing: "offset to the next parameter record is -16", at: field)
  }

  func testNegativeHeaderEventCount() {
    var bytes = good
    bytes[300] = 0xfb
    bytes[301] = 0xff
    expectError(bytes, containing: "header event count is -5", at: 300)
  }

  func testHugePointCountInHeaderAndParameter() {
    var writer = C3DFixtures.synthetic(.intel, .float)
    writer.groups.append(
      C3DWriter.Group(
        name: "POINT", parameters: [.init(name: "USED", value: .integers([-1], dimensions: []))]))
    var bytes = writer.bytes()
    // USED = -1 read unsigned is 65535; the header still says 6.
    expectError(bytes, containing: "header has 6 points but POINT:USED is 65535", at: 2)
    bytes[2] = 0xff
    bytes[3] = 0xff
    expectError(bytes, containing: "POINT:LABELS has 6 labels but POINT:USED is 65535")
  }

  func testHugeFrameCountNeedsMoreDataThanTheFileHas() {
    var writer = C3DFixtures.synthetic(.intel, .float)
    writer.groups.append(
      C3DWriter.Group(
        name: "TRIAL",
        parameters: [
          .init(name: "ACTUAL_START_FIELD", value: .integers([1, 0], dimensions: [2])),
          .init(name: "ACTUAL_END_FIELD", value: .integers([-1, 0x7fff], dimensions: [2])),
        ]))
    expectError(writer.bytes(), containing: "file ends before the data section (2147483647 frames")
  }

  func testLabelCountBelowPointUsed() {
    var writer = C3DFixtures.synthetic(.dec, .integer)
    writer.labelsPerParameter = 255
    writer.groups.append(
      C3DWriter.Group(
        name: "POINT",
        parameters: [.init(name: "LABELS", value: .characters(["A", "B", "C", "D", "E"]))]))
    expectError(writer.bytes(), containing: "POINT:LABELS has 5 labels but POINT:USED is 6")
  }

  func testAnalogScaleShorterThanAnalogUsed() {
    var writer = C3DFixtures.synthetic(.mips, .float)
    writer.groups.append(
      C3DWriter.Group(
        name: "ANALOG", parameters: [.init(name: "SCALE", value: .floats([1, 2], dimensions: [2]))])
    )
    expectError(writer.bytes(), containing: "ANALOG:SCALE has 2 values but ANALOG:USED is 28")
  }

  func testHugeParameterDimensions() {
    var writer = C3DFixtures.synthetic(.intel, .float)
    writer.groups.append(
      C3DWriter.Group(
        name: "POINT",
        parameters: [.init(name: "ZZ", value: .floats([1], dimensions: [255, 255, 255]))]))
    expectError(writer.bytes(), containing: "file ends before the value of parameter ZZ")
  }

  func testForcePlateChannelOutsideTheAnalogs() {
    var writer = C3DFixtures.synthetic(.intel, .float)
    var plates = C3DFixtures.forcePlateGroup()
    plates.parameters.removeAll { $0.name == "CHANNEL" }
    plates.parameters.append(
      .init(
        name: "CHANNEL", value: .integers([Int16](repeating: 99, count: 32), dimensions: [8, 4])))
    writer.groups = [plates]
    expectError(writer.bytes(), containing: "force plate 1 uses analog channel 99; the file has 28")
  }

  func testDegenerateForcePlateCorners() {
    var writer = C3DFixtures.synthetic(.intel, .float)
    var plates = C3DFixtures.forcePlateGroup()
    plates.parameters.removeAll { $0.name == "CORNERS" }
    plates.parameters.append(
      .init(
        name: "CORNERS", value: .floats([Float](repeating: 5, count: 48), dimensions: [3, 4, 4])))
    writer.groups = [plates]
    expectError(writer.bytes(), containing: "CORNERS of plate 1 do not span a plane")
  }

  func testErrorDescriptionNamesFileAndByte() {
    var bytes = good
    bytes[1] = 0
    let error = expectError(bytes, containing: "not a C3D file")
    XCTAssertEqual(
      error?.description, "broken.c3d: byte 1: header byte is 0, expected 80 (0x50): not a C3D file"
    )
  }
}
