import Foundation

/// What a researcher wants to know about a dataset before training on it: who, what, how
/// many, which signals, at what rate, and whether the forces are in a plausible range.
public struct DatasetSummary: Sendable {
  public struct SubjectRow: Sendable, Equatable {
    public var subject: String
    public var side: Side
    public var bodyWeightN: Double
    public var trials: Int
  }

  /// Minimum, median and maximum of a per-trial quantity.
  public struct Spread: Sendable, Equatable {
    public var min: Double
    public var median: Double
    public var max: Double

    init?(_ values: [Double]) {
      let sorted = values.filter { $0.isFinite }.sorted()
      guard let first = sorted.first, let last = sorted.last else { return nil }
      min = first
      median = sorted[sorted.count / 2]
      max = last
    }
  }

  public var folder: String
  public var manifestRows: Int
  public var usableTrials: Int
  public var errorCount: Int
  public var warningCount: Int
  /// True when the manifest marks trials `synthetic` = `yes`.
  public var isSynthetic: Bool
  public var subjects: [SubjectRow]
  public var activities: [String]
  /// `trialCounts[subject][activity]`.
  public var trialCounts: [String: [String: Int]]
  /// Channel names (without the group) by group, groups in first-appearance order.
  public var channelsByGroup: [(group: String, names: [String])]
  /// Distinct sample rates, rounded to 0.1 Hz.
  public var sampleRates: [Double]
  public var durations: [String: Spread]
  /// Per activity and target channel, the spread of per-trial peaks in body weights.
  public var peakForcesBW: [String: [String: Spread]]
  public var trialsWithEvents: Int

  public init(dataset: Dataset, manifestRows: Int, diagnostics: [Diagnostic]) {
    var accumulator = Accumulator()
    for trial in dataset.trials { accumulator.add(trial) }
    let withEvents = dataset.trials.filter { dataset.events[$0.info.trialID]?.isEmpty == false }
    self.init(
      folder: dataset.folder, manifestRows: manifestRows, diagnostics: diagnostics,
      channels: dataset.channels, accumulated: accumulator, trialsWithEvents: withEvents.count)
  }

  /// What the summary needs of each trial, gathered one trial at a time so that a checker
  /// can summarise a dataset without holding it: a few numbers per trial, no samples.
  struct Accumulator {
    private(set) var count = 0
    fileprivate var allSynthetic = true
    fileprivate var bySubject: [String: SubjectRow] = [:]
    fileprivate var counts: [String: [String: Int]] = [:]
    fileprivate var durationsByActivity: [String: [Double]] = [:]
    fileprivate var peaks: [String: [String: [Double]]] = [:]
    fileprivate var rates = Set<Double>()

    mutating func add(_ trial: Trial) {
      let info = trial.info
      count += 1
      if info.extra["synthetic"]?.lowercased() != "yes" { allSynthetic = false }
      bySubject[
        info.subject,
        default: SubjectRow(
          subject: info.subject, side: info.side, bodyWeightN: info.bodyWeightN, trials: 0)
      ]
      .trials += 1
      counts[info.subject, default: [:]][info.activity, default: 0] += 1
      durationsByActivity[info.activity, default: []].append(trial.duration)
      rates.insert((trial.sampleRate * 10).rounded() / 10)
      for target in ChannelConventions.targetChannels {
        guard let c = trial.index(of: target), c < trial.values.count,
          let peak = trial.values[c].max(), info.bodyWeightN > 0
        else { continue }
        peaks[info.activity, default: [:]][target, default: []].append(peak / info.bodyWeightN)
      }
    }
  }

