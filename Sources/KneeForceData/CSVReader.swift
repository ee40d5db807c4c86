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
    var parser = CSVParser()
    bytes.withUnsafeBufferPointer { parser.feed($0) { records.append($0) } }
    parser.finish { records.append($0) }
    return (records, parser.issues)
  }

  /// Quotes `value` only when needed, so that written files stay readable in a text editor.
  public static func escape(_ value: String) -> String {
    let needsQuotes = value.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
    if !needsQuotes && value.first != " " && value.last != " " { return value }
    return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}

/// The incremental form of `CSVReader.parse`: bytes go in chunk by chunk (a chunk may end
/// anywhere, inside a field, a quote pair or a CRLF) and each record comes out as soon as it
/// is complete, so that a reader holds one record at a time, never the whole file.
public struct CSVParser: Sendable {
  /// Syntax issues so far.
  public private(set) var issues: [CSVSyntaxIssue] = []
  /// After `finish`: the line of the last record when the input did not end with a line
  /// break (a spreadsheet may omit the final newline; a file cut short does too), else nil.
  public private(set) var unterminatedLine: Int?

  private var fields: [String] = []
  private var field: [UInt8] = []
  private var started = false
  private var line = 1
  private var recordLine = 1
  private var fieldWasQuoted = false
  private var inQuotes = false
  private var quoteLine = 1
  private var afterClosingQuote = false
  private var quotedInRecord = false
  /// A `"` inside a quoted field whose meaning (escaped quote or closing quote) depends on
  /// the next byte, which may be in the next chunk.
  private var pendingQuote = false
  private var previous: UInt8 = 0

  public init() {
    field.reserveCapacity(32)
  }

  /// Parses the next chunk. A UTF-8 byte order mark is skipped when the first chunk starts
  /// with it.
  public mutating func feed(
    _ bytes: UnsafeBufferPointer<UInt8>, _ emit: (CSVRecord) throws -> Void
  ) rethrows {
    var index = 0
    let count = bytes.count
    if !started, count > 0 {
      started = true
      if count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
    }
    while index < count {
      let byte = bytes[index]
      index += 1
      // The common case, a byte of an unquoted field, without the state machine.
      if !inQuotes && !pendingQuote && !afterClosingQuote && byte != UInt8(ascii: ",")
        && byte != UInt8(ascii: "\n") && byte != UInt8(ascii: "\r")
        && byte != UInt8(ascii: "\"")
      {
        field.append(byte)
        previous = byte
        continue
      }
      try consume(byte, emit)
    }
  }

  /// Ends the input: emits the last record if it had no line break.
  public mutating func finish(_ emit: (CSVRecord) throws -> Void) rethrows {
    if pendingQuote {
      pendingQuote = false
      inQuotes = false
      afterClosingQuote = true
    }
    if inQuotes {
      issues.append(
        CSVSyntaxIssue(
          line: quoteLine, column: fields.count + 1,
          message: "quoted field is never closed (missing '\"')"))
    }
    if !field.isEmpty || !fields.isEmpty || quotedInRecord {
      let last = recordLine
      if try finishRecord(emit) { unterminatedLine = last }
    }
  }

  @inline(__always)
  private mutating func consume(_ byte: UInt8, _ emit: (CSVRecord) throws -> Void) rethrows {
    defer { previous = byte }
    if pendingQuote {
      pendingQuote = false
      if byte == UInt8(ascii: "\"") {
        field.append(byte)
        return
      }
      inQuotes = false
      afterClosingQuote = true
    }
    if inQuotes {
      switch byte {
      case UInt8(ascii: "\""):
        pendingQuote = true
        return
      case UInt8(ascii: "\n"):
        if previous != UInt8(ascii: "\r") { line += 1 }
      case UInt8(ascii: "\r"):
        line += 1
      default:
        break
      }
      field.append(byte)
      return
    }

    switch byte {
    case UInt8(ascii: ","):
      finishField()
    case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
      // The LF of a CRLF: the record and the line ended at the CR.
      if byte == UInt8(ascii: "\n"), previous == UInt8(ascii: "\r") { return }
      try finishRecord(emit)
      line += 1
      recordLine = line
    case UInt8(ascii: "\""):
      if !fieldWasQuoted
        && field.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
      {
        field.removeAll(keepingCapacity: true)
        fieldWasQuoted = true
        inQuotes = true
        quotedInRecord = true
        quoteLine = line
      } else {
        field.append(byte)
      }
    default:
      if afterClosingQuote, byte != UInt8(ascii: " "), byte != UInt8(ascii: "\t") {
        issues.append(
          CSVSyntaxIssue(
            line: line, column: fields.count + 1,
            message: "text after the closing quote of a quoted field"))
        afterClosingQuote = false
      }
      if !afterClosingQuote { field.append(byte) }
    }
  }

  private mutating func finishField() {
    if fieldWasQuoted {
      fields.append(String(decoding: field, as: UTF8.self))
    } else {
      fields.append(Self.trimmed(field))
    }
    field.removeAll(keepingCapacity: true)
    fieldWasQuoted = false
    afterClosingQuote = false
  }

  /// Emits the record unless it is a blank line; true when it emitted one.
  @discardableResult
  private mutating func finishRecord(_ emit: (CSVRecord) throws -> Void) rethrows -> Bool {
    finishField()
    let blank = fields.count == 1 && fields[0].isEmpty && !quotedInRecord
    let record = blank ? nil : CSVRecord(line: recordLine, fields: fields)
    fields.removeAll(keepingCapacity: true)
    quotedInRecord = false
    guard let record else { return false }
    try emit(record)
    return true
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
