import Foundation

/// Per-channel z-score statistics of the inputs. Fitted on the training subjects of a fold
/// only, so the held-out subject's own mean never leaks into its inputs, and stored in
/// checkpoints as JSON so that inference normalises exactly as training did.
public struct Normalizer: Sendable, Equatable, Codable {
  /// A standard deviation below this is raised to it: a constant channel (an EMG electrode
  /// that fell off) would otherwise divide by zero and turn into huge values.
  public static let defaultStdFloor: Float = 1e-3

  public var channels: [String]
  public var mean: [Float]
  public var std: [Float]
  public var stdFloor: Float

  public enum NormalizerError: Error, Equatable, CustomStringConvertible {
    case emptyFit
    case channelMismatch(expected: [String], found: [String])
    case inconsistent(String)

    public var description: String {
      switch self {
      case .emptyFit: return "cannot fit a normalizer on zero sequences"
      case let .channelMismatch(expected, found):
        return "normalizer was fitted on channels \(expected.joined(separator: ", ")) but the "
          + "data have \(found.joined(separator: ", "))"
      case let .inconsistent(message): return "invalid normalizer: \(message)"
      }
    }
  }

  public init(channels: [String], mean: [Float], std: [Float], stdFloor: Float = defaultStdFloor) {
    self.channels = channels
    self.mean = mean
    self.std = std
    self.stdFloor = stdFloor
  }

  /// Fits on the inputs of the sequences at `indices` of `set` (all when nil), over every
  /// time step. Accumulates in Double so that long datasets do not lose precision.
  public init(
    fitting set: SequenceSet, indices: [Int]? = nil, stdFloor: Float = defaultStdFloor
  ) throws {
    let width = set.inputWidth
    let stride = set.length * width
    let chosen = (indices ?? Array(0..<set.count)).filter {
      $0 >= 0 && $0 < set.count && ($0 + 1) * stride <= set.inputs.count
    }
    guard !chosen.isEmpty, width > 0, set.length > 0 else { throw NormalizerError.emptyFit }
    var sum = [Double](repeating: 0, count: width)
    var sumSquares = [Double](repeating: 0, count: width)
    for i in chosen {
      var offset = i * stride
      for _ in 0..<set.length {
        for c in 0..<width {
          let value = Double(set.inputs[offset + c])
          sum[c] += value
          sumSquares[c] += value * value
        }
        offset += width
      }
    }
    let n = Double(chosen.count * set.length)
    var mean = [Float](repeating: 0, count: width)
    var std = [Float](repeating: 0, count: width)
    for c in 0..<width {
      let m = sum[c] / n
      let variance = max(0, sumSquares[c] / n - m * m)
      mean[c] = Float(m)
      std[c] = max(Float(variance.squareRoot()), stdFloor)
    }
    self.init(channels: set.inputChannels, mean: mean, std: std, stdFloor: stdFloor)
  }

  /// Fits on the sequences of the given subjects, e.g. `fold.trainingSubjects`.
  public init(
    fitting set: SequenceSet, subjects: Set<String>, stdFloor: Float = defaultStdFloor
  ) throws {
    try self.init(fitting: set, indices: set.indices(ofSubjects: subjects), stdFloor: stdFloor)
  }

  /// `set` with its inputs z-scored; targets untouched (they stay in body weights).
  public func apply(to set: SequenceSet) throws -> SequenceSet {
    guard set.inputChannels == channels else {
      throw NormalizerError.channelMismatch(expected: channels, found: set.inputChannels)
    }
    var copy = set
    try normalize(&copy.inputs)
    return copy
  }

  /// Z-scores flat rows of `channels.count` values in place.
  public func normalize(_ values: inout [Float]) throws {
    try validate()
    let width = channels.count
    guard width > 0 else { return }
    let scale = std.map { 1 / max($0, stdFloor) }
    var c = 0
    for i in values.indices {
      values[i] = (values[i] - mean[c]) * scale[c]
      c += 1
      if c == width { c = 0 }
    }
  }

  /// Undoes `normalize`, e.g. to plot inputs in their units.
  public func denormalize(_ values: inout [Float]) throws {
    try validate()
    let width = channels.count
    guard width > 0 else { return }
    var c = 0
    for i in values.indices {
      values[i] = values[i] * max(std[c], stdFloor) + mean[c]
      c += 1
      if c == width { c = 0 }
    }
  }

  private func validate() throws {
    guard mean.count == channels.count, std.count == channels.count else {
      throw NormalizerError.inconsistent(
        "\(channels.count) channels, \(mean.count) means, \(std.count) standard deviations")
    }
  }

  /// Compact JSON with sorted keys, for a checkpoint's metadata.
  public func jsonString() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(self), as: UTF8.self)
  }

  public init(jsonString: String) throws {
    let decoded = try JSONDecoder().decode(Normalizer.self, from: Data(jsonString.utf8))
    try decoded.validate()
    self = decoded
  }
}
