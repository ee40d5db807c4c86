import Foundation
import KneeForceFiles

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Element types named by the safetensors format.
///
/// All of them are parsed, even though KneeForce only computes in F32, so that a checkpoint saved
/// in another precision is rejected with its dtype named instead of as an unreadable file.
public enum DType: String, CaseIterable, Sendable {
  case bool = "BOOL"
  case u8 = "U8"
  case i8 = "I8"
  case f8e5m2 = "F8_E5M2"
  case f8e4m3 = "F8_E4M3"
  case i16 = "I16"
  case u16 = "U16"
  case f16 = "F16"
  case bf16 = "BF16"
  case i32 = "I32"
  case u32 = "U32"
  case f32 = "F32"
  case f64 = "F64"
  case i64 = "I64"
  case u64 = "U64"

  /// Bytes per element, needed to check that each tensor's byte range matches its shape.
  public var byteSize: Int {
    switch self {
    case .bool, .u8, .i8, .f8e5m2, .f8e4m3: return 1
    case .i16, .u16, .f16, .bf16: return 2
    case .i32, .u32, .f32: return 4
    case .f64, .i64, .u64: return 8
    }
  }
}

/// One tensor: its element type, shape and raw little-endian bytes.
///
/// The bytes are kept undecoded so that reading and rewriting a file never changes a value, and
/// so that tensors of dtypes KneeForce does not compute in can still be carried through.
public struct Tensor: Equatable, Sendable {
  public var dtype: DType
  public var shape: [Int]
  /// Little-endian element bytes, row-major; a zero-based `Data` of its own.
  public var data: Data

  public init(dtype: DType, shape: [Int], data: Data) {
    self.dtype = dtype
    self.shape = shape
    self.data = Data(data)
  }

  /// Builds an F32 tensor; a count that disagrees with the shape is a programming error.
  public init(floats: [Float], shape: [Int]) {
    precondition(
      shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == floats.count,
      "shape \(shape) does not hold \(floats.count) values")
    var bytes = Data(count: floats.count * 4)
    bytes.withUnsafeMutableBytes { raw in
      for (index, value) in floats.enumerated() {
        raw.storeBytes(
          of: value.bitPattern.littleEndian, toByteOffset: index * 4, as: UInt32.self)
      }
    }
    self.init(dtype: .f32, shape: shape, data: bytes)
  }

  /// Number of elements the shape describes (1 for a scalar).
  public var elementCount: Int { shape.reduce(1, *) }

  /// The values of an F32 tensor.
  ///
  /// Throws rather than converting other dtypes because a silent F64 or F16 conversion would hide
  /// a checkpoint written by a different tool or precision.
  public func floats() throws -> [Float] {
    try floats(name: "(unnamed)", file: SafeTensorsError.inMemory)
  }

  func floats(name: String, file: String) throws -> [Float] {
    guard dtype == .f32 else {
      throw SafeTensorsError.unsupportedDType(
        file: file, tensor: name, dtype: dtype, expected: .f32)
    }
    let count = data.count / 4
    guard count * 4 == data.count, count == elementCount else {
      throw SafeTensorsError.sizeMismatch(
        file: file, tensor: name, expectedBytes: elementCount * 4, actualBytes: data.count)
    }
    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      data.withUnsafeBytes { raw in
        for index in 0..<count {
          let bits = raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)
          buffer[index] = Float(bitPattern: UInt32(littleEndian: bits))
        }
      }
      initialized = count
    }
  }
}

/// The contents of one safetensors file: named tensors plus string metadata.
///
/// Everything is held in memory: KneeForce checkpoints and fixtures are a few megabytes, and a
/// plain value type is simpler to validate and to write atomically than a memory map.
public struct SafeTensorsFile: Equatable, Sendable {
  public var tensors: [String: Tensor]
  public var metadata: [String: String]

