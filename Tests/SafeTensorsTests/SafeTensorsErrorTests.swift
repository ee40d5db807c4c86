import Foundation
import XCTest

@testable import SafeTensors

final class SafeTensorsErrorTests: XCTestCase {
  private let path = "broken.safetensors"

  /// Decodes `bytes` and checks that it fails with a message containing every fragment.
  private func assertFails(
    _ bytes: Data, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line
  ) {
    assertThrows(try SafeTensorsFile.decode(bytes, file: path), fragments, file: file, line: line)
  }

  private func assertThrows<T>(
    _ body: @autoclosure () throws -> T, _ fragments: [String],
    file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
      guard let error = error as? SafeTensorsError else {
        return XCTFail("unexpected error type \(type(of: error)): \(error)", file: file, line: line)
      }
      for fragment in fragments {
        XCTAssertTrue(
          error.description.contains(fragment),
          "\"\(error.description)\" does not contain \"\(fragment)\"", file: file, line: line)
      }
    }
  }

  private func entry(_ fields: String) -> Data {
    SafeTensorsTestBytes.file("{\"w\":{\(fields)}}", [UInt8](repeating: 0, count: 16))
  }

  // MARK: Truncation

  func testFileShorterThanTheLengthField() {
    assertFails(Data([1, 0, 0]), [path, "truncated", "3 bytes"])
  }

  func testHeaderLengthBeyondFileSize() {
    let bytes = SafeTensorsTestBytes.file(headerLength: 1_000, Array("{}".utf8))
    assertFails(bytes, [path, "truncated", "header length 1000", "2 bytes"])
  }

  func testHugeHeaderLengthDoesNotCrash() {
    let bytes = SafeTensorsTestBytes.file(headerLength: .max, Array("{}".utf8))
    assertFails(bytes, [path, "truncated", "header length \(UInt64.max)"])
  }

  func testDataOffsetsBeyondBuffer() {
    let bytes = SafeTensorsTestBytes.file(
      #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, [0, 0, 0, 0, 0, 0, 0, 0])
    assertFails(bytes, [path, "truncated", "'w'", "[0, 16]", "8-byte data buffer"])
  }

  // MARK: Malformed header

  func testMalformedJSON() {
    let bytes = SafeTensorsTestBytes.file(#"{"w":{"dtype":"F32","shape":[1],}"#, [0, 0, 0, 0])
    assertFails(bytes, [path, "malformed safetensors header", "header byte"])
  }

  func testHeaderThatIsNotAnObject() {
    assertFails(SafeTensorsTestBytes.file("[1, 2]", []), [path, "an array, not a JSON object"])
  }

  func testEmptyHeader() {
    assertFails(
      SafeTensorsTestBytes.file(headerLength: 0, []), [path, "malformed", "unexpected end"])
  }

  func testHeaderThatIsNotUTF8() {
    let bytes = SafeTensorsTestBytes.file(headerLength: 4, [0x7b, 0xff, 0xfe, 0x7d])
    assertFails(bytes, [path, "not valid UTF-8"])
  }

  func testDuplicateTensorNames() {
    let one = #""w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#
    let bytes = SafeTensorsTestBytes.file("{\(one),\(one)}", [0, 0, 0, 0])
    assertFails(bytes, [path, "duplicate key \"w\""])
  }

  func testTensorEntryThatIsNotAnObject() {
    let bytes = SafeTensorsTestBytes.file(#"{"w":[1]}"#, [])
    assertFails(bytes, [path, "entry 'w' is an array"])
  }

  func testMetadataThatIsNotAnObject() {
    assertFails(
      SafeTensorsTestBytes.file(#"{"__metadata__":"x"}"#, []), [path, "__metadata__ is a string"])
  }

  // MARK: Tensor fields

  func testMissingDType() {
    assertFails(
      entry(#""shape":[1],"data_offsets":[0,4]"#), [path, "tensor 'w'", "no 'dtype'"])
  }

  func testMissingShape() {
    assertFails(
      entry(#""dtype":"F32","data_offsets":[0,4]"#), [path, "tensor 'w'", "no 'shape'"])
  }

  func testMissingDataOffsets() {
    assertFails(entry(#""dtype":"F32","shape":[1]"#), [path, "tensor 'w'", "no 'data_offsets'"])
  }

  func testUnknownDType() {
    assertFails(
      entry(#""dtype":"F128","shape":[1],"data_offsets":[0,16]"#),
      [path, "tensor 'w'", "unknown dtype 'F128'"])
  }

  func testDTypeThatIsNotAString() {
    assertFails(
      entry(#""dtype":4,"shape":[1],"data_offsets":[0,4]"#),
      [path, "tensor 'w'", "invalid 'dtype'", "a number, not a string"])
  }

  func testShapeWithNegativeOrFractionalOrBooleanDimensions() {
    for shape in ["[-1]", "[1.5]", "[true]", "[1e1]", "4"] {
      assertFails(
        entry(#""dtype":"F32","shape":\#(shape),"data_offsets":[0,4]"#),
        [path, "tensor 'w'", "invalid 'shape'"])
    }
  }

  func testDataOffsetsWithWrongArity() {
    assertFails(
      entry(#""dtype":"F32","shape":[1],"data_offsets":[4]"#),
      [path, "tensor 'w'", "invalid 'data_offsets'", "1 numbers instead of [begin, end]"])
  }

  func testOffsetsThatDoNotMatchTheShape() {
    assertFails(
      entry(#""dtype":"F32","shape":[2,2],"data_offsets":[0,12]"#),
      [path, "tensor 'w'", "12 bytes of data", "need 16"])
    assertFails(
      entry(#""dtype":"F64","shape":[2],"data_offsets":[0,8]"#),
      [path, "tensor 'w'", "8 bytes of data", "need 16"])
  }

  func testShapeWhoseByteCountOverflows() {
    assertFails(
      entry(#""dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]"#),
      [path, "tensor 'w'", "invalid 'shape'", "overflows"])
  }

  func testBeginAfterEnd() {
    assertFails(
      entry(#""dtype":"F32","shape":[1],"data_offsets":[8,4]"#),
      [path, "tensor 'w'", "begin 8 is after end 4"])
  }

  func testOverlappingOffsets() {
    let header =
      #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
      + #""b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
    assertFails(
      SafeTensorsTestBytes.file(header, [UInt8](repeating: 0, count: 12)),
      [path, "'a' and 'b' overlap"])
  }

  func testNonStringMetadata() {
    for value in ["1", "true", "null", #"{"a":"b"}"#, #"["x"]"#] {
      let bytes = SafeTensorsTestBytes.file(#"{"__metadata__":{"ok":"x","bad":\#(value)}}"#, [])
      assertFails(bytes, [path, "metadata value for 'bad' is not a string"])
    }
  }

  /// Corrupted files must fail with an error, never trap: flip bytes of a valid file and truncate
  /// it at every length, with a fixed pseudo-random sequence so failures reproduce.
  func testCorruptedFilesThrowInsteadOfCrashing() throws {
    let valid = try SafeTensorsFile(
      tensors: [
        "a": Tensor(floats: [1, 2, 3, 4], shape: [2, 2]),
        "b": Tensor(floats: [5], shape: []),
      ],
      metadata: ["kneeforce": #"{"model":"tcn"}"#]
    ).encoded()
    for length in 0..<valid.count {
      XCTAssertThrowsError(try SafeTensorsFile.decode(valid.prefix(length)))
    }
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int(truncatingIfNeeded: state >> 33)
    }
    for _ in 0..<3_000 {
      var bytes = [UInt8](valid)
      for _ in 0...(next() % 3) {
        bytes[next() % bytes.count] = UInt8(truncatingIfNeeded: next())
      }
      _ = try? SafeTensorsFile.decode(Data(bytes))
    }
  }

  // MARK: Accessors

  func testFloatsRejectsOtherDTypesNamingTheTensor() throws {
    let header = #"{"lstm.weight_hh_l0":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#
    let file = try SafeTensorsFile.decode(
      SafeTensorsTestBytes.file(header, [UInt8](repeating: 0, count: 8)), file: path)
    assertThrows(
      try file.floats("lstm.weight_hh_l0", file: path),
      [path, "tensor 'lstm.weight_hh_l0'", "dtype F64", "F32 is required"])
    for dtype in [DType.f16, .bf16, .i64, .i32] {
      let tensor = Tensor(
        dtype: dtype, shape: [2], data: Data(count: 2 * dtype.byteSize))
      assertThrows(try tensor.floats(), ["dtype \(dtype.rawValue)", "F32 is required"])
    }
  }

  func testMissingTensor() {
    assertThrows(try SafeTensorsFile().floats("head.bias", file: path), [path, "'head.bias'"])
  }

  // MARK: Files on disk

  func testReadErrorsNameThePath() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("SafeTensorsErrorTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }

    let missing = folder.appendingPathComponent("missing.safetensors")
    assertThrows(try SafeTensorsFile.read(from: missing), [missing.path, "does not exist"])

    let broken = folder.appendingPathComponent("short.safetensors")
    try Data([8, 0, 0, 0, 0, 0, 0, 0, 0x7b]).write(to: broken)
    assertThrows(try SafeTensorsFile.read(from: broken), [broken.path, "truncated"])
  }

  func testWriteRejectsInconsistentTensorsAndKeepsTheOldFile() throws {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("SafeTensorsErrorTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("checkpoint.safetensors")
    let good = SafeTensorsFile(tensors: ["w": Tensor(floats: [1], shape: [1])])
    try good.write(to: url)

    let bad = SafeTensorsFile(tensors: ["w": Tensor(dtype: .f32, shape: [3], data: Data(count: 8))])
    assertThrows(try bad.write(to: url), [url.path, "tensor 'w'", "8 bytes", "need 12"])
    let reserved = SafeTensorsFile(tensors: ["__metadata__": Tensor(floats: [1], shape: [1])])
    assertThrows(try reserved.write(to: url), ["'__metadata__'", "reserved"])
    let negative = SafeTensorsFile(tensors: ["w": Tensor(dtype: .f32, shape: [-1], data: Data())])
    assertThrows(try negative.write(to: url), ["tensor 'w'", "negative"])

    XCTAssertEqual(try SafeTensorsFile.read(from: url), good)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).count, 1)

    let nowhere = folder.appendingPathComponent("no-such-folder/checkpoint.safetensors")
    assertThrows(try good.write(to: nowhere), [nowhere.path])
  }
}
