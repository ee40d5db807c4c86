/// The samples of one trial, as read from its CSV (units as in the file: degrees, N, m,
/// dimensionless), after short gaps have been interpolated.
///
/// Storage is column-major `[[Double]]`, `values[channel][sample]`: every later step
/// (filtering, body-weight scaling, resampling) works on one channel at a time, and Double
/// keeps filter and interpolation round-off out of the way; the feature pipeline converts to
/// `Float` only at the end.
public struct Trial: Sendable, Equatable {
  public var info: TrialInfo
  /// Seconds, strictly increasing.
  public var time: [Double]
  /// Channel names in file order, without `time_s`.
  public var channels: [String]
  /// `values[c][i]` is channel `channels[c]` at `time[i]`.
  public var values: [[Double]]

  public init(info: TrialInfo, time: [Double], channels: [String], values: [[Double]]) {
    self.info = info
    self.time = time
    self.channels = channels
    self.values = values
  }

  public var sampleCount: Int { time.count }

  public var duration: Double {
    guard let first = time.first, let last = time.last else { return 0 }
    return last - first
  }

  /// Samples per second from the median interval, robust to one dropped frame.
  public var sampleRate: Double {
    guard time.count > 1 else { return 0 }
    var intervals: [Double] = []
    intervals.reserveCapacity(time.count - 1)
    for i in 1..<time.count { intervals.append(time[i] - time[i - 1]) }
    intervals.sort()
    let median = intervals[intervals.count / 2]
    return median > 0 ? 1 / median : 0
  }

  public func index(of channel: String) -> Int? { channels.firstIndex(of: channel) }

  public func column(_ channel: String) -> [Double]? {
    guard let i = index(of: channel), i < values.count else { return nil }
    return values[i]
  }
}