  public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
  }

  /// The tensor called `name`, with an error that names the file when it is absent.
  public func tensor(_ name: String, file: String = SafeTensorsError.inMemory) throws -> Tensor {
    guard let tensor = tensors[name] else {
      throw SafeTensorsError.missingTensor(file: file, tensor: name)
    }
    return tensor
  }

  /// The values of the F32 tensor called `name`; errors name `file` and the tensor.
  public func floats(_ name: String, file: String = SafeTensorsError.inMemory) throws -> [Float] {
    try tensor(name, file: file).floats(name: name, file: file)
  }

  // MARK: Reading

  /// Reads and fully validates a file, so later code can trust every shape and byte range.
  public static func read(from url: URL) throws -> SafeTensorsFile {
    let bytes: Data
    do {
      bytes = try RegularFile.read(url.path)
    } catch let error as RegularFileError {
      throw SafeTensorsError.io(file: url.path, reason: error.reason)
    }
    return try decode(bytes, file: url.path)
  }

  /// Parses the bytes of a whole file; `file` is used only in error messages.
  public static func decode(_ bytes: Data, file: String = SafeTensorsError.inMemory) throws
    -> SafeTensorsFile
  {
    let bytes = Data(bytes)  // Zero-based indices even when given a slice.
    guard bytes.count >= 8 else {
      throw SafeTensorsError.truncated(
        file: file, reason: "\(bytes.count) bytes, too short for the 8-byte header length")
    }
    let declared = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    let available = UInt64(bytes.count - 8)
    guard declared <= available else {
      throw SafeTensorsError.truncated(
        file: file,
        reason: "header length \(declared) is beyond the \(available) bytes after the length field"
      )
    }
    let headerLength = Int(declared)
    let headerBytes = [UInt8](bytes[8..<(8 + headerLength)])
    guard String(validating: headerBytes, as: UTF8.self) != nil else {
      throw SafeTensorsError.malformedHeader(file: file, reason: "header is not valid UTF-8")
    }
    let root: JSONValue
    do {
      root = try JSONParser.parse(headerBytes)
    } catch let error as JSONParseError {
      throw SafeTensorsError.malformedHeader(
        file: file, reason: "\(error.message) at header byte \(error.offset)")
    }
    guard case .object(let entries) = root else {
      throw SafeTensorsError.malformedHeader(
        file: file, reason: "header is \(root.kind), not a JSON object")
    }

    let buffer = bytes[(8 + headerLength)...]
    var result = SafeTensorsFile()
    var ranges: [(name: String, begin: Int, end: Int)] = []
    for (name, value) in entries {
      if name == "__metadata__" {
        result.metadata = try parseMetadata(value, file: file)
        continue
      }
      let entry = try parseTensor(name: name, value: value, bufferSize: buffer.count, file: file)
      ranges.append((name, entry.begin, entry.end))
      let start = buffer.startIndex + entry.begin
      result.tensors[name] = Tensor(
        dtype: entry.dtype, shape: entry.shape,
        data: buffer[start..<(start + entry.end - entry.begin)])
    }
    // Gaps are tolerated, overlaps are not: an overlap means two tensors would alias each other.
    ranges.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
    for (previous, next) in zip(ranges, ranges.dropFirst()) where next.begin < previous.end {
      throw SafeTensorsError.overlappingOffsets(file: file, tensor: next.name, other: previous.name)
    }
    return result
  }

  private static func parseMetadata(_ value: JSONValue, file: String) throws -> [String: String] {
    guard case .object(let members) = value else {
      throw SafeTensorsError.malformedHeader(
        file: file, reason: "__metadata__ is \(value.kind), not an object")
    }
    var metadata: [String: String] = [:]
    for (key, item) in members {
      guard case .string(let text) = item else {
        throw SafeTensorsError.nonStringMetadata(file: file, key: key)
      }
      metadata[key] = text
    }
    return metadata
  }

  private static func parseTensor(name: String, value: JSONValue, bufferSize: Int, file: String)
    throws -> (dtype: DType, shape: [Int], begin: Int, end: Int)
  {
    guard case .object(let members) = value else {
      throw SafeTensorsError.malformedHeader(
        file: file, reason: "entry '\(name)' is \(value.kind), not an object")
    }
    func field(_ key: String) throws -> JSONValue {
      guard let member = members.first(where: { $0.key == key }) else {
        throw SafeTensorsError.missingField(file: file, tensor: name, field: key)
      }
      return member.value
    }
    func integers(_ key: String, _ value: JSONValue) throws -> [Int] {
      guard case .array(let items) = value else {
        throw SafeTensorsError.invalidField(
          file: file, tensor: name, field: key, reason: "\(value.kind), not an array")
      }
      return try items.map { item in
        guard let number = item.nonNegativeInt else {
          throw SafeTensorsError.invalidField(
            file: file, tensor: name, field: key,
            reason: "\(item.kind) where a non-negative integer is required")
        }
        return number
      }
    }

    let dtypeValue = try field("dtype")
    let shapeValue = try field("shape")
    let offsetsValue = try field("data_offsets")
    guard case .string(let dtypeName) = dtypeValue else {
      throw SafeTensorsError.invalidField(
        file: file, tensor: name, field: "dtype", reason: "\(dtypeValue.kind), not a string")
    }
    guard let dtype = DType(rawValue: dtypeName) else {
      throw SafeTensorsError.unknownDType(file: file, tensor: name, dtype: dtypeName)
    }
    let shape = try integers("shape", shapeValue)
    let offsets = try integers("data_offsets", offsetsValue)
    guard offsets.count == 2 else {
      throw SafeTensorsError.invalidField(
        file: file, tensor: name, field: "data_offsets",
        reason: "\(offsets.count) numbers instead of [begin, end]")
    }
    let (begin, end) = (offsets[0], offsets[1])
    guard begin <= end else {
      throw SafeTensorsError.invalidField(
        file: file, tensor: name, field: "data_offsets",
        reason: "begin \(begin) is after end \(end)")
    }
    guard end <= bufferSize else {
      throw SafeTensorsError.truncated(
        file: file,
        reason:
          "data offsets [\(begin), \(end)] of tensor '\(name)' run past the end of the "
          + "\(bufferSize)-byte data buffer")
    }
    guard let expected = byteCount(shape: shape, dtype: dtype) else {
      throw SafeTensorsError.invalidField(
        file: file, tensor: name, field: "shape", reason: "\(shape) overflows the byte count")
    }
    guard expected == end - begin else {
      throw SafeTensorsError.sizeMismatch(
        file: file, tensor: name, expectedBytes: expected, actualBytes: end - begin)
    }
    return (dtype, shape, begin, end)
  }

  /// Shape × element size, or nil on overflow, which only a corrupt or hostile header causes.
  static func byteCount(shape: [Int], dtype: DType) -> Int? {
    var total = dtype.byteSize
    for dimension in shape {
      guard dimension >= 0 else { return nil }
      let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
      if overflow { return nil }
      total = product
    }
    return total
  }

  // MARK: Writing

  /// The bytes of the file as Python's `safetensors.save_file` would write them for the same
  /// content (for F32 tensors), so checkpoints are interchangeable and diffable.
  ///
  /// Tensors go in name order; `__metadata__` comes first with sorted keys and is left out when
  /// empty; the header is padded with spaces to a multiple of 8 bytes so every tensor's data is
  /// aligned for readers that map the file.
  public func encoded(file: String = SafeTensorsError.inMemory) throws -> Data {
    let names = tensors.keys.sorted()
    if names.contains("__metadata__") {
      throw SafeTensorsError.invalidField(
        file: file, tensor: "__metadata__", field: "name",
        reason: "the name is reserved for the metadata")
    }
    var parts: [String] = []
    if !metadata.isEmpty {
      let members = metadata.keys.sorted().map {
        JSONWriter.quoted($0) + ":" + JSONWriter.quoted(metadata[$0]!)
      }
      parts.append("\"__metadata__\":{" + members.joined(separator: ",") + "}")
    }
    var offset = 0
    for name in names {
      let tensor = tensors[name]!
      guard let expected = Self.byteCount(shape: tensor.shape, dtype: tensor.dtype) else {
        throw SafeTensorsError.invalidField(
          file: file, tensor: name, field: "shape",
          reason: "\(tensor.shape) has a negative dimension or overflows")
      }
      guard expected == tensor.data.count else {
        throw SafeTensorsError.sizeMismatch(
          file: file, tensor: name, expectedBytes: expected, actualBytes: tensor.data.count)
      }
      let shape = tensor.shape.map(String.init).joined(separator: ",")
      parts.append(
        JSONWriter.quoted(name) + ":{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],"
          + "\"data_offsets\":[\(offset),\(offset + expected)]}")
      offset += expected
    }
    var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
    header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

    var out = Data(capacity: 8 + header.count + offset)
    withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: header)
    for name in names {
      out.append(tensors[name]!.data)
    }
    return out
  }

  /// Written with the project's one atomic writer (fsynced temp file + rename), so a crash
  /// mid-save never leaves a half-written checkpoint behind.
  public func write(to url: URL) throws {
    let bytes = try encoded(file: url.path)
    do {
      try AtomicFile.write(bytes, to: url)
    } catch let error as FileError {
      throw SafeTensorsError.io(file: url.path, reason: "\(error)")
    }
  }

}
