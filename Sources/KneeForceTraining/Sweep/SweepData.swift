import Foundation
import KneeForceData

/// The sequences of one sweep: every channel of the sweep's input groups, raw (not z-scored),
/// cut once. Units select their subjects, activities and channels from it by index, so the
/// device receives the data once per sweep.
public struct SweepData: Sendable {
  public let sequences: SequenceSet
  /// Every subject with at least one sequence, sorted.
  public let subjects: [String]
  /// Activities with at least one sequence, sorted.
  public let activities: [String]

  public init(dataset: Dataset, options: SweepOptions) throws {
    let all = try FeaturePipeline(options: options.features).sequences(from: dataset)
    guard all.count > 0 else {
      throw ExperimentError(
        "no sequences in \(dataset.folder.isEmpty ? "the dataset" : dataset.folder) after "
          + "feature extraction (check --activities and the segmentation)")
    }
    self.init(sequences: all)
  }

  /// Sequences already cut (tests, or another selection of the same store).
  public init(sequences: SequenceSet) {
    self.sequences = sequences
    subjects = Array(Set(sequences.subjects)).sorted()
    activities = Array(Set(sequences.activities)).sorted()
  }

  /// The same sequences with every input channel z-scored per subject, with the mean and std
  /// of that subject's own sequences in the sweep (every activity; std floored as
  /// `Normalizer` does). A new patient's recording gives these statistics too, so a model
  /// may use them; they remove each subject's offsets and gains (sensor placement, EMG
  /// amplitude, body size in the kinematics) that training subjects cannot tell it about.
  /// Targets are untouched. One pass for the statistics and one to apply them.
  public func subjectNormalized() throws -> SweepData {
    var set = sequences
    let stride = set.length * set.inputWidth
    var bySubject: [String: [Int]] = [:]
    for (i, subject) in set.subjects.enumerated() { bySubject[subject, default: []].append(i) }
    for subject in subjects {
      let indices = bySubject[subject] ?? []
      let normalizer = try Normalizer(fitting: sequences, indices: indices)
      for i in indices {
        var rows = Array(set.inputs[(i * stride)..<((i + 1) * stride)])
        try normalizer.normalize(&rows)
        set.inputs.replaceSubrange((i * stride)..<((i + 1) * stride), with: rows)
      }
    }
    return SweepData(sequences: set)
  }

  /// Indices of the sequences of `subjects`, restricted to `activity` unless it is `all`.
  public func indices(subjects: Set<String>, activity: String = "all") -> [Int] {
    sequences.subjects.indices.filter {
      subjects.contains(sequences.subjects[$0])
        && (activity == "all" || sequences.activities[$0] == activity)
    }
  }

  /// Positions in `sequences.inputChannels` of the channels of a feature set.
  public func channels(of featureSet: String, options: SweepOptions) -> [Int] {
    let groups = Set(options.groups(of: featureSet))
    return sequences.inputChannels.indices.filter {
      ChannelConventions.group(of: sequences.inputChannels[$0]).map(groups.contains) ?? false
    }
  }

  /// z-score statistics of `channels` over the sequences at `indices` (std floored as
  /// `Normalizer` does).
  public func normalizer(indices: [Int], channels: [Int]) throws -> Normalizer {
    let full = try Normalizer(fitting: sequences, indices: indices)
    return Normalizer(
      channels: channels.map { full.channels[$0] }, mean: channels.map { full.mean[$0] },
      std: channels.map { full.std[$0] }, stdFloor: full.stdFloor)
  }

  /// The sequences at `indices` with only `channels` as inputs, raw.
  public func subset(_ indices: [Int], channels: [Int]) -> SequenceSet {
    let picked = sequences.subset(indices)
    guard channels.count != sequences.inputWidth else { return picked }
    var out = SequenceSet(
      length: picked.length,
      inputChannels: channels.map {
        sequences.inputChannels[$0]
      })
    out.targets = picked.targets
    out.subjects = picked.subjects
    out.activities = picked.activities
    out.trialIDs = picked.trialIDs
    out.startTimes = picked.startTimes
    out.endTimes = picked.endTimes
    let width = sequences.inputWidth
    out.inputs.reserveCapacity(picked.count * picked.length * channels.count)
    for row in 0..<(picked.count * picked.length) {
      for c in channels { out.inputs.append(picked.inputs[row * width + c]) }
    }
    return out
  }
}
