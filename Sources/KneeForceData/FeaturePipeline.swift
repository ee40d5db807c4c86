/// Turns a `Dataset` into `SequenceSet`s for training and evaluation.
///
/// Per trial, in this order:
/// 1. optional zero-phase low-pass (`FeatureOptions.lowPassHz`) of the inputs (and of the
///    targets when `filterTargets`), before anything is cut, so filter edges fall on trial
///    ends rather than on every cycle;
/// 2. force channels divided by the manifest body weight (see
///    `ChannelConventions.isBodyWeightScaled`: `grf` forces and all `kcf` targets; centre of
///    pressure in m and moments in N·m are left alone);
/// 3. segmentation (`Segmentation`): whole trial or gait cycle resampled to a fixed length by
///    linear interpolation, or sliding windows in samples;
/// 4. conversion to `Float`, row-major `[sequence, step, channel]`.
///
/// z-scoring is not done here: fit a `Normalizer` on the training subjects of a fold and apply
/// it to both sets, so that no statistic leaks from the held-out subject.
///
/// ```swift
/// let dataset = try Dataset.load("data/cams")
/// let pipeline = FeaturePipeline(options: FeatureOptions(groups: ["kin", "grf"]))
/// let all = try pipeline.sequences(from: dataset)
/// for fold in LOSOFolds.folds(subjects: dataset.subjects) {
///   let train = all.subset(subjects: Set(fold.trainingSubjects))
///   let test = all.subset(subjects: [fold.heldOutSubject])
///   let normalizer = try Normalizer(fitting: train)
///   let x = try normalizer.apply(to: train) // ... train, then evaluate on normalizer.apply(to: test)
/// }
/// ```
public struct FeaturePipeline: Sendable {
  public var options: FeatureOptions

  public enum PipelineError: Error, Equatable, CustomStringConvertible {
    case noInputChannels(groups: [String], available: [String])
    case missingTargets(trialID: String, missing: [String])
    case invalidLength(Int)
    case invalidStride(Int)
    case filter(trialID: String, Butterworth.DesignError)
    case inconsistentTrial(trialID: String)

    public var description: String {
      switch self {
      case let .noInputChannels(groups, available):
        return "no input channel belongs to the groups \(groups.joined(separator: ", ")); "
          + "the dataset has \(available.joined(separator: ", "))"
      case let .missingTargets(trialID, missing):
        return "trial \(trialID) lacks the targets \(missing.joined(separator: ", "))"
      case let .invalidLength(length):
        return "sequence length must be at least 2, got \(length)"
      case let .invalidStride(stride):
        return "window stride must be at least 1, got \(stride)"
      case let .filter(trialID, error):
        return "trial \(trialID): \(error)"
      case let .inconsistentTrial(trialID):
        return "trial \(trialID) has channels whose sample count differs from its time axis"
      }
    }
  }

  public init(options: FeatureOptions = FeatureOptions()) {
    self.options = options
  }

  /// The input channels `options.groups` selects from `channels`, in their order. Targets
  /// (`kcf.*`) are never inputs, even if `kcf` is named as a group.
  public func inputChannels(from channels: [String]) -> [String] {
    let groups = Set(options.groups)
    return channels.filter { channel in
      guard let group = ChannelConventions.group(of: channel), group != "kcf" else {
        return false
      }
      return groups.contains(group)
    }
  }

  /// All sequences of the dataset's trials (filtered by `options.activities`), trials in
  /// dataset order, segments in time order.
  public func sequences(from dataset: Dataset) throws -> SequenceSet {
    try sequences(from: dataset.trials, events: dataset.events)
  }

