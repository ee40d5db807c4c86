import Foundation

/// One CSV record with the physical line it starts on, kept so that every later check can
/// point at `file:line:column`.
public struct CSVRecord: Sendable, Equatable {
  public var line: Int
  public var fields: [String]

  public init(line: Int, fields: [String]) {
    self.line = line
    self.fields = fields
  }
}

/// A syntax problem of the CSV layer itself (an unterminated quote, stray text after a
/// closing quote); the readers above turn these into diagnostics for their file.
public struct CSVSyntaxIssue: Sendable, Equatable {
  public var line: Int
  public var column: Int
  public var message: String
}

/// A small RFC 4180 reader that is deliberately lenient: spreadsheets and lab software write
/// UTF-8 with or without a byte order mark, CRLF or LF (or old-Mac CR) line ends, and quote
/// only some fields. It never traps on any input: every byte sequence yields records and a
/// list of syntax issues.
public enum CSVReader {
  /// Parses comma-separated `bytes`. Unquoted fields are trimmed of spaces and tabs (a
  /// spreadsheet's `1, 2` means `1` and `2`); quoted fields are kept verbatim. Empty lines are
  /// skipped, and invalid UTF-8 is replaced rather than rejected so that one bad byte in a
  /// comment column does not hide the real problems of the file.
  public static func parse(_ bytes: [UInt8]) -> (records: [CSVRecord], issues: [CSVSyntaxIssue]) {
    var records: [CSVRecord] = []
    var issues: [CSVSyntaxIssue] = []
    var fields: [String] = []
    var field: [UInt8] = []
    field.reserveCapacity(32)

    var index = 0
    let count = bytes.count
    if count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }

    var line = 1
    var recordLine = 1
    var fieldWasQuoted = false
    var inQuotes = false
    var quoteLine = 1
    var afterClosingQuote = false
    var quotedInRecord = false

    func finishField() {
      if fieldWasQuoted {
        fields.append(String(decoding: field, as: UTF8.self))
      } else {
        fields.append(trimmed(field))
      }
      field.removeAll(keepingCapacity: true)
      fieldWasQuoted = false
      afterClosingQuote = false
    }

    func finishRecord() {
      finishField()
      let blank = fields.count == 1 && fields[0].isEmpty && !quotedInRecord
      if !blank { records.append(CSVRecord(line: recordLine, fields: fields)) }
      fields.removeAll(keepingCapacity: true)
      quotedInRecord = false
    }

    while index < count {
      let byte = bytes[index]
      if inQuotes {
        if byte == UInt8(ascii: "\"") {
          if index + 1 < count, bytes[index + 1] == UInt8(ascii: "\"") {
            field.append(byte)
            index += 2
            continue
          }
          inQuotes = false
          afterClosingQuote = true
          index += 1
          continue
        }
        if byte == UInt8(ascii: "\n") {
          line += 1
        } else if byte == UInt8(ascii: "\r") {
          if !(index + 1 < count && bytes[index + 1] == UInt8(ascii: "\n")) { line += 1 }
        }
        field.append(byte)
        index += 1
        continue
      }

      switch byte {
      case UInt8(ascii: ","):
        finishField()
        index += 1
      case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
        finishRecord()
        if byte == UInt8(ascii: "\r"), index + 1 < count, bytes[index + 1] == UInt8(ascii: "\n") {
          index += 1
        }
        index += 1
        line += 1
        recordLine = line
      case UInt8(ascii: "\""):
        if field.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
          && !fieldWasQuoted
        {
          field.removeAll(keepingCapacity: true)
          fieldWasQuoted = true
          inQuotes = true
          quotedInRecord = true
          quoteLine = line
        } else {
          field.append(byte)
        }
        index += 1
      default:
        if afterClosingQuote, byte != UInt8(ascii: " "), byte != UInt8(ascii: "\t") {
          issues.append(
            CSVSyntaxIssue(
              line: line, column: fields.count + 1,
              message: "text after the closing quote of a quoted field"))
          afterClosingQuote = false
        }
        if !afterClosingQuote { field.append(byte) }
        index += 1
      }
    }
    if inQuotes {
      issues.append(
        CSVSyntaxIssue(
          line: quoteLine, column: fields.count + 1,
          message: "quoted field is never closed (missing '\"')"))
    }
    if !field.isEmpty || !fields.isEmpty || quotedInRecord { finishRecord() }
    return (records, issues)
  }

  /// Quotes `value` only when needed, so that written files stay readable in a text editor.
  public static func escape(_ value: String) -> String {
    let needsQuotes = value.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
    if !needsQuotes && value.first != " " && value.last != " " { return value }
    return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }

  private static func trimmed(_ bytes: [UInt8]) -> String {
    var start = 0
    var end = bytes.count
    while start < end, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") {
      start += 1
    }
    while end > start, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") {
      end -= 1
    }
    return String(decoding: bytes[start..<end], as: UTF8.self)
  }
}