  /// The summary of the trials added to `accumulated`, whose channels are `channels`.
  init(
    folder: String, manifestRows: Int, diagnostics: [Diagnostic], channels: [String],
    accumulated: Accumulator, trialsWithEvents: Int
  ) {
    self.folder = folder
    self.manifestRows = manifestRows
    usableTrials = accumulated.count
    errorCount = diagnostics.errors.count
    warningCount = diagnostics.warnings.count
    isSynthetic = accumulated.count > 0 && accumulated.allSynthetic
    subjects = accumulated.bySubject.values.sorted { $0.subject < $1.subject }
    activities = DatasetSummary.ordered(Array(accumulated.durationsByActivity.keys))
    trialCounts = accumulated.counts
    sampleRates = accumulated.rates.sorted()
    durations = accumulated.durationsByActivity.compactMapValues { Spread($0) }
    peakForcesBW = accumulated.peaks.mapValues { $0.compactMapValues { Spread($0) } }
    self.trialsWithEvents = trialsWithEvents

    var groups: [(group: String, names: [String])] = []
    for channel in accumulated.count > 0 ? channels : [] {
      let group = ChannelConventions.group(of: channel) ?? "(no group)"
      let name =
        ChannelConventions.group(of: channel) == nil
        ? channel : ChannelConventions.name(of: channel)
      if let i = groups.firstIndex(where: { $0.group == group }) {
        groups[i].names.append(name)
      } else {
        groups.append((group, [name]))
      }
    }
    channelsByGroup = groups
  }

  /// Activities in the order of the format's list, then any others alphabetically.
  static func ordered(_ activities: [String]) -> [String] {
    let known = [
      "walking", "stair_ascent", "stair_descent", "ramp_descent", "squat", "sit_to_stand",
    ]
    let present = Set(activities)
    return known.filter { present.contains($0) }
      + present.subtracting(known).sorted()
  }

  /// A plain-text report for a terminal, aligned in columns.
  public func render() -> String {
    var out: [String] = []
    let title = folder.isEmpty ? "Dataset (in memory)" : "Dataset \(plain(folder, limit: 400))"
    out.append(title)
    if isSynthetic {
      out.append(
        "  SYNTHETIC: every trial is marked synthetic = yes (generated by kneeforce synth, "
          + "not patient data)")
    }
    let subjectWord = subjects.count == 1 ? "subject" : "subjects"
    out.append(
      "  \(usableTrials) of \(manifestRows) trials usable, \(subjects.count) \(subjectWord), "
        + "\(activities.count) activities, gait events for \(trialsWithEvents) trials")
    out.append("")

    if !subjects.isEmpty {
      var rows = [["subject", "side", "body weight", "", "trials"]]
      for row in subjects {
        rows.append([
          row.subject, row.side.rawValue, "\(Int(row.bodyWeightN.rounded())) N",
          "(\(fixed(row.bodyWeightN / 9.81, 1)) kg)", "\(row.trials)",
        ])
      }
      out.append("Subjects (side = instrumented leg)")
      out += table(rows, rightAligned: [2, 3, 4])
      out.append("")

      var countRows = [["subject"] + activities]
      for row in subjects {
        countRows.append(
          [row.subject] + activities.map { "\(trialCounts[row.subject]?[$0] ?? 0)" })
      }
      out.append("Trials per subject and activity")
      out += table(countRows, rightAligned: Set(1...max(1, activities.count)))
      out.append("")
    }

    let channelCount = channelsByGroup.reduce(0) { $0 + $1.names.count }
    out.append("Channels (\(channelCount), the same in every usable trial)")
    var channelRows: [[String]] = []
    for group in channelsByGroup {
      let lines = wrapped(group.names, width: 64)
      for (k, line) in lines.enumerated() {
        channelRows.append(
          k == 0
            ? [group.group, "\(group.names.count)", unit(of: group), line] : ["", "", "", line])
      }
    }
    out += table(channelRows, rightAligned: [1])
    let missingTargets = ChannelConventions.targetChannels.filter { target in
      !channelsByGroup.contains {
        $0.group == "kcf"
          && $0.names.contains(
            ChannelConventions.name(of: target))
      }
    }
    if !missingTargets.isEmpty && usableTrials > 0 {
      out.append("  (missing targets: \(missingTargets.joined(separator: ", ")))")
    }
    out.append("")

    if !sampleRates.isEmpty {
      let rates = sampleRates.map { "\(fixed($0, $0.rounded() == $0 ? 0 : 1)) Hz" }
      let note = sampleRates.count == 1 ? " (all trials)" : " (differs between trials)"
      out.append("Sample rate: " + rates.joined(separator: ", ") + note)
      out.append("")
    }

    if !durations.isEmpty {
      var rows = [["activity", "min", "median", "max"]]
      for activity in activities {
        guard let spread = durations[activity] else { continue }
        rows.append([
          activity, fixed(spread.min, 2), fixed(spread.median, 2), fixed(spread.max, 2),
        ])
      }
      out.append("Trial duration (s)")
      out += table(rows, rightAligned: [1, 2, 3])
      out.append("")
    }

    if !peakForcesBW.isEmpty {
      let targets = ChannelConventions.targetChannels
      var rows = [["activity"] + targets.map { ChannelConventions.name(of: $0) }]
      for activity in activities {
        guard let byTarget = peakForcesBW[activity] else { continue }
        rows.append(
          [activity]
            + targets.map { target in
              guard let s = byTarget[target] else { return "-" }
              return "\(fixed(s.median, 2)) (\(fixed(s.min, 2))–\(fixed(s.max, 2)))"
            })
      }
      out.append("Peak contact force per trial, body weights: median (lowest–highest)")
      out += table(rows, rightAligned: Set(1...targets.count))
      out.append("")
    }

    let errorWord = errorCount == 1 ? "error" : "errors"
    let warningWord = warningCount == 1 ? "warning" : "warnings"
    out.append("\(errorCount) \(errorWord), \(warningCount) \(warningWord)")
    return out.joined(separator: "\n")
  }

