import Foundation

/// One plate's ground reaction on the body (N, lab axes) and centre of pressure (m, lab),
/// at the plate's own sample times.
public struct PlateRecording: Sendable {
  public var label: String
  public var times: [Double]
  public var force: [Vec3]
  public var cop: [Vec3]

  public init(label: String, times: [Double], force: [Vec3], cop: [Vec3]) {
    self.label = label
    self.times = times
    self.force = force
    self.cop = cop
  }
}

/// Stances on each plate and which leg makes them: a stance is a run of samples with the
/// vertical force above `threshold`; it belongs to the instrumented leg when the mean centre
/// of pressure (weighted by the vertical force) is nearer (horizontally) to that foot's heel-toe midpoint than to the other
/// foot's. Without contralateral foot markers every stance is the instrumented leg's.
public struct StanceDetection: Sendable {
  /// 50 N rather than the usual 20 N: an unloaded Grand Challenge stair plate reads 30 N.
  public var thresholdN = 50.0
  /// Runs shorter than this (s) are noise, not stances.
  public var minimumStanceS = 0.05

  public init() {}

  public struct Stance: Sendable, Equatable {
    public var plate: Int
    public var range: Range<Int>
    public var instrumented: Bool
  }

  /// Runs above the threshold of a vertical-force series (clock samples).
  public func runs(_ vertical: [Double], rate: Double) -> [Range<Int>] {
    var out: [Range<Int>] = []
    var start: Int?
    for (i, v) in vertical.enumerated() {
      let on = v.isFinite && v > thresholdN
      if on, start == nil { start = i }
      if !on, let s = start {
        out.append(s..<i)
        start = nil
      }
    }
    if let s = start { out.append(s..<vertical.count) }
    let minimum = Int((minimumStanceS * rate).rounded())
    return out.filter { $0.count >= max(1, minimum) }
  }

  /// Stances of every plate, with the leg that makes each.
  public func stances(
    verticals: [[Double]], cops: [[Vec3]], up: Vec3, rate: Double,
    foot: [Vec3]?, otherFoot: [Vec3]?
  ) -> [Stance] {
    var out: [Stance] = []
    for (p, vertical) in verticals.enumerated() {
      for run in runs(vertical, rate: rate) {
        var instrumented = true
        if let foot, let otherFoot {
          var near = 0.0
          var far = 0.0
          var count = 0
          for i in run {
            let c = cops[p][i]
            guard c.x.isFinite, foot[i].x.isFinite, otherFoot[i].x.isFinite else { continue }
            func horizontal(_ v: Vec3) -> Double {
              let d = v - c
              let h = d - dot(d, up) * up
              return dot(h, h).squareRoot()
            }
            // Weighted by the vertical force, so that the light ends of a stance count little.
            let w = max(vertical[i], 0)
            near += w * horizontal(foot[i])
            far += w * horizontal(otherFoot[i])
            count += 1
          }
          if count > 0 { instrumented = near <= far }
        }
        out.append(Stance(plate: p, range: run, instrumented: instrumented))
      }
    }
    return out.sorted { $0.range.lowerBound < $1.range.lowerBound }
  }
}
