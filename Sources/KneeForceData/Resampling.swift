/// Linear resampling onto an evenly spaced grid, the time normalisation of biomechanics
/// (0-100 % of a cycle): it preserves peaks well at the 100 Hz and above of gait data, and
/// unlike splines it never overshoots a force into negative values.
enum Resampling {
  /// Values of `values(time)` at `count` evenly spaced times from `start` to `end` inclusive.
  /// `time` must be increasing; times outside it take the nearest end value.
  static func linear(
    time: [Double], values: [Double], from start: Double, to end: Double, count: Int
  ) -> [Double] {
    let n = min(time.count, values.count)
    guard count > 0, n > 0 else { return [Double](repeating: .nan, count: max(count, 0)) }
    var out = [Double](repeating: 0, count: count)
    var lo = 0
    for k in 0..<count {
      let t = count == 1 ? start : start + (end - start) * Double(k) / Double(count - 1)
      if t <= time[0] {
        out[k] = values[0]
      } else if t >= time[n - 1] {
        out[k] = values[n - 1]
      } else {
        if time[lo] > t { lo = 0 }
        while lo + 1 < n - 1 && time[lo + 1] <= t { lo += 1 }
        let span = time[lo + 1] - time[lo]
        let w = span > 0 ? (t - time[lo]) / span : 0
        out[k] = values[lo] + w * (values[lo + 1] - values[lo])
      }
    }
    return out
  }
}
