import Foundation
import XCTest

@testable import SafeTensors

final class SafeTensorsRoundTripTests: XCTestCase {
  private var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("SafeTensorsTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: folder)
  }

  /// Bit patterns, so NaN payloads and signed zeros are compared exactly.
  private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

  func testWriteThenReadKeepsNamesShapesValuesAndMetadata() throws {
    let weights: [Float] = [1, -2.5, .pi, 0, -0.0, .infinity, .nan, .leastNonzeroMagnitude]
    let original = SafeTensorsFile(
      tensors: [
        "lstm.weight_ih_l0": Tensor(floats: weights, shape: [2, 4]),
        "mlp.6.bias": Tensor(floats: [7, 8, 9], shape: [3]),
        "scalar": Tensor(floats: [42], shape: []),
        "empty": Tensor(floats: [], shape: [0, 3]),
        "steps": Tensor(dtype: .i64, shape: [1], data: Data([5, 0, 0, 0, 0, 0, 0, 0])),
      ],
      metadata: [
        "kneeforce": #"{"model":"tcn","inputs":5}"#,
        "note": "quotes \" backslash \\ newline \n tab \t control \u{01} unicode é ✓",
        "": "",
      ])
    let url = folder.appendingPathComponent("model.safetensors")
    try original.write(to: url)
    let loaded = try SafeTensorsFile.read(from: url)

    XCTAssertEqual(loaded, original)
    XCTAssertEqual(Set(loaded.tensors.keys), Set(original.tensors.keys))
    XCTAssertEqual(loaded.metadata, original.metadata)
    XCTAssertEqual(loaded.tensors["lstm.weight_ih_l0"]?.shape, [2, 4])
    XCTAssertEqual(bits(try loaded.floats("lstm.weight_ih_l0")), bits(weights))
    XCTAssertEqual(try loaded.floats("scalar"), [42])
    XCTAssertEqual(try loaded.floats("empty"), [])
    XCTAssertEqual(loaded.tensors["steps"]?.dtype, .i64)
  }

  func testWriteReplacesAnExistingFileAndLeavesNoTemporaryFiles() throws {
    let url = folder.appendingPathComponent("checkpoint.safetensors")
    try SafeTensorsFile(tensors: ["a": Tensor(floats: [1, 2, 3], shape: [3])]).write(to: url)
    try SafeTensorsFile(tensors: ["b": Tensor(floats: [4], shape: [1])]).write(to: url)

    let loaded = try SafeTensorsFile.read(from: url)
    XCTAssertEqual(Array(loaded.tensors.keys), ["b"])
    XCTAssertEqual(try loaded.floats("b"), [4])
    let contents = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    XCTAssertEqual(contents, ["checkpoint.safetensors"])
  }

