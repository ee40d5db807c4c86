import Foundation
import KneeForceFiles

/// A C3D file read completely into memory: header, parameters, points, analog samples and
/// events, in the file's own units. Force plates are computed on demand (`forcePlates()`).
public struct C3DFile: Sendable {
  public let name: String
  public let processor: C3DProcessor
  public let storage: C3DStorage
  /// |POINT:SCALE|: the size of one integer step, and of the residual unit.
  public let pointScale: Double
  public let pointRate: Double
  public let analogRate: Double
  /// 1-based number of the first frame in the trial.
  public let firstFrame: Int
  public let frameCount: Int
  public let analogSamplesPerFrame: Int
  public let pointLabels: [String]
  public let pointUnits: String
  public let analogLabels: [String]
  public let analogUnits: [String]
  public let groups: [C3DGroup]
  public let events: [C3DEvent]
  /// `[frame][point][x, y, z]` in POINT:UNITS; NaN where the point is invalid.
  public let points: [Float]
  /// `[frame][point]` residual in POINT:UNITS; -1 where the point is invalid.
  public let residuals: [Float]
  /// `[sample][channel]` with (raw - OFFSET) * SCALE * GEN_SCALE applied.
  public let analogs: [Double]
  /// Per channel: SCALE * GEN_SCALE, and OFFSET (read unsigned for ANALOG:FORMAT UNSIGNED).
  public let analogScales: [Double]
  public let analogOffsets: [Double]

  public var pointCount: Int { pointLabels.count }
  public var analogCount: Int { analogLabels.count }
  public var analogSampleCount: Int { frameCount * analogSamplesPerFrame }

  public func parameter(_ group: String, _ name: String) -> C3DParameter? {
    groups.first { $0.name == group.uppercased() }?.parameter(name)
  }

  public func point(frame: Int, index: Int) -> (x: Float, y: Float, z: Float) {
    let base = (frame * pointCount + index) * 3
    return (points[base], points[base + 1], points[base + 2])
  }

  public func analog(sample: Int, channel: Int) -> Double {
    analogs[sample * analogCount + channel]
  }

  public static func read(_ url: URL) throws -> C3DFile {
    let data: Data
    do { data = try RegularFile.read(url.path) } catch let error as RegularFileError {
      throw LabFileError(file: url.path, location: .whole, message: error.reason)
    }
    return try parse(data, name: url.path)
  }

