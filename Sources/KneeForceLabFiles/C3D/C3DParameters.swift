/// One parameter as stored: the raw bytes are kept so that the reader of a value decides how
/// to interpret it (several frame counts are 16-bit words that only make sense unsigned).
public struct C3DParameter: Sendable {
  public let group: String
  public let name: String
  public let description: String
  /// -1 character, 1 byte, 2 16-bit integer, 4 float.
  public let type: Int8
  public let dimensions: [Int]
  public let locked: Bool
  /// Byte offset of the value in the file, for error messages about it.
  public let offset: Int
  let raw: [UInt8]
  let processor: C3DProcessor

  /// Number of elements: the product of the dimensions, 1 for a scalar. For characters the
  /// first dimension is the length of each string, so this counts characters.
  public var elementCount: Int { dimensions.reduce(1, *) }

  /// Floats as stored, integers converted; characters give nothing.
  public var doubles: [Double] {
    switch type {
    case 4:
      return stride(from: 0, to: raw.count - 3, by: 4).map {
        Double(C3DBytes.float(raw, $0, processor))
      }
    case 2: return int16s.map(Double.init)
    case 1: return raw.map { Double(Int8(bitPattern: $0)) }
    default: return []
    }
  }

  /// Signed integers (16-bit words as Int16, bytes as Int8, floats rounded toward zero).
  public var integers: [Int] {
    switch type {
    case 2: return int16s.map(Int.init)
    case 1: return raw.map { Int(Int8(bitPattern: $0)) }
    case 4: return doubles.map { $0.isFinite && abs($0) < 1e15 ? Int($0) : 0 }
    default: return []
    }
  }

  /// 16-bit words read unsigned: counts such as POINT:USED and POINT:FRAMES go up to 65535.
  public var unsignedIntegers: [Int] {
    switch type {
    case 2: return int16s.map { Int(UInt16(bitPattern: $0)) }
    case 1: return raw.map(Int.init)
    default: return integers
    }
  }

  /// Character parameters: dimension 0 is the string length, the others count strings.
  public var strings: [String] {
    guard type == -1 else { return [] }
    guard let length = dimensions.first, length > 0 else {
      return dimensions.isEmpty && !raw.isEmpty ? [C3DBytes.text(raw)] : []
    }
    return stride(from: 0, to: raw.count, by: length).map {
      C3DBytes.text(raw[$0..<min($0 + length, raw.count)])
    }
  }

  private var int16s: [Int16] {
    stride(from: 0, to: raw.count - 1, by: 2).map {
      let a = UInt16(raw[$0])
      let b = UInt16(raw[$0 + 1])
      return Int16(bitPattern: processor == .mips ? a << 8 | b : b << 8 | a)
    }
  }
}

public struct C3DGroup: Sendable {
  public let id: Int
  public let name: String
  public let description: String
  public internal(set) var parameters: [C3DParameter]

  public func parameter(_ name: String) -> C3DParameter? {
    let key = name.uppercased()
    return parameters.first { $0.name == key }
  }
}

/// The parameter section: a linked list of group and parameter records, each giving the
/// offset of the next. Every offset is checked to move forward and stay inside the file.
struct C3DParameterSection {
  let processor: C3DProcessor
  let blockCount: Int
  let groups: [C3DGroup]

