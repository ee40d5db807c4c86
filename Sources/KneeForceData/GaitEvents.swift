/// One gait event of the instrumented leg, from events.csv.
public struct GaitEvent: Sendable, Equatable, Hashable, Codable {
  public static let footStrike = "foot_strike"
  public static let footOff = "foot_off"

  public var trialID: String
  /// `foot_strike`, `foot_off` or a lab-specific name.
  public var event: String
  public var time: Double

  public init(trialID: String, event: String, time: Double) {
    self.trialID = trialID
    self.event = event
    self.time = time
  }
}

/// Reads the optional events.csv (`trial_id,event,time_s`).
public enum GaitEventsReader {
  public static let requiredColumns = ["trial_id", "event", "time_s"]

  /// Parses events, sorted by time within each trial. `knownTrials` (manifest trial ids)
  /// catches typos that would otherwise silently drop a trial from per-cycle analyses.
  public static func parse(_ bytes: [UInt8], file: String, knownTrials: Set<String>?)
    -> (events: [String: [GaitEvent]], diagnostics: [Diagnostic])
  {
    var diagnostics: [Diagnostic] = []
    var limiter = DiagnosticLimiter(file: file)
    let (records, unterminatedLine, newlineWarning, parseErrors) = parseWholeCSV(
      bytes, file: file)
    diagnostics += parseErrors
    guard let header = records.first else {
      diagnostics.append(.warning(file, 1, 1, "events.csv is empty"))
      return ([:], diagnostics)
    }
    var index: [String: Int] = [:]
    for (i, name) in header.fields.enumerated() {
      if index[name] != nil {
        diagnostics.append(.error(file, header.line, i + 1, "duplicate column \(quoted(name))"))
      } else {
        index[name] = i
      }
    }
    var missing = false
    for name in requiredColumns where index[name] == nil {
      diagnostics.append(.error(file, header.line, 1, "missing required column '\(name)'"))
      missing = true
    }
    guard !missing, let idColumn = index["trial_id"], let eventColumn = index["event"],
      let timeColumn = index["time_s"]
    else { return ([:], diagnostics + [newlineWarning].compactMap { $0 }) }

    var events: [String: [GaitEvent]] = [:]
    for record in records.dropFirst() {
      let fields = record.fields
      guard fields.count == header.fields.count else {
        let cut = fields.count < header.fields.count && record.line == unterminatedLine
        limiter.add(
          .error(
            file, record.line, min(fields.count, header.fields.count) + 1,
            "row has \(fields.count) fields but the header has \(header.fields.count)"
              + (cut ? cutShortHint : "")),
          kind: "rows with a wrong number of fields", to: &diagnostics)
        continue
      }
      let trialID = fields[idColumn]
      let name = fields[eventColumn]
      if let knownTrials, !knownTrials.contains(trialID) {
        limiter.add(
          .error(
            file, record.line, idColumn + 1,
            "unknown trial_id \(quoted(trialID)) (not in manifest.csv)"),
          kind: "unknown trial ids", to: &diagnostics)
        continue
      }
      if name.isEmpty {
        limiter.add(
          .error(file, record.line, eventColumn + 1, "empty event name"),
          kind: "empty event names", to: &diagnostics)
        continue
      }
      guard let time = Double(fields[timeColumn]), time.isFinite else {
        limiter.add(
          .error(
            file, record.line, timeColumn + 1,
            "time_s must be a number, got \(quoted(fields[timeColumn]))"),
          kind: "bad event times", to: &diagnostics)
        continue
      }
      events[trialID, default: []].append(GaitEvent(trialID: trialID, event: name, time: time))
    }
    limiter.flush(to: &diagnostics)
    for key in events.keys { events[key]?.sort { $0.time < $1.time } }
    if let newlineWarning { diagnostics.append(newlineWarning) }
    return (events, diagnostics)
  }
}
