/// A problem found in a dataset, located like a compiler message so that editors and
/// researchers can jump straight to the offending cell.
///
/// `line` is the 1-based physical line of the file (quoted fields spanning lines count every
/// line) and `column` is the 1-based CSV field number, i.e. the spreadsheet column, because
/// that is what a person fixing a CSV in a spreadsheet looks for.
public struct Diagnostic: Sendable, Equatable, Hashable, CustomStringConvertible {
  public enum Severity: String, Sendable, Equatable, Hashable, Codable {
    case error
    case warning
  }

  public var severity: Severity
  public var file: String
  public var line: Int
  public var column: Int
  public var message: String

  public init(_ severity: Severity, file: String, line: Int, column: Int, _ message: String) {
    self.severity = severity
    self.file = file
    self.line = line
    self.column = column
    self.message = message
  }

  public static func error(_ file: String, _ line: Int, _ column: Int, _ message: String)
    -> Diagnostic
  {
    Diagnostic(.error, file: file, line: line, column: column, message)
  }

  public static func warning(_ file: String, _ line: Int, _ column: Int, _ message: String)
    -> Diagnostic
  {
    Diagnostic(.warning, file: file, line: line, column: column, message)
  }

  public var isError: Bool { severity == .error }

  /// `FILE:LINE:COLUMN: error|warning: message`, the format compilers use (the path with
  /// unprintable characters escaped, as a manifest cell may have put them there).
  public var description: String {
    "\(plain(file, limit: 1000)):\(line):\(column): \(severity.rawValue): \(message)"
  }
}

extension Array where Element == Diagnostic {
  public var errors: [Diagnostic] { filter { $0.severity == .error } }
  public var warnings: [Diagnostic] { filter { $0.severity == .warning } }
  public var hasErrors: Bool { contains { $0.severity == .error } }
}

/// Caps repeated diagnostics of one kind in one file, so that a column of text in a
/// 100 000-row trial yields a readable handful of messages and one count, not a flood.
struct DiagnosticLimiter {
  private var counts: [String: Int] = [:]
  private var firstOverflow: [String: Diagnostic] = [:]
  private var order: [String] = []
  let limit: Int
  let file: String

  init(file: String, limit: Int = 5) {
    self.file = file
    self.limit = limit
  }

  /// Adds `diagnostic` to `out` unless `kind` has already been reported `limit` times.
  mutating func add(_ diagnostic: Diagnostic, kind: String, to out: inout [Diagnostic]) {
    let count = counts[kind, default: 0]
    counts[kind] = count + 1
    if count == 0 { order.append(kind) }
    if count < limit {
      out.append(diagnostic)
    } else if count == limit {
      firstOverflow[kind] = diagnostic
    }
  }

  /// Appends one summary line per kind that overflowed.
  func flush(to out: inout [Diagnostic]) {
    for kind in order {
      guard let total = counts[kind], total > limit, let first = firstOverflow[kind] else {
        continue
      }
      out.append(
        Diagnostic(
          first.severity, file: file, line: first.line, column: first.column,
          "\(total - limit) more \(kind) in this file not shown"))
    }
  }
}

/// How messages show text taken from a file: in single quotes, at most `limit` characters,
/// with control characters, NUL and other unprintable characters escaped (`\x00`,
/// `\u{202E}`) so that a binary or mis-encoded file cannot write raw bytes to a terminal.
/// An empty cell is "an empty cell".
func quoted(_ text: String, limit: Int = 40) -> String {
  text.isEmpty ? "an empty cell" : "'" + plain(text, limit: limit) + "'"
}

/// `scalar` as is when printable, else as an escape: `\x1B` below U+0100, `\u{FFFD}` above
/// (U+FFFD is what a byte that is not UTF-8 was read as).
func escaped(_ scalar: Unicode.Scalar) -> String {
  let value = scalar.value
  let unprintable =
    value < 0x20 || (0x7F...0x9F).contains(value) || value == 0xFFFD || value == 0xFEFF
    || (0x200B...0x200F).contains(value) || (0x202A...0x202E).contains(value)
    || (0x2066...0x2069).contains(value) || (0xE000...0xF8FF).contains(value)
    || value >= 0xF0000
  guard unprintable else { return String(scalar) }
  let hex = String(value, radix: 16, uppercase: true)
  return value < 0x100
    ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{" + hex + "}"
}

/// `text` escaped as `quoted` does, without the quotes: for names (channels, paths) that
/// messages show bare.
func plain(_ text: String, limit: Int = 80) -> String {
  var out = ""
  var count = 0
  for scalar in text.unicodeScalars {
    if count == limit {
      out += "…"
      break
    }
    count += 1
    out += escaped(scalar)
  }
  return out
}
