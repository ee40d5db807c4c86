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

  /// `FILE:LINE:COLUMN: error|warning: message`, the format compilers use.
  public var description: String {
    "\(file):\(line):\(column): \(severity.rawValue): \(message)"
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
