#if canImport(Glibc)
  import Glibc
#endif

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
    var builder = TrialBuilder(file: file, info: info, maxGap: maxGap)
    var parser = CSVParser()
    bytes.withUnsafeBufferPointer { chunk in parser.feed(chunk) { builder.add($0) } }
    builder.finishing = true
    parser.finish { builder.add($0) }
    return builder.finish(issues: parser.issues, unterminatedLine: parser.unterminatedLine)
  }

  /// Reads the trial file at `path` as `parse` does, streaming it: the reader holds one chunk
  /// of the file and the samples, never the text of the whole file. Fails, without a trial,
  /// when the path is not a readable regular file or not UTF-8 text.
  static func read(_ path: String, info: TrialInfo, maxGap: Int = defaultMaxGap)
    -> Result<(Trial?, [Diagnostic]), FileReadProblem>
  {
    var builder = TrialBuilder(file: path, info: info, maxGap: maxGap)
    var parser = CSVParser()
    var size = stat()
    let fileSize = stat(path, &size) == 0 ? Int(size.st_size) : 0
    var read = 0
    let problem = DatasetFiles.stream(path) { chunk in
      parser.feed(chunk) { builder.add($0) }
      if read == 0 && chunk.count < fileSize {
        // From the rows of the first chunk, room for the whole file's samples at once:
        // growing arrays by doubling would hold up to twice the samples at the end.
        builder.reserve(samples: builder.sampleCount * (fileSize / max(1, chunk.count)) * 21 / 20)
      }
      read += chunk.count
    }
    if let problem { return .failure(problem) }
    builder.finishing = true
    parser.finish { builder.add($0) }
    return .success(
      builder.finish(issues: parser.issues, unterminatedLine: parser.unterminatedLine))
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

  static func shown(_ text: String) -> String { quoted(text) }

  static func checkHeader(
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
          .error(file, line, column, "duplicate column \(quoted(name)) (also column \(first))"))
        continue
      }
      seen[name] = column
      if name == ChannelConventions.timeColumn {
        diagnostics.append(.error(file, line, column, "'time_s' may only be the first column"))
      } else if ChannelConventions.group(of: name) == nil {
        diagnostics.append(
          .warning(
            file, line, column,
            "channel \(quoted(name)) is not named <group>.<name>; it belongs to no group and is "
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
  static func checkUniformRate(
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

/// The state of one trial being read, fed one CSV record at a time: the header, then the
/// samples, column by column.
struct TrialBuilder {
  let file: String
  let info: TrialInfo
  let maxGap: Int
  /// Set before the parser's `finish`, whose record (if any) is the file's last and may
  /// have been cut short.
  var finishing = false

  private var diagnostics: [Diagnostic] = []
  private var limiter: DiagnosticLimiter
  private var header: CSVRecord?
  /// The header is unusable: its error is reported and the rows are not read.
  private var headerFailed = false
  private var channels: [String] = []
  private var time: [Double] = []
  private var lines: [Int] = []
  private var columns: [[Double]] = []
  /// Samples of non-numeric cells, already reported, so that the gaps they leave are not
  /// reported a second time.
  private var invalid: [Set<Int>] = []
  /// The last line was reported as short; the missing newline is then not reported again.
  private var shortLastRow = false

  init(file: String, info: TrialInfo, maxGap: Int) {
    self.file = file
    self.info = info
    self.maxGap = maxGap
    self.limiter = DiagnosticLimiter(file: file)
  }

  mutating func add(_ record: CSVRecord) {
    guard let header else {
      startHeader(record)
      return
    }
    if headerFailed { return }
    let fields = record.fields
    let width = header.fields.count
    if fields.count != width {
      let only = fields.count < width ? "only " : ""
      var message = "row has \(only)\(fields.count) fields but the header has \(width)"
      if finishing && fields.count < width {
        message += cutShortHint
        shortLastRow = true
      }
      limiter.add(
        .error(file, record.line, min(fields.count, width) + 1, message),
        kind: "rows with a wrong number of fields", to: &diagnostics)
      return
    }
    guard let t = TrialReader.parseCell(fields[0]), !t.isNaN else {
      limiter.add(
        .error(
          file, record.line, 1,
          "time_s must be a number, got \(TrialReader.shown(fields[0]))"),
        kind: "bad time cells", to: &diagnostics)
      return
    }
    if !t.isFinite {
      limiter.add(
        .error(
          file, record.line, 1, "time_s must be finite, got \(TrialReader.shown(fields[0]))"),
        kind: "bad time cells", to: &diagnostics)
      return
    }
    if let previous = time.last, t <= previous {
      limiter.add(
        .error(
          file, record.line, 1,
          "time_s does not increase: \(plain(fields[0])) after \(previous) on line "
            + "\(lines.last ?? 0)"),
        kind: "non-increasing times", to: &diagnostics)
    }
    time.append(t)
    lines.append(record.line)
    for c in 0..<channels.count {
      let text = fields[c + 1]
      if let value = TrialReader.parseCell(text) {
        if value.isFinite || value.isNaN {
          columns[c].append(value)
          continue
        }
        limiter.add(
          .error(
            file, record.line, c + 2, "value must be finite, got \(TrialReader.shown(text))"),
          kind: "non-numeric cells", to: &diagnostics)
      } else {
        limiter.add(
          .error(
            file, record.line, c + 2,
            "not a number: \(TrialReader.shown(text)) in \(plain(channels[c])); a gap must be "
              + "empty or NaN"),
          kind: "non-numeric cells", to: &diagnostics)
      }
      invalid[c].insert(columns[c].count)
      columns[c].append(.nan)
    }
  }

  var sampleCount: Int { time.count }

  /// Reserves room for `samples` samples in every column.
  mutating func reserve(samples: Int) {
    guard !headerFailed, samples > time.count else { return }
    time.reserveCapacity(samples)
    lines.reserveCapacity(samples)
    for c in columns.indices { columns[c].reserveCapacity(samples) }
  }

  private mutating func startHeader(_ record: CSVRecord) {
    header = record
    guard record.fields.first == ChannelConventions.timeColumn else {
      let found = record.fields.first ?? ""
      diagnostics.append(
        .error(
          file, record.line, 1,
          "first column must be '\(ChannelConventions.timeColumn)', found "
            + TrialReader.shown(found)))
      headerFailed = true
      return
    }
    channels = Array(record.fields.dropFirst())
    TrialReader.checkHeader(channels, line: record.line, file: file, into: &diagnostics)
    columns = [[Double]](repeating: [], count: channels.count)
    invalid = [Set<Int>](repeating: [], count: channels.count)
  }

  /// The trial (nil when the header is unusable) and every problem, in reading order.
  mutating func finish(issues: [CSVSyntaxIssue], unterminatedLine: Int?) -> (Trial?, [Diagnostic]) {
    var syntax: [Diagnostic] = []
    for issue in issues {
      limiter.add(
        .error(file, issue.line, issue.column, issue.message), kind: "CSV syntax errors",
        to: &syntax)
    }
    diagnostics = syntax + diagnostics
    if let unterminatedLine, !shortLastRow {
      diagnostics.append(missingNewlineWarning(file, line: unterminatedLine))
    }
    guard let header else {
      diagnostics.append(
        .error(
          file, 1, 1,
          "trial file is empty; expected a header starting "
            + "with '\(ChannelConventions.timeColumn)'"))
      return (nil, diagnostics)
    }
    if headerFailed { return (nil, diagnostics) }

    if time.count < 2 {
      diagnostics.append(
        .error(
          file, header.line, 1,
          "trial has \(time.count) usable samples; at least 2 are needed"))
    } else {
      TrialReader.checkUniformRate(time, lines: lines, file: file, into: &diagnostics)
    }
    for c in 0..<channels.count {
      GapFilling.fill(
        &columns[c], channel: plain(channels[c]), column: c + 2, time: time, lines: lines,
        maxGap: maxGap, file: file, alreadyReported: invalid[c], limiter: &limiter,
        into: &diagnostics)
    }
    // Gap checks run channel by channel; sorting puts the report in reading order.
    diagnostics.sort { ($0.line, $0.column) < ($1.line, $1.column) }
    limiter.flush(to: &diagnostics)
    let trial = Trial(info: info, time: time, channels: channels, values: columns)
    time = []
    columns = []
    return (trial, diagnostics)
  }
}

/// The warning for a file whose last line has no line break: harmless when a spreadsheet
/// left it out, but a file cut short inside its last value looks the same.
/// A small whole-file CSV (the manifest, events.csv) parsed at once: its records, the line of
/// an unterminated last row, the missing-newline warning when that row is complete (a short
/// one is an error the caller reports with `cutShortHint`), and the parser's errors.
func parseWholeCSV(_ bytes: [UInt8], file: String) -> (
  records: [CSVRecord], unterminatedLine: Int?, newlineWarning: Diagnostic?, errors: [Diagnostic]
) {
  var records: [CSVRecord] = []
  var parser = CSVParser()
  bytes.withUnsafeBufferPointer { chunk in parser.feed(chunk) { records.append($0) } }
  parser.finish { records.append($0) }
  var newlineWarning: Diagnostic?
  if let line = parser.unterminatedLine, let header = records.first, let last = records.last,
    records.count == 1 || last.fields.count >= header.fields.count
  {
    newlineWarning = missingNewlineWarning(file, line: line)
  }
  let errors = parser.issues.map { Diagnostic.error(file, $0.line, $0.column, $0.message) }
  return (records, parser.unterminatedLine, newlineWarning, errors)
}

func missingNewlineWarning(_ file: String, line: Int) -> Diagnostic {
  .warning(
    file, line, 1,
    "the file does not end with a newline; check that its last row (line \(line)) is "
      + "complete: spreadsheets may leave the final newline out, but a file cut short "
      + "looks the same")
}

/// The message hint for a short last row of a file without a final newline.
let cutShortHint = "; the file ends inside this row, without a newline: it was cut short"
