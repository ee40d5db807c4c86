import Foundation

/// A dataset folder read into memory: only trials without errors, every trial with the same
/// channels in the same order (the order of the first trial), short gaps interpolated.
public struct Dataset: Sendable {
  /// The folder it was read from (empty for a cohort generated in memory).
  public var folder: String
  /// Manifest columns beyond the required ones, in file order, so that a written copy keeps
  /// them.
  public var extraColumns: [String]
  public var trials: [Trial]
  /// Events by trial id, sorted by time.
  public var events: [String: [GaitEvent]]
  /// Warnings found while reading; errors make `load` throw instead.
  public var warnings: [Diagnostic]

  public init(
    folder: String = "", extraColumns: [String] = [], trials: [Trial],
    events: [String: [GaitEvent]] = [:], warnings: [Diagnostic] = []
  ) {
    self.folder = folder
    self.extraColumns = extraColumns
    self.trials = trials
    self.events = events
    self.warnings = warnings
  }

  /// Reads and checks a dataset folder; throws `DatasetError` listing every error when any
  /// part of it is invalid, so that training never starts on a silently partial dataset.
  public static func load(_ folder: String, maxGap: Int = TrialReader.defaultMaxGap) throws
    -> Dataset
  {
    let report = DatasetChecker(maxGap: maxGap).check(folder: folder)
    if report.diagnostics.hasErrors { throw DatasetError(diagnostics: report.diagnostics) }
    return report.dataset
  }

  /// Channel names shared by all trials.
  public var channels: [String] { trials.first?.channels ?? [] }

  /// Subject ids, sorted, the unit of leave-one-subject-out folds.
  public var subjects: [String] { Array(Set(trials.map(\.info.subject))).sorted() }

  public var activities: [String] { Array(Set(trials.map(\.info.activity))).sorted() }

  public func events(for trialID: String) -> [GaitEvent] { events[trialID] ?? [] }
}

/// Thrown by `Dataset.load` when a dataset has errors; the description lists them in the
/// `FILE:LINE:COLUMN: error: message` form.
public struct DatasetError: Error, CustomStringConvertible, Sendable {
  public var diagnostics: [Diagnostic]

  public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

  public var description: String {
    let errors = diagnostics.errors
    let shown = errors.prefix(20).map(\.description).joined(separator: "\n")
    let more = errors.count > 20 ? "\n... and \(errors.count - 20) more errors" : ""
    return "dataset has \(errors.count) error\(errors.count == 1 ? "" : "s"):\n\(shown)\(more)"
  }
}

/// File access for the readers, kept apart so that the parsers themselves work on bytes and
/// can be fuzzed without a file system.
enum DatasetFiles {
  static func join(_ folder: String, _ relative: String) -> String {
    if folder.isEmpty { return relative }
    if relative.hasPrefix("/") { return relative }
    var base = folder
    while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
    return base == "/" ? "/" + relative : base + "/" + relative
  }

  /// The bytes of a regular file, or nil when it is missing, a directory or unreadable.
  static func read(_ path: String) -> [UInt8]? {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
      !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path)
    else { return nil }
    return [UInt8](data)
  }

  /// A manifest `file` stays inside the dataset folder: relative, and no `..` component
  /// climbs above the folder (DATASET_FORMAT.md, `file`). Symbolic links inside the folder
  /// are followed by the readers; that is the user's own arrangement.
  static func staysInside(_ relative: String) -> Bool {
    guard !relative.isEmpty, !relative.hasPrefix("/") else { return false }
    var depth = 0
    for part in relative.split(separator: "/", omittingEmptySubsequences: true) {
      if part == ".." {
        depth -= 1
        if depth < 0 { return false }
      } else if part != "." {
        depth += 1
      }
    }
    return depth > 0
  }
}
