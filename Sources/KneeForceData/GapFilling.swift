/// Gaps (empty or NaN cells) are common in gait-lab exports: a marker hidden for a frame, an
/// EMG sample lost. Short ones carry no information worth rejecting a trial for, long ones
/// would be invented data, so runs up to `maxGap` samples are interpolated and longer ones
/// are errors.
enum GapFilling {
  static func fill(
    _ values: inout [Double], channel: String, column: Int, time: [Double], lines: [Int],
    maxGap: Int, file: String, alreadyReported: Set<Int> = [], limiter: inout DiagnosticLimiter,
    into diagnostics: inout [Diagnostic]
  ) {
    let n = values.count
    guard n > 0, n == time.count, n == lines.count else { return }
    guard values.contains(where: { !$0.isNaN }) else {
      if !alreadyReported.isEmpty { return }
      diagnostics.append(
        .error(file, lines[0], column, "channel \(channel) has no values (every cell is a gap)"))
      return
    }
    var i = 0
    while i < n {
      guard values[i].isNaN else {
        i += 1
        continue
      }
      var end = i
      while end < n, values[end].isNaN { end += 1 }
      let length = end - i
      if (i..<end).allSatisfy({ alreadyReported.contains($0) }) {
        interpolate(&values, from: i, to: end, time: time)
        i = end
        continue
      }
      let seconds = end < n ? time[end] - time[max(i - 1, 0)] : time[n - 1] - time[i]
      if length > maxGap {
        limiter.add(
          .error(
            file, lines[i], column,
            "gap of \(length) samples (\(format(seconds)) s) in \(channel) from t = "
              + "\(format(time[i])) s is longer than the \(maxGap) samples that are "
              + "interpolated (--max-gap)"),
          kind: "long gaps", to: &diagnostics)
      } else {
        let how = (i == 0 || end == n) ? "filled with the nearest value" : "linearly interpolated"
        limiter.add(
          .warning(
            file, lines[i], column,
            "gap of \(length) sample\(length == 1 ? "" : "s") in \(channel) at t = "
              + "\(format(time[i])) s, \(how)"),
          kind: "short gaps", to: &diagnostics)
      }
      interpolate(&values, from: i, to: end, time: time)
      i = end
    }
  }

  /// Fills `values[start..<end]` (all NaN) linearly in time between the neighbours, or with
  /// the one neighbour at either end. Long gaps are filled too, so a trial with errors still
  /// summarises cleanly.
  private static func interpolate(
    _ values: inout [Double], from start: Int, to end: Int,
    time: [Double]
  ) {
    let before = start - 1
    let after = end
    for k in start..<end {
      if before >= 0, after < values.count {
        let span = time[after] - time[before]
        let w = span > 0 ? (time[k] - time[before]) / span : 0
        values[k] = values[before] + w * (values[after] - values[before])
      } else if before >= 0 {
        values[k] = values[before]
      } else if after < values.count {
        values[k] = values[after]
      }
    }
  }

  static func format(_ value: Double) -> String {
    let rounded = (value * 1000).rounded() / 1000
    return "\(rounded)"
  }
}
