import Foundation

/// An OpenSim/Motion Analysis .trc marker file: a PathFileType line, a line of header keys
/// and one of values (DataRate, NumFrames, NumMarkers, Units, ...), the marker names line
/// (`Frame#`, `Time`, then each name over three columns), the X1/Y1/Z1 line, then one row
/// per frame. Empty cells are missing markers (NaN).
public struct TRCFile: Sendable {
  public let name: String
  public let header: [String: String]
  public let dataRate: Double
  public let units: String
  public let markers: [String]
  public let frameNumbers: [Int]
  public let times: [Double]
  /// `[frame][marker][x, y, z]` in `units`.
  public let values: [Double]

  public var frameCount: Int { times.count }

  public func marker(_ index: Int, frame: Int) -> (x: Double, y: Double, z: Double) {
    let base = (frame * markers.count + index) * 3
    return (values[base], values[base + 1], values[base + 2])
  }

  public static func read(_ url: URL) throws -> TRCFile {
    try parse(OpenSimText.load(url), name: url.path)
  }

  public static func parse(_ data: Data, name: String) throws -> TRCFile {
    let text = try OpenSimText(data, file: name)
    let lines = text.lines
    guard lines.count >= 5 else {
      throw text.error(line: lines.count, "a .trc file has at least 5 header lines")
    }
    guard lines[0].hasPrefix("PathFileType") else {
      throw text.error(line: 1, "expected \"PathFileType\" on the first line")
    }
    let keys = OpenSimText.fields(lines[1])
    let values = OpenSimText.fields(lines[2])
    var header: [String: String] = [:]
    for (index, key) in keys.enumerated() where !key.isEmpty {
      guard index < values.count else {
        throw text.error(line: 3, column: index + 1, "no value for header key \(key)")
      }
      header[String(key)] = String(values[index])
    }
    func headerNumber(_ key: String) throws -> Double {
      guard let raw = header[key] else {
        throw text.error(line: 2, "header key \(key) is missing")
      }
      guard let value = Double(raw) else {
        throw text.error(
          line: 3, column: (keys.firstIndex { $0 == key } ?? 0) + 1,
          "header \(key) is \"\(raw)\", expected a number")
      }
      return value
    }
    let rate = try headerNumber("DataRate")
    let declaredFrames = try headerNumber("NumFrames")
    let declaredMarkers = try headerNumber("NumMarkers")
    guard rate > 0, rate.isFinite else { throw text.error(line: 3, "DataRate must be > 0") }

    let nameFields = OpenSimText.fields(lines[3])
    guard nameFields.count >= 2, nameFields[0] == "Frame#", nameFields[1] == "Time" else {
      throw text.error(line: 4, "expected \"Frame#\" and \"Time\" columns")
    }
    var markers: [String] = []
    var column = 2
    while column < nameFields.count {
      let marker = nameFields[column]
      if !marker.isEmpty { markers.append(String(marker)) }
      column += 3
    }
    guard Double(markers.count) == declaredMarkers else {
      throw text.error(
        line: 4, "\(markers.count) marker names, but NumMarkers is \(header["NumMarkers"] ?? "")")
    }

    var frameNumbers: [Int] = []
    var times: [Double] = []
    var samples: [Double] = []
    let width = 2 + 3 * markers.count
    for index in 5..<lines.count {
      let line = lines[index]
      if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
      var fields = OpenSimText.fields(line)
      while fields.count > width, fields.last?.isEmpty == true { fields.removeLast() }
      let lineNumber = index + 1
      guard fields.count <= width else {
        throw text.error(
          line: lineNumber, column: width + 1, "\(fields.count) columns, expected \(width)")
      }
      guard let frame = Int(fields[0]) else {
        throw text.error(line: lineNumber, "expected a frame number, found \"\(fields[0])\"")
      }
      guard fields.count >= 2 else {
        throw text.error(line: lineNumber, column: 2, "row has no time")
      }
      frameNumbers.append(frame)
      times.append(try text.number(fields[1], line: lineNumber, column: 2))
      for column in 2..<width {
        samples.append(
          column < fields.count
            ? try text.number(fields[column], line: lineNumber, column: column + 1) : .nan)
      }
    }
    guard Double(times.count) == declaredFrames else {
      throw text.error(
        line: 3, column: (keys.firstIndex { $0 == "NumFrames" } ?? 0) + 1,
        "NumFrames is \(header["NumFrames"] ?? ""), but the file has \(times.count) frames")
    }
    return TRCFile(
      name: name, header: header, dataRate: rate, units: header["Units"] ?? "",
      markers: markers, frameNumbers: frameNumbers, times: times, values: samples)
  }
}
