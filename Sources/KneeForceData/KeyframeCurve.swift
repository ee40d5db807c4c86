/// A smooth curve through hand-picked (phase, value) keyframes, the way gait patterns are
/// described in textbooks ("knee flexion peaks at 60° at 72 % of the cycle"). Cubic Hermite
/// interpolation with finite-difference tangents (Catmull-Rom) keeps it smooth enough to
/// differentiate for velocities and accelerations.
struct KeyframeCurve: Sendable {
  private let xs: [Double]
  private let ys: [Double]
  private let slopes: [Double]
  private let periodic: Bool

  /// `points` sorted by phase in [0, 1]. A periodic curve wraps from 1 back to 0 (a point at
  /// phase 1 is dropped, it must equal the one at 0); a non-periodic one is clamped outside.
  init(_ points: [(Double, Double)], periodic: Bool) {
    var points = points
    if periodic, points.count > 1, let last = points.last, last.0 >= 1 { points.removeLast() }
    self.periodic = periodic
    xs = points.map(\.0)
    ys = points.map(\.1)
    let n = points.count
    var slopes = [Double](repeating: 0, count: n)
    for k in 0..<n where n > 1 {
      let (x0, y0, x1, y1): (Double, Double, Double, Double)
      if periodic {
        let before = (k - 1 + n) % n
        let after = (k + 1) % n
        x0 = k == 0 ? xs[before] - 1 : xs[before]
        x1 = k == n - 1 ? xs[after] + 1 : xs[after]
        y0 = ys[before]
        y1 = ys[after]
      } else {
        let before = max(k - 1, 0)
        let after = min(k + 1, n - 1)
        (x0, y0, x1, y1) = (xs[before], ys[before], xs[after], ys[after])
      }
      slopes[k] = x1 > x0 ? (y1 - y0) / (x1 - x0) : 0
    }
    self.slopes = slopes
  }

  func callAsFunction(_ phase: Double) -> Double {
    let n = xs.count
    guard n > 1 else { return ys.first ?? 0 }
    var p = phase
    if periodic {
      p -= p.rounded(.down)
    } else {
      if p <= xs[0] { return ys[0] }
      if p >= xs[n - 1] { return ys[n - 1] }
    }
    // Segment k runs from xs[k] to the next keyframe; a periodic curve's last segment runs
    // on to xs[0] + 1, and phases before xs[0] belong to it.
    var k = n - 1
    if periodic && p < xs[0] {
      p += 1
    } else {
      for i in 0..<(n - 1) where p < xs[i + 1] {
        k = i
        break
      }
    }
    let next = (k + 1) % n
    let x0 = xs[k]
    let x1 = next == 0 ? xs[0] + 1 : xs[next]
    let h = x1 - x0
    guard h > 0 else { return ys[k] }
    let s = (p - x0) / h
    let s2 = s * s
    let s3 = s2 * s
    return (2 * s3 - 3 * s2 + 1) * ys[k] + (s3 - 2 * s2 + s) * h * slopes[k]
      + (-2 * s3 + 3 * s2) * ys[next] + (s3 - s2) * h * slopes[next]
  }
}
