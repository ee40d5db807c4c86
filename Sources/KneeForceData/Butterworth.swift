import Foundation

/// A second-order Butterworth low-pass, applied forward and backward (zero phase), the
/// standard smoothing of gait-lab kinematics and forces: running it twice cancels the phase
/// lag that would otherwise shift force peaks relative to the targets, at the price of a
/// squared magnitude response (-6 dB rather than -3 dB at the cutoff).
public struct Butterworth: Sendable, Equatable {
  /// Numerator and denominator (`a[0]` = 1) of the single-pass digital filter.
  public let b: [Double]
  public let a: [Double]

  public enum DesignError: Error, Equatable, CustomStringConvertible {
    case cutoffOutOfRange(cutoffHz: Double, sampleRateHz: Double)

    public var description: String {
      switch self {
      case let .cutoffOutOfRange(cutoff, rate):
        return "low-pass cutoff \(cutoff) Hz must be above 0 and below the Nyquist frequency "
          + "\(rate / 2) Hz of a \(rate) Hz trial"
      }
    }
  }

  /// Designs the filter by the bilinear transform with a pre-warped cutoff, so that the
  /// single-pass gain at `cutoffHz` is exactly 1/√2.
  public init(cutoffHz: Double, sampleRateHz: Double) throws {
    guard cutoffHz > 0, sampleRateHz > 0, cutoffHz < sampleRateHz / 2,
      cutoffHz.isFinite, sampleRateHz.isFinite
    else { throw DesignError.cutoffOutOfRange(cutoffHz: cutoffHz, sampleRateHz: sampleRateHz) }
    let k = tan(Double.pi * cutoffHz / sampleRateHz)
    let k2 = k * k
    let root2 = 2.0.squareRoot()
    let norm = 1 / (1 + root2 * k + k2)
    let b0 = k2 * norm
    b = [b0, 2 * b0, b0]
    a = [1, 2 * (k2 - 1) * norm, (1 - root2 * k + k2) * norm]
  }

  /// One causal pass, started in the steady state of the first sample so that a signal with
  /// an offset does not begin with a transient.
  public func filter(_ x: [Double]) -> [Double] {
    guard let first = x.first else { return [] }
    let gain = (b[0] + b[1] + b[2]) / (a[0] + a[1] + a[2])
    var z2 = (b[2] - a[2] * gain) * first
    var z1 = (b[1] - a[1] * gain) * first + z2
    var y = [Double](repeating: 0, count: x.count)
    for i in 0..<x.count {
      let input = x[i]
      let output = b[0] * input + z1
      z1 = b[1] * input - a[1] * output + z2
      z2 = b[2] * input - a[2] * output
      y[i] = output
    }
    return y
  }

  /// Forward-backward filtering with odd reflection padding of 9 samples at each end (the
  /// usual 3 × filter length), which keeps the ends of short trials free of start-up
  /// transients.
  public func filtfilt(_ x: [Double]) -> [Double] {
    let n = x.count
    guard n > 1 else { return x }
    let pad = min(9, n - 1)
    var extended: [Double] = []
    extended.reserveCapacity(n + 2 * pad)
    for i in stride(from: pad, through: 1, by: -1) { extended.append(2 * x[0] - x[i]) }
    extended += x
    for i in 1...pad { extended.append(2 * x[n - 1] - x[n - 1 - i]) }
    let forward = filter(extended)
    let backward = filter(forward.reversed())
    return Array(backward.reversed()[pad..<(pad + n)])
  }
}
