/// Reads one trial CSV into a `Trial`, reporting every problem with its line and column.
public enum TrialReader {
  /// The default longest run of missing samples that is interpolated rather than rejected:
  /// 5 samples at 100 Hz is 50 ms, shorter than any gait event.
  public static let defaultMaxGap = 5

  /// Parses a trial file. Returns a trial whenever the header is usable, even when rows have
  /// errors, so that the checker can summarise it; callers must treat any error diagnostic as
  /// making the trial unusable. Gaps of at most `maxGap` consecutive samples are filled by
  /// linear interpolation (nearest value at the start or end of the trial) and reported as
  /// warnings; longer gaps are errors.
  public static func parse(
    _ bytes: [UInt8], file: String, info: TrialInfo, maxGap: Int = defaultMaxGap
  ) -> (Trial?, [Diagnostic]) {
    var diagnostics: [Diagnostic] = []
    var limiter = DiagnosticLimiter(file: file)
    let (records, issues) = CSVReader.parse(bytes)
    for issue in issues {
      limiter.add(
        .error(file, issue.line, issue.column, issue.message), kind: "CSV syntax errors",
        to: &diagnostics)
    }
    guard let header = records.first else {
      diagnostics.append(
        .error(
          file, 1, 1,
          "trial file is empty; expected a header starting "
            + "with '\(ChannelConventions.timeColumn)'"))
      return (nil, diagnostics)
    }
    guard header.fields.first == ChannelConventions.timeColumn else {
      let found = header.fields.first ?? ""
      diagnostics.append(
        .error(
          file, header.line, 1,
          "first column must be '\(ChannelConventions.timeColumn)', found '\(found)'"))
      return (nil, diagnostics)
    }

    let channels = Array(header.fields.dropFirst())
    checkHeader(channels, line: header.line, file: file, into: &diagnostics)

    let width = header.fields.count
    var time: [Double] = []
    var lines: [Int] = []
    var columns = [[Double]](repeating: [], count: channels.count)
    // Samples of non-numeric cells, already reported, so that the gaps they leave are not
    // reported a second time.
    var invalid = [Set<Int>](repeating: [], count: channels.count)
    time.reserveCapacity(records.count)
    lines.reserveCapacity(records.count)
    for c in columns.indices { columns[c].reserveCapacity(records.count) }

    for record in records.dropFirst() {
      let fields = record.fields
      if fields.count != width {
        let only = fields.count < width ? "only " : ""
        limiter.add(
          .error(
            file, record.line, min(fields.count, width) + 1,
            "row has \(only)\(fields.count) fields but the header has \(width)"),
          kind: "rows with a wrong number of fields", to: &diagnostics)
        continue
      }
      guard let t = parseCell(fields[0]), !t.isNaN else {
        limiter.add(
          .error(
            file, record.line, 1,
            "time_s must be a number, got \(shown(fields[0]))"),
          kind: "bad time cells", to: &diagnostics)
        continue
      }
      if !t.isFinite {
        limiter.add(
          .error(file, record.line, 1, "time_s must be finite, got \(shown(fields[0]))"),
          kind: "bad time cells", to: &diagnostics)
        continue
      }
      if let previous = time.last, t <= previous {
        limiter.add(
          .error(
            file, record.line, 1,
            "time_s does not increase: \(fields[0]) after \(previous) on line "
              + "\(lines.last ?? 0)"),
          kind: "non-increasing times", to: &diagnostics)
      }
      time.append(t)
      lines.append(record.line)
      for c in 0..<channels.count {
        let text = fields[c + 1]
        if let value = parseCell(text) {
          if value.isFinite || value.isNaN {
            columns[c].append(value)
            continue
          }
          limiter.add(
            .error(file, record.line, c + 2, "value must be finite, got \(shown(text))"),
            kind: "non-numeric cells", to: &diagnostics)
        } else {
          limiter.add(
            .error(
              file, record.line, c + 2,
              "not a number: \(shown(text)) in \(channels[c]); a gap must be empty or NaN"),
            kind: "non-numeric cells", to: &diagnostics)
        }
        invalid[c].insert(columns[c].count)
        columns[c].append(.nan)
      }
    }

    if time.count < 2 {
      diagnostics.append(
        .error(
          file, header.line, 1,
          "trial has \(time.count) usable samples; at least 2 are needed"))
    } else {
      checkUniformRate(time, lines: lines, file: file, into: &diagnostics)
    }
    for c in 0..<channels.count {
      GapFilling.fill(
        &columns[c], channel: channels[c], column: c + 2, time: time, lines: lines,
        maxGap: maxGap, file: file, alreadyReported: invalid[c], limiter: &limiter,
        into: &diagnostics)
    }
    // Gap checks run channel by channel; sorting puts the report in reading order.
    diagnostics.sort { ($0.line, $0.column) < ($1.line, $1.column) }
    limiter.flush(to: &diagnostics)
    return (Trial(info: info, time: time, channels: channels, values: columns), diagnostics)
  }