  /// The units a group's channels are in, per the format's table.
  private func unit(of group: (group: String, names: [String])) -> String {
    switch group.group {
    case "kin": return "[deg]"
    case "emg": return "[normalised]"
    case "kcf": return "[N, targets]"
    case "grf":
      let forces = group.names.filter { ChannelConventions.isBodyWeightScaled("grf." + $0) }
      if forces.count == group.names.count { return "[N]" }
      let positions = group.names.contains { $0.lowercased().hasPrefix("cop") }
      let moments = forces.count + (positions ? 1 : 0) < group.names.count
      return "[N" + (positions ? ", m" : "") + (moments ? ", N·m" : "") + "]"
    default: return ""
    }
  }

  /// Comma-separated names broken into lines of at most `width` characters.
  private func wrapped(_ names: [String], width: Int) -> [String] {
    var lines: [String] = []
    var current = ""
    for (i, name) in names.enumerated() {
      let piece = name + (i < names.count - 1 ? "," : "")
      if !current.isEmpty && current.count + 1 + piece.count > width {
        lines.append(current)
        current = piece
      } else {
        current += current.isEmpty ? piece : " " + piece
      }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
  }

  private func fixed(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
  }

  /// Rows aligned in columns; cells are escaped, since names come from the files.
  private func table(_ rows: [[String]], rightAligned: Set<Int>) -> [String] {
    let rows = rows.map { $0.map { plain($0, limit: 200) } }
    let columns = rows.map(\.count).max() ?? 0
    var widths = [Int](repeating: 0, count: columns)
    for row in rows {
      for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
    }
    return rows.map { row in
      var parts: [String] = []
      for (i, cell) in row.enumerated() {
        let pad = String(repeating: " ", count: widths[i] - cell.count)
        parts.append(rightAligned.contains(i) ? pad + cell : cell + pad)
      }
      let line = "  " + parts.joined(separator: "  ")
      return String(line.reversed().drop { $0 == " " }.reversed())
    }
  }
}
