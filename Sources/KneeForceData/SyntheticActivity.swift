/// The activities of the synthetic cohort, named as in the dataset format.
public enum SyntheticActivity: String, CaseIterable, Sendable, Codable {
  case walking
  case stairAscent = "stair_ascent"
  case stairDescent = "stair_descent"
  case squat
  case sitToStand = "sit_to_stand"
  case rampDescent = "ramp_descent"

  /// Cyclic activities with foot strikes and foot offs, written to events.csv.
  public var isGaitLike: Bool {
    switch self {
    case .walking, .stairAscent, .stairDescent, .rampDescent: return true
    case .squat, .sitToStand: return false
    }
  }
}