  /// Parses a cell: a number, or NaN for a gap (empty, `NaN`, `nan`). nil means non-numeric.
  static func parseCell(_ text: String) -> Double? {
    if text.isEmpty { return .nan }
    if let value = Double(text) { return value }
    switch text.lowercased() {
    case "nan", "na", "n/a", "null": return .nan
    default: return nil
    }
  }

  private static func shown(_ text: String) -> String {
    if text.isEmpty { return "an empty cell" }
    let limit = 40
    return text.count > limit ? "'\(text.prefix(limit))…'" : "'\(text)'"
  }

  private static func checkHeader(
    _ channels: [String], line: Int, file: String, into diagnostics: inout [Diagnostic]
  ) {
    var seen: [String: Int] = [:]
    for (c, name) in channels.enumerated() {
      let column = c + 2
      if name.isEmpty {
        diagnostics.append(.error(file, line, column, "empty channel name in the header"))
        continue
      }
      if let first = seen[name] {
        diagnostics.append(
          .error(file, line, column, "duplicate column '\(name)' (also column \(first))"))
        continue
      }
      seen[name] = column
      if name == ChannelConventions.timeColumn {
        diagnostics.append(.error(file, line, column, "'time_s' may only be the first column"))
      } else if ChannelConventions.group(of: name) == nil {
        diagnostics.append(
          .warning(
            file, line, column,
            "channel '\(name)' is not named <group>.<name>; it belongs to no group and is "
              + "never used as an input"))
      }
    }
    for target in ChannelConventions.targetChannels where seen[target] == nil {
      diagnostics.append(
        .error(
          file, line, 1,
          "missing target channel '\(target)' (every trial needs "
            + ChannelConventions.targetChannels.joined(separator: ", ") + ")"))
    }
  }

  /// Warns once per trial when intervals stray more than 5% from the median: the format
  /// promises a uniform rate, and windows and filters count in samples.
  private static func checkUniformRate(
    _ time: [Double], lines: [Int], file: String, into diagnostics: inout [Diagnostic]
  ) {
    var intervals: [Double] = []
    intervals.reserveCapacity(time.count - 1)
    for i in 1..<time.count { intervals.append(time[i] - time[i - 1]) }
    let median = intervals.sorted()[intervals.count / 2]
    guard median > 0 else { return }
    var first: Int?
    var count = 0
    for (i, dt) in intervals.enumerated() where dt > 0 && abs(dt - median) > 0.05 * median {
      count += 1
      if first == nil { first = i + 1 }
    }
    if let first, first < lines.count {
      diagnostics.append(
        .warning(
          file, lines[first], 1,
          "sample interval is not uniform: \(count) intervals differ from the median "
            + "\(median) s by more than 5%"))
    }
  }
}
