/// Fixed-length sequences ready for a network: inputs `[count, length, inputWidth]` and
/// targets `[count, length, 3]`, both flat row-major `[Float]` (sequence, then time step,
/// then channel), which is the layout the training buffers upload without copying.
///
/// Forces are in body weights; angles in degrees; EMG as in the file. Targets are always
/// `kcf.medial, kcf.lateral, kcf.total` in that order.
public struct SequenceSet: Sendable, Equatable {
  public var inputs: [Float]
  public var targets: [Float]
  /// Time steps per sequence.
  public var length: Int
  /// Names of the input channels, the last axis of `inputs`.
  public var inputChannels: [String]
  public var targetChannels: [String] { ChannelConventions.targetChannels }
  /// Per sequence: where it came from.
  public var subjects: [String]
  public var activities: [String]
  public var trialIDs: [String]
  /// Per sequence: the trial time (s) of its first step, to place predictions back on the
  /// trial's time axis.
  public var startTimes: [Double]
  /// Per sequence: the trial time (s) of its last step.
  public var endTimes: [Double]

  public init(length: Int, inputChannels: [String]) {
    self.length = length
    self.inputChannels = inputChannels
    inputs = []
    targets = []
    subjects = []
    activities = []
    trialIDs = []
    startTimes = []
    endTimes = []
  }

  public var count: Int { subjects.count }
  public var inputWidth: Int { inputChannels.count }
  public var targetWidth: Int { ChannelConventions.targetChannels.count }

  /// Indices of the sequences of the given subjects, e.g. a fold's training subjects.
  public func indices(ofSubjects subjects: Set<String>) -> [Int] {
    self.subjects.indices.filter { subjects.contains(self.subjects[$0]) }
  }

  /// The sequences at `indices`, in that order; out-of-range indices are skipped.
  public func subset(_ indices: [Int]) -> SequenceSet {
    var out = SequenceSet(length: length, inputChannels: inputChannels)
    let inputStride = length * inputWidth
    let targetStride = length * targetWidth
    for i in indices where i >= 0 && i < count {
      guard (i + 1) * inputStride <= inputs.count, (i + 1) * targetStride <= targets.count
      else { continue }
      out.inputs += inputs[(i * inputStride)..<((i + 1) * inputStride)]
      out.targets += targets[(i * targetStride)..<((i + 1) * targetStride)]
      out.subjects.append(subjects[i])
      out.activities.append(activities[i])
      out.trialIDs.append(trialIDs[i])
      out.startTimes.append(startTimes[i])
      out.endTimes.append(endTimes[i])
    }
    return out
  }

  /// The sequences of the given subjects.
  public func subset(subjects: Set<String>) -> SequenceSet {
    subset(indices(ofSubjects: subjects))
  }

  /// Appends one sequence given as channel-major columns (`columns[c][t]`).
  mutating func append(
    inputs inputColumns: [[Double]], targets targetColumns: [[Double]], trial: TrialInfo,
    start: Double, end: Double
  ) {
    for t in 0..<length {
      for column in inputColumns { inputs.append(Float(column[t])) }
      for column in targetColumns { targets.append(Float(column[t])) }
    }
    subjects.append(trial.subject)
    activities.append(trial.activity)
    trialIDs.append(trial.trialID)
    startTimes.append(start)
    endTimes.append(end)
  }
}
