import Foundation

/// The project's seeded random generator. Weights, data shuffles and synthetic inputs all come
/// from it on the host, so a seed means the same numbers on every backend and machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  public var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [0, 1) with 24 random bits: exactly representable, platform independent.
  public mutating func nextUnit() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

  public mutating func nextFloat(in range: ClosedRange<Float>) -> Float {
    range.lowerBound + (range.upperBound - range.lowerBound) * nextUnit()
  }

  /// Standard normal by Box-Muller, for synthetic inputs.
  public mutating func nextGaussian() -> Float {
    let u1 = max(Double(nextUnit()), 1e-12)
    let u2 = Double(nextUnit())
    return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
  }
}
