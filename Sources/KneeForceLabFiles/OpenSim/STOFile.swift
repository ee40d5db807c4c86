import Foundation

/// An OpenSim .sto or .mot table. Version 1 headers (`version=1`, `nRows=`, `nColumns=`,
/// `inDegrees=`), the older SIMM form (`datacolumns N`, `datarows N`, `range a b`) and
/// version 2+ headers (OpenSim 4: `DataType=`, `OpenSimVersion=`) all end with `endheader`;
/// then a line of column labels and one row per time.
public struct STOFile: Sendable {
  public let name: String
  /// The first line when it is not a key=value pair (the table's name), else "".
  public let title: String
  public let metadata: [String: String]
  public let version: Int?
  /// nil when the header does not say.
  public let inDegrees: Bool?
  public let columns: [String]
  /// `[row][column]`, including the time column.
  public let values: [Double]

  public var rowCount: Int { columns.isEmpty ? 0 : values.count / columns.count }

  public func column(_ label: String) -> [Double]? {
    guard let index = columns.firstIndex(of: label) else { return nil }
    return stride(from: index, to: values.count, by: columns.count).map { values[$0] }
  }

  public static func read(_ url: URL) throws -> STOFile {
    try parse(OpenSimText.load(url), name: url.path)
  }

  public static func parse(_ data: Data, name: String) throws -> STOFile {
    let text = try OpenSimText(data, file: name)
    let lines = text.lines
    guard
      let end = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "endheader" })
    else {
      throw text.error(line: max(lines.count, 1), "no \"endheader\" line")
    }
    var metadata: [String: String] = [:]
    var title = ""
    var declaredRows: (Int, Int)?
    var declaredColumns: (Int, Int)?
    for index in 0..<end {
      let line = lines[index].trimmingCharacters(in: .whitespaces)
      if line.isEmpty { continue }
      if let equals = line.firstIndex(of: "=") {
        let key = String(line[..<equals]).trimmingCharacters(in: .whitespaces)
        let value = String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        metadata[key] = value
        if key == "nRows" || key == "nColumns" {
          guard let count = Int(value), count >= 0 else {
            throw text.error(line: index + 1, "\(key) is \"\(value)\", expected a count")
          }
          if key == "nRows" {
            declaredRows = (count, index + 1)
          } else {
            declaredColumns = (count, index + 1)
          }
        }
      } else {
        let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if parts.count == 2, parts[0] == "datarows" || parts[0] == "datacolumns" {
          guard let count = Int(parts[1]), count >= 0 else {
            throw text.error(line: index + 1, column: 2, "\(parts[0]) needs a count")
          }
          metadata[String(parts[0])] = String(parts[1])
          if parts[0] == "datarows" {
            declaredRows = (count, index + 1)
          } else {
            declaredColumns = (count, index + 1)
          }
        } else if index == 0 {
          title = line
        } else {
          metadata[line] = ""
        }
      }
    }
    var inDegrees: Bool?
    if let raw = metadata["inDegrees"]?.lowercased() {
      guard raw == "yes" || raw == "no" else {
        throw text.error(
          line: (0..<end).first { lines[$0].hasPrefix("inDegrees") }.map { $0 + 1 } ?? 1,
          "inDegrees is \"\(raw)\", expected yes or no")
      }
      inDegrees = raw == "yes"
    }
    var labelIndex = end + 1
    while labelIndex < lines.count, lines[labelIndex].trimmingCharacters(in: .whitespaces).isEmpty {
      labelIndex += 1
    }
    guard labelIndex < lines.count else {
      throw text.error(line: lines.count, "no column labels after endheader")
    }
    var columns = OpenSimText.fields(lines[labelIndex]).map(String.init)
    while columns.last?.isEmpty == true { columns.removeLast() }
    if let (count, line) = declaredColumns, count != columns.count {
      throw text.error(
        line: line,
        "header says \(count) columns; the labels line (\(labelIndex + 1)) has \(columns.count)")
    }
    var values: [Double] = []
    var rows = 0
    for index in (labelIndex + 1)..<max(labelIndex + 1, lines.count) {
      let line = lines[index]
      if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
      var fields = OpenSimText.fields(line)
      while fields.count > columns.count, fields.last?.isEmpty == true { fields.removeLast() }
      guard fields.count == columns.count else {
        throw text.error(
          line: index + 1, column: min(fields.count, columns.count) + 1,
          "\(fields.count) values, expected \(columns.count)")
      }
      for (column, field) in fields.enumerated() {
        values.append(try text.number(field, line: index + 1, column: column + 1))
      }
      rows += 1
    }
    if let (count, line) = declaredRows, count != rows {
      throw text.error(line: line, "header says \(count) rows; the file has \(rows)")
    }
    return STOFile(
      name: name, title: title, metadata: metadata,
      version: metadata["version"].flatMap { Int($0) },
      inDegrees: inDegrees, columns: columns, values: values)
  }
}
