import Foundation

/// Training-time perturbations of gathered sequences, in z-score units, meant for small
/// cohorts where the network otherwise memorises each subject's exact curves. All zero (the
/// default) leaves the gather's arithmetic exactly as without augmentation.
///
/// Per row (one sequence of a lane's batch) and input channel c, with z the z-scored input:
/// `x = z * exp(gain * g_c) + offset * o_c + noise * n_tc`, where g, o, n are independent
/// unit-variance draws (each the centred sum of four uniforms, `augmentationNormal`: cheap,
/// bounded by ±2√3 so a rare draw cannot blow up a step, and identical on both backends).
/// The time warp reads every channel, target and base at the warped step
/// `p(t) = (T-1) (u + w sin(πu)/π)`, `u = t/(T-1)`, with `w` uniform in ±`timeWarp` per row,
/// interpolating linearly between the two neighbouring steps. The ends stay fixed and
/// `dp/du = 1 + w cos(πu) > 0` for `timeWarp < 1`, so the warp is smooth and monotone; the
/// largest shift, mid-sequence, is `timeWarp (T-1)/π` steps. Targets get only the warp (the
/// force curve must stay the one the motion produced); with a base the residual
/// target - base is formed at both neighbours first and then interpolated, which is the
/// warped target minus the warped base.
public struct Augmentation: Sendable, Equatable, Codable {
  /// SD of per-element input noise.
  public var noise: Float
  /// SD of a per-(row, channel) constant offset.
  public var offset: Float
  /// SD of a per-(row, channel) log gain.
  public var gain: Float
  /// Largest warp strength `|w|`, in [0, 1).
  public var timeWarp: Float

  public init(noise: Float = 0, offset: Float = 0, gain: Float = 0, timeWarp: Float = 0) {
    self.noise = noise
    self.offset = offset
    self.gain = gain
    self.timeWarp = timeWarp
  }

  public static let off = Augmentation()
  public var isOff: Bool { self == .off }

  /// Why the settings cannot be used, or nil.
  public var problem: String? {
    for (name, value) in [("noise", noise), ("offset", offset), ("gain", gain)]
    where !(value >= 0 && value.isFinite) {
      return "augmentation \(name) \(value): expected a finite SD >= 0"
    }
    guard timeWarp >= 0, timeWarp < 1 else {
      return "augmentation timeWarp \(timeWarp): expected 0 <= timeWarp < 1 (monotone warp)"
    }
    return nil
  }
}

/// An augmentation with the per-lane keys (words, one per lane) of this step: a lane's
/// draws are hashes of (its key, row, channel, step), independent of launch shape, threads
/// and the other lanes.
public struct GatherAugmentation {
  public var settings: Augmentation
  public var keys: BufferSlice

  public init(_ settings: Augmentation, keys: BufferSlice) {
    self.settings = settings
    self.keys = keys
  }
}

/// Which draw of a row an augmentation hash is for (Kernels/lanes.cl has the same numbers).
public enum AugmentationDraw: UInt32 {
  case warp = 1
  case gain = 2
  case offset = 3
  case noise = 4
}

/// The seed of one draw of one row under a lane's key (kf_aug_row_seed): hashed once per
/// row, so each element's draw costs one hash per uniform.
@inlinable
public func augmentationRowSeed(key: UInt32, draw: AugmentationDraw, row: UInt32) -> UInt32 {
  kneeforceHash(kneeforceHash(key ^ (draw.rawValue &* 0x9E37_79B9)) ^ row)
}

/// A uniform in [0, 1) for element `index` of a row's draw (kf_aug_uniform).
@inlinable
public func augmentationUniform(rowSeed: UInt32, index: UInt32) -> Float {
  Float(kneeforceHash(rowSeed ^ index) >> 8) * (1.0 / 16_777_216.0)
}

/// A unit-variance draw: four uniforms summed in order, centred and scaled (kf_aug_normal).
@inlinable
public func augmentationNormal(rowSeed: UInt32, index: UInt32) -> Float {
  var sum: Float = 0
  for k in 0..<UInt32(4) { sum += augmentationUniform(rowSeed: rowSeed, index: index &* 4 &+ k) }
  return (sum - 2) * 1.732_050_8
}

@inlinable
public func augmentationUniform(key: UInt32, draw: AugmentationDraw, row: UInt32, index: UInt32)
  -> Float
{
  augmentationUniform(rowSeed: augmentationRowSeed(key: key, draw: draw, row: row), index: index)
}

@inlinable
public func augmentationNormal(key: UInt32, draw: AugmentationDraw, row: UInt32, index: UInt32)
  -> Float
{
  augmentationNormal(rowSeed: augmentationRowSeed(key: key, draw: draw, row: row), index: index)
}

/// The warped source step of step `t` of `steps` for warp strength `w` (kf_aug_warp).
@inlinable
public func augmentationWarp(_ t: Int, steps: Int, w: Float) -> Float {
  guard steps > 1 else { return 0 }
  let last = Float(steps - 1)
  let u = Float(t) / last
  // sin(πu) through the nearer end, so both ends get sin(0) = 0 and stay exactly in place.
  let warped = u + w * (sinf(Float.pi * min(u, 1 - u)) / Float.pi)
  return min(max(warped, 0), 1) * last
}
