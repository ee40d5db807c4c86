import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceModels

/// `kneeforce predict`: runs checkpoints on a dataset folder — a new patient's, which need not
/// have `kcf.*` columns — and maps the time-normalised predictions back onto each trial's own
/// samples.
///
/// Per checkpoint and member: the checkpoint's feature settings cut the trials into
/// sequences, its z-scores normalise them (or, for `input_normalization = subject`, each
/// subject's own statistics over the trials given), a residual member's base curve is added
/// to its output, and each sequence's prediction is placed on the
/// trial samples between its first and last time stamp by linear interpolation over the
/// steps; where sequences overlap (windows) the member's values are averaged; samples outside
/// every sequence stay empty. Across all members of all checkpoints: mean, and standard
/// deviation (denominator n-1) where more than one covers the sample.
public enum Predictor {
  public struct Checkpointed {
    public let url: URL
    public let loaded: Checkpoint.Loaded
    public let features: FeatureOptions
    public let normalizer: Normalizer
  }

  /// Per trial: sample times, body weight, and per member per sample the prediction in BW
  /// (`nil` outside every sequence).
  public struct TrialPrediction {
    public var trial: TrialInfo
    public var time: [Double]
    /// `[member][sample]` of 3 targets, or nil.
    public var members: [[[Float]?]]
  }

  public static func load(_ url: URL, backend: ComputeBackend) throws -> Checkpointed {
    let loaded = try Checkpoint.load(from: url, backend: backend)
    let info = loaded.info
    guard let channels = info.inputChannels, let z = info.normalizer, let features = info.features
    else {
      throw ExperimentError(
        "\(url.path): the checkpoint lacks input_channels, normalizer or features; only "
          + "checkpoints written by `kneeforce sweep` or `train` can predict from a dataset")
    }
    guard z.channels == channels, channels.count == loaded.model.config.inputs else {
      throw ExperimentError("\(url.path): input_channels and normalizer disagree")
    }
    return Checkpointed(
      url: url, loaded: loaded, features: try features.decode(FeatureOptions.self),
      normalizer: Normalizer(channels: z.channels, mean: z.mean, std: z.std, stdFloor: z.stdFloor))
  }

  /// A dataset folder read like `Dataset.load`, except that trials without the `kcf.*`
  /// targets are accepted (their targets read as NaN).
  public static func loadData(_ folder: String) throws -> Dataset {
    let manifestPath = (folder as NSString).appendingPathComponent("manifest.csv")
    guard let manifestData = FileManager.default.contents(atPath: manifestPath) else {
      throw ExperimentError("no manifest.csv in the dataset folder '\(folder)'")
    }
    var diagnostics: [Diagnostic] = []
    let (parsed, manifestDiagnostics) = Manifest.parse([UInt8](manifestData), file: manifestPath)
    diagnostics += manifestDiagnostics
    var trials: [Trial] = []
    for info in parsed?.trials ?? [] {
      let path = (folder as NSString).appendingPathComponent(info.file)
      guard let bytes = FileManager.default.contents(atPath: path) else {
        diagnostics.append(.error(manifestPath, info.line, 1, "file '\(info.file)' does not exist"))
        continue
      }
      let (trial, found) = TrialReader.parse([UInt8](bytes), file: path, info: info)
      let relevant = found.filter { !$0.message.hasPrefix("missing target channel") }
      diagnostics += relevant
      guard var trial, !relevant.hasErrors else { continue }
      for target in ChannelConventions.targetChannels where trial.index(of: target) == nil {
        trial.channels.append(target)
        trial.values.append([Double](repeating: .nan, count: trial.sampleCount))
      }
      trials.append(trial)
    }
    var events: [String: [GaitEvent]] = [:]
    let eventsPath = (folder as NSString).appendingPathComponent("events.csv")
    if let bytes = FileManager.default.contents(atPath: eventsPath) {
      let (parsedEvents, found) = GaitEventsReader.parse(
        [UInt8](bytes), file: eventsPath, knownTrials: parsed?.namedTrialIDs)
      diagnostics += found
      events = parsedEvents
    }
    if diagnostics.hasErrors || parsed == nil { throw DatasetError(diagnostics: diagnostics) }
    return Dataset(
      folder: folder, extraColumns: parsed?.extraColumns ?? [], trials: trials, events: events,
      warnings: diagnostics.warnings)
  }