  static func parse(_ input: C3DBytes, start: Int) throws -> C3DParameterSection {
    var bytes = input
    try bytes.require(start, 4, "the parameter section header")
    let code = bytes.bytes[start + 3]
    guard let processor = C3DProcessor(code: code) else {
      throw bytes.error(
        start + 3,
        "processor type is \(code), expected 84 (Intel), 85 (DEC) or 86 (SGI/MIPS)")
    }
    bytes.processor = processor
    let blockCount = Int(bytes.bytes[start + 2])
    var groupsByID: [Int: C3DGroup] = [:]
    var order: [Int] = []
    var pending: [(Int, C3DParameter)] = []
    var position = start + 4
    while position < bytes.count {
      let nameLength = Int(try bytes.int8(position, "a parameter record"))
      if nameLength == 0 { break }
      let groupID = Int(try bytes.int8(position + 1, "a parameter record's group id"))
      let name = try bytes.string(position + 2, abs(nameLength), "a parameter name")
        .uppercased()
      let offsetField = position + 2 + abs(nameLength)
      let next = Int(try bytes.int16(offsetField, "the offset to the next parameter record"))
      let body = offsetField + 2
      if groupID < 0 {
        let descriptionLength = Int(try bytes.uint8(body, "a group description length"))
        let description = try bytes.string(body + 1, descriptionLength, "a group description")
        if groupsByID[-groupID] == nil { order.append(-groupID) }
        let existing = groupsByID[-groupID]?.parameters ?? []
        groupsByID[-groupID] = C3DGroup(
          id: -groupID, name: name, description: description, parameters: existing)
      } else if groupID > 0 {
        let parameter = try parseParameter(
          bytes, body: body, name: name, locked: nameLength < 0, processor: processor)
        pending.append((groupID, parameter))
      } else {
        throw bytes.error(position + 1, "parameter record \"\(name)\" has group id 0")
      }
      if next == 0 { break }
      guard next > 0 else {
        throw bytes.error(
          offsetField, "offset to the next parameter record is \(next), expected > 0")
      }
      let nextPosition = offsetField + next
      guard nextPosition < bytes.count else {
        throw bytes.error(
          offsetField,
          "parameter record \"\(name)\" points to byte \(nextPosition), past the end of the "
            + "file (\(bytes.count) bytes)")
      }
      position = nextPosition
    }
    for (groupID, parameter) in pending {
      guard var group = groupsByID[groupID] else { continue }
      group.parameters.append(
        C3DParameter(
          group: group.name, name: parameter.name, description: parameter.description,
          type: parameter.type, dimensions: parameter.dimensions, locked: parameter.locked,
          offset: parameter.offset, raw: parameter.raw, processor: processor))
      groupsByID[groupID] = group
    }
    return C3DParameterSection(
      processor: processor, blockCount: blockCount,
      groups: order.compactMap { groupsByID[$0] })
  }

  private static func parseParameter(
    _ bytes: C3DBytes, body: Int, name: String, locked: Bool, processor: C3DProcessor
  ) throws -> C3DParameter {
    let type = try bytes.int8(body, "the type of parameter \(name)")
    guard [-1, 1, 2, 4].contains(type) else {
      throw bytes.error(
        body, "parameter \(name) has type \(type), expected -1, 1, 2 or 4")
    }
    let dimensionCount = Int(try bytes.uint8(body + 1, "the dimensions of parameter \(name)"))
    try bytes.require(body + 2, dimensionCount, "the dimensions of parameter \(name)")
    let dimensions = (0..<dimensionCount).map { Int(bytes.bytes[body + 2 + $0]) }
    var size = Int(abs(type))
    for dimension in dimensions {
      let (product, overflow) = size.multipliedReportingOverflow(by: dimension)
      guard !overflow else {
        throw bytes.error(body + 1, "parameter \(name) has dimensions \(dimensions): too large")
      }
      size = product
    }
    let dataStart = body + 2 + dimensionCount
    try bytes.require(dataStart, size, "the value of parameter \(name)")
    let raw = Array(bytes.bytes[dataStart..<(dataStart + size)])
    let descriptionLength = Int(
      try bytes.uint8(dataStart + size, "the description length of parameter \(name)"))
    let description = try bytes.string(
      dataStart + size + 1, descriptionLength, "the description of parameter \(name)")
    return C3DParameter(
      group: "", name: name, description: description, type: type, dimensions: dimensions,
      locked: locked, offset: dataStart, raw: raw, processor: processor)
  }
}