  public static func parse(_ data: Data, name: String) throws -> C3DFile {
    var bytes = C3DBytes(bytes: [UInt8](data), file: name)
    try bytes.require(0, 512, "the end of the 512-byte header")
    guard bytes.bytes[1] == 0x50 else {
      throw bytes.error(1, "header byte is \(bytes.bytes[1]), expected 80 (0x50): not a C3D file")
    }
    let parameterBlock = Int(bytes.bytes[0])
    guard parameterBlock >= 2 else {
      throw bytes.error(
        0, "parameter section starts at block \(parameterBlock), expected 2 or more")
    }
    let section = try C3DParameterSection.parse(bytes, start: (parameterBlock - 1) * 512)
    bytes.processor = section.processor
    let groups = section.groups
    func find(_ group: String, _ name: String) -> C3DParameter? {
      groups.first { $0.name == group }?.parameter(name)
    }

    let headerPoints = Int(try bytes.uint16(2, "the header point count"))
    let headerAnalogWords = Int(try bytes.uint16(4, "the header analog count"))
    let headerFirst = Int(try bytes.uint16(6, "the header first frame"))
    let headerLast = Int(try bytes.uint16(8, "the header last frame"))
    let headerScale = Double(try bytes.float(12, "the header scale"))
    let headerDataBlock = Int(try bytes.uint16(16, "the header data start"))
    let headerRate = Double(try bytes.float(20, "the header frame rate"))

    let scale = find("POINT", "SCALE")?.doubles.first ?? headerScale
    let storage: C3DStorage = scale < 0 ? .float : .integer
    let pointRate = find("POINT", "RATE")?.doubles.first ?? headerRate
    guard pointRate.isFinite, pointRate > 0 else {
      throw bytes.error(
        find("POINT", "RATE")?.offset ?? 20, "point rate is \(pointRate), expected > 0")
    }
    let pointCount = find("POINT", "USED")?.unsignedIntegers.first ?? headerPoints
    guard pointCount == headerPoints else {
      throw bytes.error(
        2, "header has \(headerPoints) points but POINT:USED is \(pointCount)")
    }
    let analogCount = find("ANALOG", "USED")?.unsignedIntegers.first ?? 0
    var samplesPerFrame = 0
    let rateRatio = find("ANALOG", "RATE")?.doubles.first.map { $0 / pointRate }
    if analogCount > 0, let ratio = rateRatio, ratio >= 1, ratio < 65536,
      let perFrame = Int(exactly: ratio), perFrame * analogCount > 65535,
      (perFrame * analogCount) & 0xffff == headerAnalogWords
    {
      // The header's 16-bit count of analog samples per frame wrapped (many channels at a
      // high rate): the rates give the true number.
      samplesPerFrame = perFrame
    } else if analogCount > 0 {
      guard headerAnalogWords % analogCount == 0 else {
        throw bytes.error(
          4,
          "header has \(headerAnalogWords) analog samples per frame, not a multiple of "
            + "ANALOG:USED = \(analogCount)")
      }
      samplesPerFrame = headerAnalogWords / analogCount
    }
    let analogRate =
      find("ANALOG", "RATE")?.doubles.first ?? pointRate * Double(samplesPerFrame)
    guard analogCount == 0 || (analogRate.isFinite && analogRate > 0) else {
      throw bytes.error(
        find("ANALOG", "RATE")?.offset ?? 4, "analog rate is \(analogRate), expected > 0")
    }

    let (firstFrame, frameCount) = try frameRange(
      bytes, find: find, headerFirst: headerFirst, headerLast: headerLast)

    let pointLabels = try labels(
      bytes, groups: groups, group: "POINT", prefix: "LABELS", count: pointCount)
    let analogLabels = try labels(
      bytes, groups: groups, group: "ANALOG", prefix: "LABELS", count: analogCount)
    let pointUnits = find("POINT", "UNITS")?.strings.first ?? ""
    var analogUnits =
      (groups.first { $0.name == "ANALOG" }).map { group in
        concatenated(group, prefix: "UNITS").flatMap { $0.strings }
      } ?? []
    analogUnits = (0..<analogCount).map { $0 < analogUnits.count ? analogUnits[$0] : "" }

    var dataBlock = headerDataBlock
    if dataBlock == 0, let start = find("POINT", "DATA_START")?.unsignedIntegers.first {
      dataBlock = start
    }
    guard dataBlock >= 1 else {
      throw bytes.error(16, "data section starts at block \(dataBlock), expected 1 or more")
    }
    let layout = C3DDataLayout(
      start: (dataBlock - 1) * 512, storage: storage, pointCount: pointCount,
      analogCount: analogCount, samplesPerFrame: samplesPerFrame, frameCount: frameCount)
    let transform = try analogTransform(bytes, find: find, count: analogCount)
    let decoded = try layout.decode(
      bytes, pointScale: abs(scale), analogFormatUnsigned: transform.unsigned,
      scales: transform.scales, offsets: transform.offsets)

    let events = try headerEvents(bytes) + groupEvents(groups, bytes)
    return C3DFile(
      name: name, processor: section.processor, storage: storage, pointScale: abs(scale),
      pointRate: pointRate, analogRate: analogRate, firstFrame: firstFrame,
      frameCount: frameCount, analogSamplesPerFrame: samplesPerFrame,
      pointLabels: pointLabels, pointUnits: pointUnits, analogLabels: analogLabels,
      analogUnits: analogUnits, groups: groups, events: events, points: decoded.points,
      residuals: decoded.residuals, analogs: decoded.analogs, analogScales: transform.scales,
      analogOffsets: transform.offsets)
  }

