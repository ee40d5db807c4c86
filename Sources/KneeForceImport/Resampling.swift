import Foundation

/// Every stream is put onto one clock (the marker frames of the trial) by linear
/// interpolation of its own time stamps.
public enum Resampling {
  /// `values` sampled at `times` (increasing), evaluated at `clock`. A clock time outside
  /// `times` by at most `tolerance` takes the nearest end value; further out it is NaN.
  public static func interpolate(
    times: [Double], values: [Double], at clock: [Double], tolerance: Double = 0
  ) -> [Double] {
    precondition(times.count == values.count)
    guard let first = times.first, let last = times.last else {
      return [Double](repeating: .nan, count: clock.count)
    }
    var out = [Double](repeating: .nan, count: clock.count)
    var j = 0
    for (i, t) in clock.enumerated() {
      if t < first {
        if first - t <= tolerance { out[i] = values[0] }
        continue
      }
      if t > last {
        if t - last <= tolerance { out[i] = values[values.count - 1] }
        continue
      }
      while j + 1 < times.count && times[j + 1] < t { j += 1 }
      if j + 1 >= times.count || times[j] == t {
        out[i] = values[j]
        continue
      }
      let span = times[j + 1] - times[j]
      let w = span > 0 ? (t - times[j]) / span : 0
      out[i] = values[j] + w * (values[j + 1] - values[j])
    }
    return out
  }

  /// Uniform sample times `start + i / rate`.
  public static func uniformTimes(start: Double, rate: Double, count: Int) -> [Double] {
    (0..<count).map { start + Double($0) / rate }
  }

  /// Gaps (NaN) filled by linear interpolation between the neighbours, ends held; returns
  /// the longest gap filled (in samples). An all-NaN signal stays NaN.
  @discardableResult
  public static func fillGaps(_ x: inout [Double]) -> Int {
    let valid = x.indices.filter { x[$0].isFinite }
    guard let firstValid = valid.first, let lastValid = valid.last else { return x.count }
    var longest = 0
    for i in 0..<firstValid { x[i] = x[firstValid] }
    for i in (lastValid + 1)..<max(lastValid + 1, x.count) { x[i] = x[lastValid] }
    longest = max(firstValid, x.count - 1 - lastValid)
    var previous = firstValid
    for index in valid.dropFirst() {
      if index > previous + 1 {
        longest = max(longest, index - previous - 1)
        for k in (previous + 1)..<index {
          let w = Double(k - previous) / Double(index - previous)
          x[k] = x[previous] + w * (x[index] - x[previous])
        }
      }
      previous = index
    }
    return longest
  }
}
