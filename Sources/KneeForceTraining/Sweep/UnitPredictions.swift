import Foundation
import KneeForceData

/// A unit's time-normalised curves of the held-out subject: `units/<unit>/predictions.csv`
/// (docs/SWEEP_OUTPUTS.md). Numbers are written in their shortest round-tripping form, so
/// reading the file back gives the values that were scored, bit for bit.
public struct UnitPredictions: Sendable, Equatable {
  public struct Sequence: Sendable, Equatable {
    public var trialID: String
    public var subject: String
    public var activity: String
    /// Counts a trial's sequences from 0.
    public var index: Int
    /// `[step][target]`, BW.
    public var measured: [Float]
    public var predicted: [Float]
    public var sd: [Float]
  }

  public static let targets = ["medial", "lateral", "total"]
  public var length: Int
  public var sequences: [Sequence] = []

  public init(length: Int, sequences: [Sequence] = []) {
    self.length = length
    self.sequences = sequences
  }

  /// Mean and standard deviation (denominator S-1, 0 for one member) over `members`, each
  /// `[n][T][3]` for the sequences at `indices` of `set`.
  public init(set: SequenceSet, indices: [Int], members: [[Float]]) {
    precondition(!members.isEmpty)
    length = set.length
    let width = set.targetWidth
    let stride = set.length * width
    var perTrial: [String: Int] = [:]
    for (n, i) in indices.enumerated() {
      var mean = [Float](repeating: 0, count: stride)
      var sd = [Float](repeating: 0, count: stride)
      for k in 0..<stride {
        var sum = 0.0
        for m in members { sum += Double(m[n * stride + k]) }
        let mu = sum / Double(members.count)
        var squares = 0.0
        for m in members {
          let d = Double(m[n * stride + k]) - mu
          squares += d * d
        }
        mean[k] = Float(mu)
        sd[k] = members.count > 1 ? Float((squares / Double(members.count - 1)).squareRoot()) : 0
      }
      let trial = set.trialIDs[i]
      let index = perTrial[trial, default: 0]
      perTrial[trial] = index + 1
      sequences.append(
        Sequence(
          trialID: trial, subject: set.subjects[i], activity: set.activities[i], index: index,
          measured: Array(set.targets[(i * stride)..<((i + 1) * stride)]), predicted: mean,
          sd: sd))
    }
  }

  static var header: String {
    "trial_id,subject,activity,sequence,step,"
      + ["measured", "predicted", "sd"].flatMap { kind in targets.map { "\(kind).\($0)" } }
      .joined(separator: ",")
  }

  public func csv() -> String {
    var out = UnitPredictions.header + "\n"
    for s in sequences {
      let prefix = "\(s.trialID),\(s.subject),\(s.activity),\(s.index),"
      for t in 0..<length {
        out += prefix + "\(t)"
        for values in [s.measured, s.predicted, s.sd] {
          for c in 0..<3 { out += "," + formatNumber(values[t * 3 + c]) }
        }
        out += "\n"
      }
    }
    return out
  }

  public init(csv text: String, file: String) throws {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
    guard let first = lines.first, first == UnitPredictions.header else {
      throw ExperimentError("\(file): not a predictions file (header differs)")
    }
    lines.removeFirst()
    var sequences: [Sequence] = []
    var length = 0
    for (number, line) in lines.enumerated() {
      let f = line.split(separator: ",", omittingEmptySubsequences: false)
      guard f.count == 14, let index = Int(f[3]), let step = Int(f[4]) else {
        throw ExperimentError("\(file):\(number + 2): malformed line")
      }
      var values = [Float](repeating: 0, count: 9)
      for k in 0..<9 {
        guard let v = Float(f[5 + k]) else {
          throw ExperimentError("\(file):\(number + 2): '\(f[5 + k])' is not a number")
        }
        values[k] = v
      }
      if step == 0 {
        sequences.append(
          Sequence(
            trialID: String(f[0]), subject: String(f[1]), activity: String(f[2]), index: index,
            measured: [], predicted: [], sd: []))
      }
      guard var last = sequences.popLast(), step == last.measured.count / 3 else {
        throw ExperimentError("\(file):\(number + 2): steps out of order")
      }
      last.measured += values[0..<3]
      last.predicted += values[3..<6]
      last.sd += values[6..<9]
      sequences.append(last)
      length = max(length, step + 1)
    }
    guard sequences.allSatisfy({ $0.measured.count == length * 3 }) else {
      throw ExperimentError("\(file): sequences of different lengths")
    }
    self.init(length: length, sequences: sequences)
  }
}

/// The shortest text that reads back as the same value (`nan` for NaN).
func formatNumber(_ value: Float) -> String { value.isNaN ? "nan" : value.description }
func formatNumber(_ value: Double) -> String { value.isNaN ? "nan" : value.description }
