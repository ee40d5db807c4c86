import Foundation

/// xoshiro256** seeded through SplitMix64: a small, well-tested generator whose output is
/// fixed by this file alone, so a cohort generated from a seed is the same on every machine
/// and every toolchain. The system generator and the standard library's `random(in:using:)`
/// mappings are avoided on purpose, since neither promises a stable sequence.
public struct SeededRandom: RandomNumberGenerator, Sendable {
  private var state: (UInt64, UInt64, UInt64, UInt64)
  private var spareNormal: Double?

  public init(seed: UInt64) {
    var mixer = seed
    func splitMix() -> UInt64 {
      mixer &+= 0x9E37_79B9_7F4A_7C15
      var z = mixer
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (splitMix(), splitMix(), splitMix(), splitMix())
    spareNormal = nil
  }

  /// An independent stream for a named part of a cohort (a subject, a trial), so that
  /// adding a trial does not shift the random numbers of every later subject.
  public func fork(_ label: UInt64) -> SeededRandom {
    var copy = self
    let a = copy.next()
    return SeededRandom(seed: a ^ (label &* 0xD1B5_4A32_D192_ED03))
  }

  public mutating func next() -> UInt64 {
    let result = rotate(state.1 &* 5, 7) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = rotate(state.3, 45)
    return result
  }

  /// Uniform in [0, 1), 53 random bits.
  public mutating func unit() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  public mutating func uniform(_ low: Double, _ high: Double) -> Double {
    low + (high - low) * unit()
  }

  /// Uniform integer in `low...high`.
  public mutating func integer(_ low: Int, _ high: Int) -> Int {
    guard high > low else { return low }
    let span = UInt64(high - low + 1)
    return low + Int(next() % span)
  }

  /// Standard normal by Box-Muller; the second value of each pair is kept for the next call.
  public mutating func normal() -> Double {
    if let spare = spareNormal {
      spareNormal = nil
      return spare
    }
    let u1 = max(unit(), 1e-300)
    let u2 = unit()
    let radius = (-2 * log(u1)).squareRoot()
    spareNormal = radius * sin(2 * Double.pi * u2)
    return radius * cos(2 * Double.pi * u2)
  }

  public mutating func normal(_ mean: Double, _ sd: Double) -> Double {
    mean + sd * normal()
  }

  private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 {
    (x << k) | (x >> (64 - k))
  }
}
