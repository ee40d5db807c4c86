import Foundation

/// A numeric table from a lab's text export (comma, tab or semicolon separated; `\n`,
/// `\r\n` or classic-Mac `\r` line ends; a trailing separator on each row allowed). Errors
/// name the file and line and quote only the offending cell.
struct NumericTable {
  var file: String
  var header: [String]
  /// Rows of numbers, NaN for an empty cell or `NaN`.
  var rows: [[Double]]
  /// The file line of each row, for messages.
  var lines: [Int]

  static func splitLines(_ text: String) -> [Substring] {
    text.split(
      omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
    )
  }

  static func cells(_ line: Substring, separator: Character) -> [String] {
    var parts = line.split(separator: separator, omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    if parts.count > 1, parts.last == "" { parts.removeLast() }
    return parts
  }

  static func number(_ cell: String) -> Double? {
    if cell.isEmpty || cell.lowercased() == "nan" { return .nan }
    guard let v = Double(cell), v.isFinite else { return nil }
    return v
  }

  /// Reads a table whose first non-empty line is the header.
  static func parse(_ text: String, file: String) throws -> NumericTable {
    let lines = splitLines(text)
    guard
      let headerIndex = lines.firstIndex(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
      )
    else { throw ImportError(file, "", "the file is empty") }
    let headerLine = lines[headerIndex]
    let separator: Character =
      headerLine.contains(",") ? "," : headerLine.contains("\t") ? "\t" : ";"
    let header = cells(headerLine, separator: separator)
    var rows: [[Double]] = []
    var numbers: [Int] = []
    for index in (headerIndex + 1)..<lines.count {
      let line = lines[index]
      if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
      let parts = cells(line, separator: separator)
      guard parts.count == header.count else {
        throw ImportError(
          file, line: index + 1, "\(parts.count) cells, the header has \(header.count)")
      }
      var row: [Double] = []
      row.reserveCapacity(parts.count)
      for (c, cell) in parts.enumerated() {
        guard let v = number(cell) else {
          throw ImportError(
            file, "\(index + 1):\(c + 1)", "\"\(cell.prefix(40))\" is not a number")
        }
        row.append(v)
      }
      rows.append(row)
      numbers.append(index + 1)
    }
    guard !rows.isEmpty else { throw ImportError(file, "", "no data rows") }
    return NumericTable(file: file, header: header, rows: rows, lines: numbers)
  }

  func columnIndex(_ name: String) -> Int? {
    header.firstIndex { $0.caseInsensitiveCompare(name) == .orderedSame }
  }

  func column(_ index: Int) -> [Double] { rows.map { $0[index] } }

  /// The time column (first), checked to be finite and strictly increasing.
  func times() throws -> [Double] {
    let t = column(0)
    for i in 0..<t.count {
      guard t[i].isFinite else { throw ImportError(file, line: lines[i], "time is empty") }
      if i > 0, t[i] <= t[i - 1] {
        throw ImportError(file, line: lines[i], "time does not increase")
      }
    }
    return t
  }
}
