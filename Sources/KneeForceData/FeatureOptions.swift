/// How trials are cut into the fixed-length sequences a network trains on.
public enum Segmentation: Sendable, Equatable, Hashable, Codable {
  /// Each whole trial resampled to `length` points (0-100 % of the trial).
  case trial(length: Int)
  /// Each gait cycle (foot strike to the next foot strike of the instrumented leg, from
  /// events.csv) resampled to `length` points. A trial with fewer than two foot strikes
  /// (a squat, a sit-to-stand, or missing events) falls back to `.trial(length:)`, so that
  /// one setting works for a dataset that mixes gait and non-gait activities.
  case cycle(length: Int)
  /// Sliding windows of `length` samples every `stride` samples, at the trial's own rate,
  /// for long trials or streaming inference. Trials shorter than a window yield none.
  case windows(length: Int, stride: Int)

  /// Time normalisation of each trial to 101 points (0, 1, ..., 100 % of the movement).
  public static let `default` = Segmentation.trial(length: 101)

  /// The number of time steps of every sequence it produces.
  public var length: Int {
    switch self {
    case let .trial(length), let .cycle(length), let .windows(length, _): return length
    }
  }
}

/// The settings of the feature pipeline; Codable so that a checkpoint can record exactly how
/// its inputs were made.
public struct FeatureOptions: Sendable, Equatable, Hashable, Codable {
  /// Input channel groups (any subset of `kin`, `grf`, `emg`, or other groups present).
  /// Inputs are the dataset's channels of these groups, in dataset channel order; targets are
  /// never inputs.
  public var groups: [String]
  public var segmentation: Segmentation
  /// Zero-phase 2nd-order Butterworth low-pass cutoff in Hz, or nil for no filtering.
  public var lowPassHz: Double?
  /// Whether the low-pass is also applied to the targets. Off by default: the targets are
  /// what the model is judged against, and smoothing them would flatter it.
  public var filterTargets: Bool
  /// Only trials of these activities, or all when nil.
  public var activities: [String]?

  public init(
    groups: [String] = ChannelConventions.inputGroups,
    segmentation: Segmentation = .default,
    lowPassHz: Double? = nil,
    filterTargets: Bool = false,
    activities: [String]? = nil
  ) {
    self.groups = groups
    self.segmentation = segmentation
    self.lowPassHz = lowPassHz
    self.filterTargets = filterTargets
    self.activities = activities
  }
}