  func testHeaderIsPaddedToEightBytesAndTensorsAreInNameOrder() throws {
    let file = SafeTensorsFile(
      tensors: [
        "z": Tensor(floats: [1], shape: [1]),
        "a": Tensor(floats: [2, 3], shape: [2]),
        "m": Tensor(floats: [4], shape: [1]),
      ],
      metadata: ["k": "v"])
    let bytes = [UInt8](try file.encoded())
    let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
    XCTAssertEqual(headerLength % 8, 0)
    let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
    XCTAssertEqual(
      header.trimmingCharacters(in: .whitespaces),
      #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
        + #""m":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"#
        + #""z":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#)
    XCTAssertEqual(bytes.count, 8 + headerLength + 16)
  }

  /// `safetensors.torch.save({"w": torch.tensor([1.5, -2.0])})` with safetensors 0.8.0.
  private static let pythonSingleTensor: [UInt8] =
    [0x38, 0, 0, 0, 0, 0, 0, 0]
    + Array(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  "#.utf8)
    + [0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0]

  /// `safetensors.torch.save({"w": torch.tensor([1.5, -2.0]), "a": torch.tensor([[0.25], [3.0]])},
  /// metadata={"kneeforce": '{"model":"tcn"}'})` with safetensors 0.8.0.
  private static let pythonWithMetadata: [UInt8] =
    [0xa8, 0, 0, 0, 0, 0, 0, 0]
    + Array(
      (#"{"__metadata__":{"kneeforce":"{\"model\":\"tcn\"}"},"#
        + #""a":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},"#
        + #""w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}       "#).utf8)
    + [0x00, 0x00, 0x80, 0x3e, 0x00, 0x00, 0x40, 0x40]
    + [0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0]

  func testEncodesByteForByteLikePython() throws {
    let single = SafeTensorsFile(tensors: ["w": Tensor(floats: [1.5, -2], shape: [2])])
    XCTAssertEqual([UInt8](try single.encoded()), Self.pythonSingleTensor)

    let withMetadata = SafeTensorsFile(
      tensors: [
        "w": Tensor(floats: [1.5, -2], shape: [2]),
        "a": Tensor(floats: [0.25, 3], shape: [2, 1]),
      ],
      metadata: ["kneeforce": #"{"model":"tcn"}"#])
    XCTAssertEqual([UInt8](try withMetadata.encoded()), Self.pythonWithMetadata)
  }

  func testDecodesBytesWrittenByPython() throws {
    let file = try SafeTensorsFile.decode(Data(Self.pythonWithMetadata))
    XCTAssertEqual(file.metadata, ["kneeforce": #"{"model":"tcn"}"#])
    XCTAssertEqual(file.tensors["a"]?.shape, [2, 1])
    XCTAssertEqual(try file.floats("a"), [0.25, 3])
    XCTAssertEqual(try file.floats("w"), [1.5, -2])

    let single = try SafeTensorsFile.decode(Data(Self.pythonSingleTensor))
    XCTAssertEqual(single.metadata, [:])
    XCTAssertEqual(try single.floats("w"), [1.5, -2])
  }

  func testReadsACommittedPythonFixture() throws {
    let fixture = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("KneeForceModelsTests/Fixtures/tcn_small.ckpt.safetensors")
    guard FileManager.default.fileExists(atPath: fixture.path) else {
      throw XCTSkip("fixture \(fixture.path) not generated")
    }
    let file = try SafeTensorsFile.read(from: fixture)
    XCTAssertNotNil(file.metadata["kneeforce"])
    XCTAssertEqual(file.tensors["tcn.0.conv1.weight"]?.shape, [6, 5, 3])
    XCTAssertEqual(file.tensors["tcn.0.downsample.weight"]?.shape, [6, 5, 1])
    XCTAssertNil(file.tensors["tcn.1.downsample.weight"])
    XCTAssertEqual(file.tensors["head.weight"]?.shape, [3, 6])
    XCTAssertEqual(try file.floats("head.bias").count, 3)
    XCTAssertTrue(file.tensors.values.allSatisfy { $0.dtype == .f32 })
    // Python wrote it; writing it again must give the same bytes.
    XCTAssertEqual(try file.encoded(), try Data(contentsOf: fixture))
  }

  func testParsesEveryDTypeByName() throws {
    for dtype in DType.allCases {
      let header =
        #"{"t":{"dtype":"\#(dtype.rawValue)","shape":[3],"#
        + #""data_offsets":[0,\#(3 * dtype.byteSize)]}}"#
      let bytes = SafeTensorsTestBytes.file(
        header, [UInt8](repeating: 0, count: 3 * dtype.byteSize))
      let file = try SafeTensorsFile.decode(bytes)
      XCTAssertEqual(file.tensors["t"]?.dtype, dtype)
    }
    XCTAssertEqual(
      Set(["F64", "F32", "F16", "BF16", "I64", "I32"]).subtracting(DType.allCases.map(\.rawValue)),
      [])
  }

  func testAcceptsWhitespaceAndUnpaddedHeaders() throws {
    let header = "  {\n \"w\" : { \"shape\" : [ 1 ] , \"data_offsets\":[0,4],\"dtype\":\"F32\"}}\t"
    let file = try SafeTensorsFile.decode(
      SafeTensorsTestBytes.file(header, [0x00, 0x00, 0x80, 0x3f], pad: false))
    XCTAssertEqual(try file.floats("w"), [1])
  }
}

/// Builds raw files by hand so the error tests control every byte.
enum SafeTensorsTestBytes {
  static func file(_ header: String, _ buffer: [UInt8], pad: Bool = true) -> Data {
    var headerBytes = Array(header.utf8)
    if pad {
      headerBytes += [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)
    }
    return file(headerLength: UInt64(headerBytes.count), headerBytes + buffer)
  }

  static func file(headerLength: UInt64, _ rest: [UInt8]) -> Data {
    var data = Data()
    withUnsafeBytes(of: headerLength.littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: rest)
    return data
  }
}