  /// Refuses a checkpoint whose input channels the data lack, naming them.
  public static func checkChannels(_ checkpoint: Checkpointed, dataset: Dataset) throws {
    let have = Set(dataset.channels)
    let missing = checkpoint.normalizer.channels.filter { !have.contains($0) }
    guard missing.isEmpty else {
      throw ExperimentError(
        "\(checkpoint.url.path) needs input channels the data lack: "
          + missing.joined(separator: ", "))
    }
  }

  /// Every member's predictions of every trial, on the trials' samples.
  public static func predict(
    _ checkpoints: [Checkpointed], dataset: Dataset, backend: ComputeBackend
  ) throws -> [TrialPrediction] {
    var byTrial: [String: TrialPrediction] = [:]
    for trial in dataset.trials {
      byTrial[trial.info.trialID] = TrialPrediction(
        trial: trial.info, time: trial.time, members: [])
    }
    for ck in checkpoints {
      let (set, output) = try memberOutputs(ck, dataset: dataset, backend: backend)
      let (steps, outputs) = (set.length, ck.loaded.model.config.outputs)
      let members = output.count
      for m in 0..<members {
        var sums: [String: [Double]] = [:]
        var counts: [String: [Int]] = [:]
        for s in 0..<set.count {
          let id = set.trialIDs[s]
          guard let trial = byTrial[id] else { continue }
          var sum = sums[id] ?? [Double](repeating: 0, count: trial.time.count * 3)
          var count = counts[id] ?? [Int](repeating: 0, count: trial.time.count)
          let (t0, t1) = (set.startTimes[s], set.endTimes[s])
          for (i, t) in trial.time.enumerated() where t >= t0 && t <= t1 {
            let position = t1 > t0 ? (t - t0) / (t1 - t0) * Double(steps - 1) : 0
            let lower = min(Int(position), steps - 1)
            let upper = min(lower + 1, steps - 1)
            let f = position - Double(lower)
            for c in 0..<3 {
              let a = Double(output[m][(s * steps + lower) * outputs + c])
              let b = Double(output[m][(s * steps + upper) * outputs + c])
              sum[i * 3 + c] += a + (b - a) * f
            }
            count[i] += 1
          }
          sums[id] = sum
          counts[id] = count
        }
        for id in byTrial.keys {
          let trial = byTrial[id]!
          var values = [[Float]?](repeating: nil, count: trial.time.count)
          if let sum = sums[id], let count = counts[id] {
            for i in values.indices where count[i] > 0 {
              values[i] = (0..<3).map { Float(sum[i * 3 + $0] / Double(count[i])) }
            }
          }
          byTrial[id]!.members.append(values)
        }
      }
    }
    return dataset.trials.compactMap { byTrial[$0.info.trialID] }
  }

