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
    let indices = Array(stride(from: c, to: prediction.count, by: width))
    let n = Double(indices.count)
    var (meanP, meanM) = (0.0, 0.0)
    var (lo, hi) = (Double.infinity, -Double.infinity)
    var (loP, hiP) = (Double.infinity, -Double.infinity)
    for i in indices {
      meanP += Double(prediction[i])
      meanM += Double(measured[i])
      lo = min(lo, Double(measured[i]))
      hi = max(hi, Double(measured[i]))
      loP = min(loP, Double(prediction[i]))
      hiP = max(hiP, Double(prediction[i]))
    }
    meanP /= max(n, 1)
    meanM /= max(n, 1)
    // Two passes (means first) so that rounding cannot invent variance.
    var (sumSq, cov, vp, vm) = (0.0, 0.0, 0.0, 0.0)
    for i in indices {
      let p = Double(prediction[i]) - meanP
      let m = Double(measured[i]) - meanM
      let e = Double(prediction[i]) - Double(measured[i])
      sumSq += e * e
      cov += p * m
      vp += p * p
      vm += m * m
    }
    // A constant curve has no correlation with anything.
    let r = loP == hiP || lo == hi || vp <= 0 || vm <= 0 ? Double.nan : cov / (vp * vm).squareRoot()
    return TargetMetrics(
      target: name, rmse: (sumSq / max(n, 1)).squareRoot(), pearson: r, measuredMin: lo,
      measuredMax: hi)
  }
}

/// An error in an experiment's data or settings (printed as `error: <message>`, exit 1).
public struct ExperimentError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
