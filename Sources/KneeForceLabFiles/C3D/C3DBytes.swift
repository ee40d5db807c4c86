import Foundation

/// Every read from a C3D file goes through here so that an offset or count taken from the
/// file is checked against the file's size before it is used, and a failure names the byte.
struct C3DBytes {
  let bytes: [UInt8]
  let file: String
  var processor: C3DProcessor = .intel

  var count: Int { bytes.count }

  func error(_ offset: Int, _ message: String) -> LabFileError {
    LabFileError(file: file, location: .byte(offset), message: message)
  }

  /// Throws unless `length` bytes from `offset` lie inside the file.
  func require(_ offset: Int, _ length: Int, _ what: String) throws {
    let (end, overflow) = offset.addingReportingOverflow(length)
    guard offset >= 0, length >= 0, !overflow, end <= bytes.count else {
      throw error(
        min(max(offset, 0), bytes.count),
        "file ends before \(what) (\(length) bytes from byte \(offset) needed, "
          + "the file has \(bytes.count))")
    }
  }

  func uint8(_ offset: Int, _ what: String) throws -> UInt8 {
    try require(offset, 1, what)
    return bytes[offset]
  }

  func int8(_ offset: Int, _ what: String) throws -> Int8 {
    Int8(bitPattern: try uint8(offset, what))
  }

  func uint16(_ offset: Int, _ what: String) throws -> UInt16 {
    try require(offset, 2, what)
    return uncheckedUInt16(offset)
  }

  func int16(_ offset: Int, _ what: String) throws -> Int16 {
    Int16(bitPattern: try uint16(offset, what))
  }

  func float(_ offset: Int, _ what: String) throws -> Float {
    try require(offset, 4, what)
    return uncheckedFloat(offset)
  }

  func string(_ offset: Int, _ length: Int, _ what: String) throws -> String {
    try require(offset, length, what)
    return C3DBytes.text(bytes[offset..<(offset + length)])
  }

  /// Callers have checked the range with `require`.
  func uncheckedUInt16(_ offset: Int) -> UInt16 {
    let a = UInt16(bytes[offset])
    let b = UInt16(bytes[offset + 1])
    return processor == .mips ? a << 8 | b : b << 8 | a
  }

  func uncheckedFloat(_ offset: Int) -> Float {
    C3DBytes.float(bytes, offset, processor)
  }

  static func float(_ bytes: [UInt8], _ offset: Int, _ processor: C3DProcessor) -> Float {
    let b0 = bytes[offset]
    let b1 = bytes[offset + 1]
    let b2 = bytes[offset + 2]
    let b3 = bytes[offset + 3]
    switch processor {
    case .intel:
      return Float(
        bitPattern: UInt32(b0) | UInt32(b1) << 8 | UInt32(b2) << 16 | UInt32(b3) << 24)
    case .mips:
      return Float(
        bitPattern: UInt32(b3) | UInt32(b2) << 8 | UInt32(b1) << 16 | UInt32(b0) << 24)
    case .dec:
      return DECFloat.decode(b0, b1, b2, b3)
    }
  }

  /// C3D pads text with spaces or NULs; labels compare and print without them.
  static func text<S: Sequence>(_ raw: S) -> String where S.Element == UInt8 {
    // Latin-1: every byte is a character, so no label is lost to a decoding failure.
    var scalars = String.UnicodeScalarView()
    for byte in raw { scalars.append(Unicode.Scalar(byte == 0 ? 0x20 : byte)) }
    return String(scalars).trimmingCharacters(in: .whitespaces)
  }
}