  /// Each member's time-normalised predictions `[sequence][T][3]` (BW) of the dataset's
  /// sequences as the checkpoint cuts them, and those sequences (inputs normalised).
  public static func memberOutputs(
    _ ck: Checkpointed, dataset: Dataset, backend: ComputeBackend
  ) throws -> (set: SequenceSet, outputs: [[Float]]) {
    try checkChannels(ck, dataset: dataset)
    let info = ck.loaded.info
    let model = ck.loaded.model
    let members = model.parameters.layout.models
    let baseCurves = try (info.baseCurves ?? []).map { try $0.decode(AlignedCurve.self) }
    guard baseCurves.isEmpty || baseCurves.count == members else {
      throw ExperimentError(
        "\(ck.url.path): \(baseCurves.count) base curves for \(members) members")
    }
    var features = ck.features
    var groups = Set(ck.normalizer.channels.compactMap(ChannelConventions.group))
    // A base curve finds its events in the vertical GRF, an input or not.
    if !baseCurves.isEmpty { groups.insert("grf") }
    features.groups = Array(groups)
    let cut = try FeaturePipeline(options: features).sequences(from: dataset)
    let ordered = reorder(cut, to: ck.normalizer.channels)
    let set =
      info.inputNormalization == "subject"
      ? try SweepData(sequences: ordered).subjectNormalized().sequences
      : try ck.normalizer.apply(to: ordered)
    let (steps, width, outputs) = (set.length, set.inputWidth, model.config.outputs)
    var output = [[Float]](repeating: [], count: members)
    for start in stride(from: 0, to: set.count, by: 64) {
      let n = min(64, set.count - start)
      let slice = Array(set.inputs[(start * steps * width)..<((start + n) * steps * width)])
      var x: [Float] = []
      for _ in 0..<members { x += slice }
      let buffer = try backend.makeBuffer(x)
      let y = try model.infer(BufferSlice(buffer), batch: n, steps: steps)
      let values = try backend.download(y, count: members * n * steps * outputs)
      let block = n * steps * outputs
      for m in 0..<members { output[m] += values[(m * block)..<((m + 1) * block)] }
    }
    // Residual networks: the member's base curve, from the sequences' own events.
    for (m, curve) in baseCurves.enumerated() {
      let base = curve.predict(cut, Array(0..<cut.count))
      for k in output[m].indices { output[m][k] += base[k] }
    }
    return (set, output)
  }

  /// The inputs of `set` in the order of `channels` (names).
  static func reorder(_ set: SequenceSet, to channels: [String]) -> SequenceSet {
    guard set.inputChannels != channels else { return set }
    let positions = channels.map { set.inputChannels.firstIndex(of: $0)! }
    var out = set
    out.inputChannels = channels
    out.inputs = []
    out.inputs.reserveCapacity(set.count * set.length * channels.count)
    for row in 0..<(set.count * set.length) {
      for p in positions { out.inputs.append(set.inputs[row * set.inputWidth + p]) }
    }
    return out
  }

  /// `time_s,predicted.medial_n,...,predicted.total_bw` (+ `sd.*` with several members):
  /// newtons from the manifest's body weight; empty fields outside every sequence.
  public static func csv(_ p: TrialPrediction) -> String {
    let names = ["medial", "lateral", "total"]
    let withSD = p.members.count > 1
    var header = ["time_s"]
    header += names.map { "predicted.\($0)_n" } + names.map { "predicted.\($0)_bw" }
    if withSD { header += names.map { "sd.\($0)_n" } + names.map { "sd.\($0)_bw" } }
    var out = header.joined(separator: ",") + "\n"
    let weight = p.trial.bodyWeightN
    for (i, t) in p.time.enumerated() {
      let covering = p.members.compactMap { $0[i] }
      var fields = [formatNumber(t)]
      if covering.isEmpty {
        fields += [String](repeating: "", count: header.count - 1)
      } else {
        var mean = [Double](repeating: 0, count: 3)
        var sd = [Double](repeating: 0, count: 3)
        for c in 0..<3 {
          let v = covering.map { Double($0[c]) }
          mean[c] = v.reduce(0, +) / Double(v.count)
          if v.count > 1 {
            sd[c] = (v.map { ($0 - mean[c]) * ($0 - mean[c]) }.reduce(0, +) / Double(v.count - 1))
              .squareRoot()
          }
        }
        fields +=
          mean.map { formatNumber(Float($0 * weight)) } + mean.map { formatNumber(Float($0)) }
        if withSD {
          let known = covering.count > 1
          fields += sd.map { known ? formatNumber(Float($0 * weight)) : "" }
          fields += sd.map { known ? formatNumber(Float($0)) : "" }
        }
      }
      out += fields.joined(separator: ",") + "\n"
    }
    return out
  }
}
