import KneeForceData

/// Left legs in the right-leg convention (DATASET_FORMAT.md): the medio-lateral axis is
/// flipped. Segment frames are always built with z to the subject's right (the lateral
/// markers of a left leg are reflected), so a left leg's flexion angles already have the
/// right-leg sign and its ad/abduction, rotation and inversion angles change sign; GRF and
/// centre of pressure use the leg's own medial direction (to the subject's right for a left
/// leg).
public enum Mirroring {
  /// Channels whose sign flips for a left leg when computed in right-handed, z-right frames.
  public static let flippedAngles: Set<String> = [
    "kin.hip_adduction", "kin.hip_rotation", "kin.knee_adduction", "kin.knee_rotation",
    "kin.ankle_inversion",
  ]

  /// Mirrors the angle channels of a left leg in place.
  public static func mirrorAngles(_ channels: [String], _ values: inout [[Double]], side: Side) {
    guard side == .left else { return }
    for (c, name) in channels.enumerated() where flippedAngles.contains(name) {
      values[c] = values[c].map { -$0 }
    }
  }

  /// The leg's medial direction given the subject's right: to the left for a right leg.
  public static func medial(right: Vec3, side: Side) -> Vec3 { side == .left ? right : -right }
}
