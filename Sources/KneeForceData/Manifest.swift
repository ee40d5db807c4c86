/// The instrumented leg. Channel data are always in a right-leg convention; this keeps the
/// original side so that results can be reported per side.
public enum Side: String, Sendable, Equatable, Hashable, Codable {
  case left = "L"
  case right = "R"
}

/// One manifest row: what a trial is and where its samples are.
public struct TrialInfo: Sendable, Equatable, Hashable {
  public var trialID: String
  public var subject: String
  public var activity: String
  public var side: Side
  public var bodyWeightN: Double
  /// Path of the trial CSV relative to the dataset folder.
  public var file: String
  /// Columns beyond the required ones, by header name, kept so that importers can carry
  /// provenance (session, speed, `synthetic`) through to reports.
  public var extra: [String: String]
  /// The manifest line of this row, for diagnostics about the trial as a whole.
  public var line: Int

  public init(
    trialID: String, subject: String, activity: String, side: Side, bodyWeightN: Double,
    file: String, extra: [String: String] = [:], line: Int = 0
  ) {
    self.trialID = trialID
    self.subject = subject
    self.activity = activity
    self.side = side
    self.bodyWeightN = bodyWeightN
    self.file = file
    self.extra = extra
    self.line = line
  }
}

/// The parsed manifest.csv. Rows with errors are left out of `trials` (and reported), so
/// that the checker can go on and report problems in the remaining trials too.
public struct Manifest: Sendable, Equatable {
  public static let requiredColumns = [
    "trial_id", "subject", "activity", "side", "body_weight_n", "file",
  ]

  /// Header names in file order.
  public var columns: [String]
  /// Header names that are not required columns, in file order.
  public var extraColumns: [String]
  public var trials: [TrialInfo]
  /// Where each subject named in any row (valid or not) first appears, in order of first
  /// appearance, so that a subject whose every trial is rejected can still be pointed at.
  public var subjectLocations: [SubjectLocation]

  /// Every non-empty `trial_id` of any row, valid or not, so that events of a rejected trial
  /// are not also reported as naming an unknown trial.
  public var namedTrialIDs: Set<String>

  public struct SubjectLocation: Sendable, Equatable {
    public var subject: String
    public var line: Int
    public var column: Int
  }

  public init(columns: [String], trials: [TrialInfo]) {
    self.columns = columns
    var seenColumns = Set(Manifest.requiredColumns)
    self.extraColumns = columns.filter { !$0.isEmpty && seenColumns.insert($0).inserted }
    self.trials = trials
    self.namedTrialIDs = Set(trials.map(\.trialID))
    var seen = Set<String>()
    let subjectColumn = (columns.firstIndex(of: "subject") ?? 0) + 1
    self.subjectLocations = []
    for trial in trials where seen.insert(trial.subject).inserted {
      subjectLocations.append(
        SubjectLocation(subject: trial.subject, line: trial.line, column: subjectColumn))
    }
  }