  /// The header holds 16-bit frame numbers; longer trials put the true range in
  /// TRIAL:ACTUAL_START_FIELD/ACTUAL_END_FIELD (two 16-bit words each, low word first) or
  /// in POINT:FRAMES (an unsigned word, or a float in some writers).
  static func frameRange(
    _ bytes: C3DBytes, find: (String, String) -> C3DParameter?, headerFirst: Int,
    headerLast: Int
  ) throws -> (first: Int, count: Int) {
    var first = headerFirst
    var count = headerLast >= headerFirst && headerFirst > 0 ? headerLast - headerFirst + 1 : 0
    if let start = find("TRIAL", "ACTUAL_START_FIELD")?.unsignedIntegers,
      let end = find("TRIAL", "ACTUAL_END_FIELD")?.unsignedIntegers,
      start.count >= 2, end.count >= 2
    {
      let trialFirst = start[0] + start[1] << 16
      let trialLast = end[0] + end[1] << 16
      if trialLast >= trialFirst, trialLast - trialFirst + 1 > count, trialFirst > 0 {
        first = trialFirst
        count = trialLast - trialFirst + 1
      }
    }
    if let frames = find("POINT", "FRAMES") {
      let value =
        frames.type == 4
        ? Int(exactly: (frames.doubles.first ?? 0).rounded()) ?? 0
        : frames.unsignedIntegers.first ?? 0
      if value > count { count = value }
    }
    if count == 0, headerLast == 0 || headerFirst == 0 {
      throw bytes.error(
        6, "header frames \(headerFirst)...\(headerLast) and no TRIAL or POINT:FRAMES count")
    }
    return (max(first, 1), count)
  }

  /// POINT:LABELS, LABELS2, LABELS3, ... in order: writers split lists longer than 255.
  static func concatenated(_ group: C3DGroup, prefix: String) -> [C3DParameter] {
    var result: [C3DParameter] = []
    if let first = group.parameter(prefix) { result.append(first) }
    var index = 2
    while let next = group.parameter("\(prefix)\(index)") {
      result.append(next)
      index += 1
    }
    return result
  }

  static func labels(
    _ bytes: C3DBytes, groups: [C3DGroup], group name: String, prefix: String, count: Int
  ) throws -> [String] {
    guard count > 0 else { return [] }
    guard let group = groups.first(where: { $0.name == name }) else {
      throw bytes.error(512, "no \(name) group, but \(count) \(name.lowercased())s are used")
    }
    let parameters = concatenated(group, prefix: prefix)
    let labels = parameters.flatMap { $0.strings }
    guard labels.count >= count else {
      throw bytes.error(
        parameters.first?.offset ?? 512,
        "\(name):\(prefix) has \(labels.count) labels but \(name):USED is \(count)")
    }
    return Array(labels.prefix(count))
  }

  static func analogTransform(
    _ bytes: C3DBytes, find: (String, String) -> C3DParameter?, count: Int
  ) throws -> (scales: [Double], offsets: [Double], unsigned: Bool) {
    guard count > 0 else { return ([], [], false) }
    let unsigned = (find("ANALOG", "FORMAT")?.strings.first ?? "").uppercased() == "UNSIGNED"
    let general = find("ANALOG", "GEN_SCALE")?.doubles.first ?? 1
    let scales = find("ANALOG", "SCALE")?.doubles ?? []
    let offsetParameter = find("ANALOG", "OFFSET")
    let offsets =
      (unsigned ? offsetParameter?.unsignedIntegers : offsetParameter?.integers) ?? []
    guard scales.count >= count else {
      throw bytes.error(
        find("ANALOG", "SCALE")?.offset ?? 512,
        "ANALOG:SCALE has \(scales.count) values but ANALOG:USED is \(count)")
    }
    guard offsets.count >= count else {
      throw bytes.error(
        offsetParameter?.offset ?? 512,
        "ANALOG:OFFSET has \(offsets.count) values but ANALOG:USED is \(count)")
    }
    return (
      scales.prefix(count).map { $0 * general }, offsets.prefix(count).map(Double.init),
      unsigned
    )
  }
}