  /// Sequences of the given trials; `events` by trial id (only foot strikes are used).
  public func sequences(from trials: [Trial], events: [String: [GaitEvent]] = [:]) throws
    -> SequenceSet
  {
    let length = options.segmentation.length
    guard length >= 2 else { throw PipelineError.invalidLength(length) }
    if case let .windows(_, stride) = options.segmentation, stride < 1 {
      throw PipelineError.invalidStride(stride)
    }
    let channels = trials.first?.channels ?? []
    let inputs = inputChannels(from: channels)
    guard !inputs.isEmpty || trials.isEmpty else {
      throw PipelineError.noInputChannels(groups: options.groups, available: channels)
    }
    var set = SequenceSet(length: length, inputChannels: inputs)
    let activities = options.activities.map(Set.init)
    for trial in trials {
      if let activities, !activities.contains(trial.info.activity) { continue }
      let (inputColumns, targetColumns) = try prepared(trial, inputs: inputs)
      let strikes = (events[trial.info.trialID] ?? [])
        .filter { $0.event == GaitEvent.footStrike }.map(\.time)
      cut(
        trial, inputColumns: inputColumns, targetColumns: targetColumns, footStrikes: strikes,
        into: &set)
    }
    return set
  }

  /// Steps 1 and 2: filtered, body-weight-scaled input and target columns at trial samples.
  func prepared(_ trial: Trial, inputs: [String]) throws -> ([[Double]], [[Double]]) {
    let missing = ChannelConventions.targetChannels.filter { trial.index(of: $0) == nil }
    guard missing.isEmpty else {
      throw PipelineError.missingTargets(trialID: trial.info.trialID, missing: missing)
    }
    guard trial.values.allSatisfy({ $0.count == trial.sampleCount }) else {
      throw PipelineError.inconsistentTrial(trialID: trial.info.trialID)
    }
    var filter: Butterworth?
    if let cutoff = options.lowPassHz {
      do {
        filter = try Butterworth(cutoffHz: cutoff, sampleRateHz: trial.sampleRate)
      } catch let error as Butterworth.DesignError {
        throw PipelineError.filter(trialID: trial.info.trialID, error)
      }
    }
    let weight = trial.info.bodyWeightN
    func column(_ name: String, filtered: Bool) -> [Double] {
      var values = trial.column(name) ?? [Double](repeating: .nan, count: trial.sampleCount)
      if filtered, let filter { values = filter.filtfilt(values) }
      if ChannelConventions.isBodyWeightScaled(name), weight > 0 {
        values = values.map { $0 / weight }
      }
      return values
    }
    return (
      inputs.map { column($0, filtered: true) },
      ChannelConventions.targetChannels.map { column($0, filtered: options.filterTargets) }
    )
  }

  /// Step 3: cuts prepared columns into sequences.
  private func cut(
    _ trial: Trial, inputColumns: [[Double]], targetColumns: [[Double]], footStrikes: [Double],
    into set: inout SequenceSet
  ) {
    let time = trial.time
    guard let first = time.first, let last = time.last, time.count >= 2 else { return }
    func resampled(_ start: Double, _ end: Double, _ count: Int) {
      let inputs = inputColumns.map {
        Resampling.linear(time: time, values: $0, from: start, to: end, count: count)
      }
      let targets = targetColumns.map {
        Resampling.linear(time: time, values: $0, from: start, to: end, count: count)
      }
      set.append(inputs: inputs, targets: targets, trial: trial.info, start: start, end: end)
    }
    switch options.segmentation {
    case let .trial(length):
      resampled(first, last, length)
    case let .cycle(length):
      let strikes = footStrikes.filter { $0 >= first && $0 <= last }.sorted()
      guard strikes.count >= 2 else {
        resampled(first, last, length)
        return
      }
      for k in 0..<(strikes.count - 1) where strikes[k + 1] > strikes[k] {
        resampled(strikes[k], strikes[k + 1], length)
      }
    case let .windows(length, stride):
      var start = 0
      while start + length <= time.count {
        let range = start..<(start + length)
        set.append(
          inputs: inputColumns.map { Array($0[range]) },
          targets: targetColumns.map { Array($0[range]) }, trial: trial.info,
          start: time[start], end: time[start + length - 1])
        start += stride
      }
    }
  }
}
