import Foundation

/// What an import did, line by line: channels, offsets, skipped trials, omitted channels.
/// Written as `import_log.txt` beside the manifest and echoed (warnings) to standard error,
/// so that a dataset folder carries its own provenance.
public final class ImportLog: @unchecked Sendable {
  public private(set) var lines: [String] = []
  public private(set) var warnings: [String] = []

  public init() {}

  public func note(_ line: String) { lines.append(line) }

  /// A warning is kept in the log and also returned to the command, which prints it.
  public func warn(_ line: String) {
    warnings.append(line)
    lines.append("warning: " + line)
  }

  public var text: String { lines.joined(separator: "\n") + "\n" }
}

/// An error in an input file, printed as `<file>:<line or offset>: <what>`.
public struct ImportError: Error, CustomStringConvertible, Sendable, Equatable {
  public let file: String
  /// "12" (a line), "12:3" (line and column), "byte 512", or "" for the file as a whole.
  public let location: String
  public let message: String

  public init(_ file: String, _ location: String, _ message: String) {
    self.file = file
    self.location = location
    self.message = message
  }

  public init(_ file: String, line: Int, _ message: String) {
    self.init(file, "\(line)", message)
  }

  public var description: String {
    location.isEmpty ? "\(file): \(message)" : "\(file):\(location): \(message)"
  }
}