  /// Parses manifest bytes. Returns nil only when the header itself is unusable (empty file,
  /// missing or duplicate required columns); row problems are reported and the row skipped.
  public static func parse(_ bytes: [UInt8], file: String) -> (Manifest?, [Diagnostic]) {
    var diagnostics: [Diagnostic] = []
    let (records, unterminatedLine, newlineWarning, parseErrors) = parseWholeCSV(
      bytes, file: file)
    diagnostics += parseErrors
    guard let header = records.first else {
      diagnostics.append(
        .error(
          file, 1, 1,
          "manifest is empty; expected a header with "
            + requiredColumns.joined(separator: ", ")))
      return (nil, diagnostics)
    }

    var columnIndex: [String: Int] = [:]
    var headerUsable = true
    for (i, name) in header.fields.enumerated() {
      if name.isEmpty {
        diagnostics.append(.error(file, header.line, i + 1, "empty column name in the header"))
        continue
      }
      if let first = columnIndex[name] {
        diagnostics.append(
          .error(
            file, header.line, i + 1,
            "duplicate column \(quoted(name)) (also column \(first + 1))"))
        if requiredColumns.contains(name) { headerUsable = false }
        continue
      }
      columnIndex[name] = i
    }
    for name in requiredColumns where columnIndex[name] == nil {
      let hint = closeMatch(name, in: header.fields).map { " (found \(quoted($0)))" } ?? ""
      diagnostics.append(
        .error(file, header.line, 1, "missing required column '\(name)'\(hint)"))
      headerUsable = false
    }
    guard headerUsable else { return (nil, diagnostics + [newlineWarning].compactMap { $0 }) }

    func column(_ name: String) -> Int { columnIndex[name] ?? 0 }
    let width = header.fields.count
    var trials: [TrialInfo] = []
    var trialLines: [String: Int] = [:]
    var subjects: [SubjectLocation] = []
    var knownSubjects = Set<String>()
    var named = Set<String>()

    for record in records.dropFirst() {
      let fields = record.fields
      let line = record.line
      func field(_ name: String) -> String? {
        let i = column(name)
        return i < fields.count ? fields[i] : nil
      }
      if let trialID = field("trial_id"), !trialID.isEmpty { named.insert(trialID) }
      if let subject = field("subject"), !subject.isEmpty, knownSubjects.insert(subject).inserted {
        subjects.append(
          SubjectLocation(subject: subject, line: line, column: column("subject") + 1))
      }
      if fields.count != width {
        let only = fields.count < width ? "only " : ""
        let cut = fields.count < width && line == unterminatedLine
        diagnostics.append(
          .error(
            file, line, min(fields.count, width) + 1,
            "row has \(only)\(fields.count) fields but the header has \(width)"
              + (cut ? cutShortHint : "")))
        continue
      }
      var rowValid = true
      func require(_ name: String) -> String {
        let value = field(name) ?? ""
        if value.isEmpty {
          diagnostics.append(.error(file, line, column(name) + 1, "empty \(name)"))
          rowValid = false
        }
        return value
      }
      let trialID = require("trial_id")
      let subject = require("subject")
      let activity = require("activity")
      let path = require("file")
      let sideText = field("side") ?? ""
      let side = Side(rawValue: sideText.uppercased())
      if side == nil {
        diagnostics.append(
          .error(file, line, column("side") + 1, "side must be L or R, got \(quoted(sideText))"))
        rowValid = false
      }
      let weightText = field("body_weight_n") ?? ""
      let weightColumn = column("body_weight_n") + 1
      var weight = 0.0
      if let value = Double(weightText), value.isFinite, value > 0 {
        weight = value
        if value < 250 {
          diagnostics.append(
            .warning(
              file, line, weightColumn,
              "body weight \(plain(weightText)) N is implausibly low; body_weight_n is in newtons, "
                + "not kilograms (\(plain(weightText)) kg = \(Int((value * 9.81).rounded())) N)"))
        } else if value > 3000 {
          diagnostics.append(
            .warning(
              file, line, weightColumn, "body weight \(plain(weightText)) N is implausibly high"))
        }
      } else {
        let shown = quoted(weightText)
        diagnostics.append(
          .error(
            file, line, weightColumn,
            "body_weight_n must be a positive number of newtons, got \(shown)"))
        rowValid = false
      }
      if !trialID.isEmpty, let first = trialLines[trialID] {
        diagnostics.append(
          .error(
            file, line, column("trial_id") + 1,
            "duplicate trial_id \(quoted(trialID)) (first on line \(first))"))
        rowValid = false
      }
      guard rowValid, let side else { continue }
      trialLines[trialID] = line
      var extra: [String: String] = [:]
      for (i, name) in header.fields.enumerated()
      where !name.isEmpty && !requiredColumns.contains(name) && columnIndex[name] == i {
        extra[name] = fields[i]
      }
      trials.append(
        TrialInfo(
          trialID: trialID, subject: subject, activity: activity, side: side,
          bodyWeightN: weight, file: path, extra: extra, line: line))
    }
    if records.count == 1 {
      diagnostics.append(.error(file, header.line, 1, "manifest has a header but no trials"))
    }
    var manifest = Manifest(columns: header.fields, trials: trials)
    manifest.subjectLocations = subjects
    manifest.namedTrialIDs = named
    if let newlineWarning { diagnostics.append(newlineWarning) }
    return (manifest, diagnostics)
  }

  /// A header name that differs from `name` only in case or surrounding decoration, to turn
  /// "missing column" into "did you mean".
  static func closeMatch(_ name: String, in fields: [String]) -> String? {
    let key = normalisedName(name)
    return fields.first { normalisedName($0) == key && $0 != name }
  }

  private static func normalisedName(_ name: String) -> String {
    String(name.lowercased().filter { $0.isLetter || $0.isNumber })
  }
}
