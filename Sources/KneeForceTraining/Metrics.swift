import Foundation

/// Agreement of a predicted force curve with the measured one, as Derungs et al. report it.
public struct TargetMetrics: Codable, Equatable, Sendable {
  public var target: String
  /// Root-mean-square error over every time step of every held-out sequence, in BW.
  public var rmse: Double
  /// Pearson correlation over the same samples.
  public var pearson: Double
  /// Range of the measured values, for judging the RMSE.
  public var measuredMin: Double
  public var measuredMax: Double
}

/// RMSE and Pearson r per target channel. `prediction` and `measured` are `[N][T][targets]`.
public func targetMetrics(prediction: [Float], measured: [Float], targets: [String])
  -> [TargetMetrics]
{
  precondition(prediction.count == measured.count && !targets.isEmpty)
  let width = targets.count
  return targets.enumerated().map { (c, name) in
    var n = 0.0
    var sumSq = 0.0
    var (sx, sy, sxx, syy, sxy) = (0.0, 0.0, 0.0, 0.0, 0.0)
    var lo = Double.infinity
    var hi = -Double.infinity
    for i in stride(from: c, to: prediction.count, by: width) {
      let p = Double(prediction[i])
      let m = Double(measured[i])
      sumSq += (p - m) * (p - m)
      sx += p
      sy += m
      sxx += p * p
      syy += m * m
      sxy += p * m
      lo = min(lo, m)
      hi = max(hi, m)
      n += 1
    }
    let cov = sxy - sx * sy / n
    let vx = sxx - sx * sx / n
    let vy = syy - sy * sy / n
    let r = vx > 0 && vy > 0 ? cov / (vx * vy).squareRoot() : .nan
    return TargetMetrics(
      target: name, rmse: (sumSq / max(n, 1)).squareRoot(), pearson: r, measuredMin: lo,
      measuredMax: hi)
  }
}
