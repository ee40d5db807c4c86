import ArgumentParser
import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceModels
import KneeForceReport
import KneeForceTraining

extension ModelConfig.Kind: ExpressibleByArgument {}
extension ValidationScheme: ExpressibleByArgument {}
extension Optimizer: ExpressibleByArgument {}
extension InputNormalization: ExpressibleByArgument {}
extension ResidualBase: ExpressibleByArgument {}
extension Recipe: ExpressibleByArgument {}

extension AlignedEvents: ExpressibleByArgument {
  public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

/// `--shard I/N`.
struct ShardSpec: ExpressibleByArgument, CustomStringConvertible {
  var index: Int
  var count: Int

  init(index: Int, count: Int) {
    self.index = index
    self.count = count
  }

  init?(argument: String) {
    let parts = argument.split(separator: "/")
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { return nil }
    self.init(index: i, count: n)
  }

  var description: String { "\(index)/\(count)" }
}

/// The model, input and training options that `sweep`, `train` and `demo` share. Defaults
/// are the README's ("Sweeps"); every range is checked in `validate()`.
struct TrainingArguments: ParsableArguments {
  @Option(
    help: """
      Starting settings: small_cohort (generalises to unseen subjects of small cohorts: \
      docs/RECIPE.md) or plain (whole trials, every input, training z-scores, default sizes, \
      Adam, no augmentation). Options given here override the recipe; defaults below are \
      small_cohort's, then plain's.
      """)
  var recipe: Recipe = .smallCohort

  @Option(help: "Networks to train, comma-separated: bilstm_mlp, tcn.")
  var models: CommaList<ModelConfig.Kind> = CommaList(ModelConfig.Kind.allCases)

  @Option(help: "Input groups, comma-separated: kin, grf, emg (the `all` feature set).")
  var inputs: CommaList<String> = CommaList(ChannelConventions.inputGroups)

  @Flag(help: "Leave one feature group out: also train without each input group (no_kin, ...).")
  var lofo = false

  @Option(
    help: """
      Feature sets, comma-separated: all, no_<group>, or groups joined by + (default \
      grf,grf+kin,all; plain: all, and the --lofo sets).
      """)
  var featureSets: CommaList<String>?

  @Flag(
    inversion: .prefixedNo,
    help: """
      With several feature sets, also score per fold the set with the lowest inner-validation \
      loss (the `selected` rows, selection.csv).
      """)
  var selectInputs = true

  @Option(
    help: """
      Validation of each member: next (the training subject after the held-out one; not \
      trained on) or inner (inner leave-one-subject-out: one member group per training \
      subject, the unit's prediction their mean). Default inner; plain: next.
      """)
  var validation: ValidationScheme?

  @Option(help: "all, or activities to use, comma-separated (e.g. walking,squat).")
  var activities: CommaList<String> = CommaList(["all"])

  @Flag(help: "One model per activity instead of one per fold on every activity.")
  var perActivity = false

  @Option(help: "auto | cpu | opencl[:INDEX] (see `kneeforce devices`).")
  var device: DeviceSelection = .auto

  @Option(help: "Maximum training epochs per model (1-100000).")
  var epochs = 60

  @Option(
    help: """
      Epochs without a better validation loss before a model stops (0-100000); 0 withholds \
      no validation subject and keeps the last epoch.
      """)
  var patience = 10

  @Option(help: "Mini-batch size in sequences (1-4096).")
  var batch = 32

  @Option(help: "Adam learning rate (1e-7-10).")
  var lr: Float = 3e-3

  @Option(help: "Weight decay (0-10): L2 with adam, decoupled with adamw (default 0.1; plain 0).")
  var weightDecay: Float?

  @Option(help: "adam or adamw (decoupled weight decay; default adamw; plain adam).")
  var optimizer: Optimizer?

  @Option(
    help: """
      Input z-scores: training (the training subjects' mean and SD) or subject (each \
      subject's own, which a new patient also has). Default subject; plain: training.
      """)
  var normalization: InputNormalization?

  @Option(
    help: """
      Networks learn the residual from this curve (last layer starts at zero): none, \
      mean_curve or aligned_curve (the mean curve warped to each sequence's own events). \
      Default aligned_curve; plain: none.
      """)
  var residual: ResidualBase?

  @Option(help: "Augmentation: SD of per-sample input noise, z units (0-10; default 0.1; plain 0).")
  var noise: Float?

  @Option(
    help: "Augmentation: SD of a per-sequence, per-channel offset, z units (0-10; 0.2; plain 0).")
  var channelOffset: Float?

  @Option(help: "Augmentation: SD of a per-sequence, per-channel log gain (0-10; 0.1; plain 0).")
  var channelGain: Float?

  @Option(
    help: """
      Augmentation: largest smooth time warp of a training sequence (0-0.9; 0.1 moves \
      mid-sequence by about 3 % of its length; default 0.1; plain 0).
      """)
  var timeWarp: Float?

  @Option(help: "Members per fold, seeds X..X+S-1, whose mean prediction is scored (1-100).")
  var seeds = 1

  @Option(help: "First seed X (0-2^63).")
  var seed: UInt64 = 0

  @Option(help: "biLSTM hidden size per direction (1-4096; default 32; plain 64).")
  var hidden: Int?

  @Option(help: "biLSTM layers (1-16; default 1; plain 2).")
  var layers: Int?

  @Option(
    help: "biLSTM-MLP head widths, two, comma-separated (1-8192 each; default 32,16; plain 128,64)."
  )
  var mlp: CommaList<Int>?

  @Option(help: "TCN channels (1-4096; default 32; plain 64).")
  var channels: Int?

  @Option(help: "TCN levels (1-24; default 4).")
  var levels: Int?

  @Option(help: "TCN kernel size (1-64; default 3).")
  var kernelSize: Int?

  @Option(help: "Dropout in training (0-0.95; default 0.1).")
  var dropout: Double?

  @Option(help: "Time-normalised length of every sequence in samples (2-10000).")
  var length = 101

  @Option(
    help: """
      Gait events the aligned_curve baseline warps the mean curve to, found in each \
      sequence's own vertical GRF (threshold 0.03 BW): toe_off, heel_strike, \
      toe_off,heel_strike, or none (the plain mean curve).
      """)
  var alignedEvents = AlignedEvents.default

  @Option(
    help: """
      trial: each whole trial resampled to --length; cycle: each gait cycle (foot strike to \
      foot strike, from events.csv) resampled to --length, whole trials for activities \
      without foot strikes. Default cycle; plain: trial.
      """)
  var segmentation: SegmentationKind?

  func validate() throws {
    try checkRange(epochs, 1...100_000, "--epochs")
    try checkRange(patience, 0...100_000, "--patience")
    try checkRange(batch, 1...4096, "--batch")
    try checkRange(lr, 1e-7...10, "--lr")
    if let weightDecay { try checkRange(weightDecay, 0...10, "--weight-decay") }
    if let noise { try checkRange(noise, 0...10, "--noise") }
    if let channelOffset { try checkRange(channelOffset, 0...10, "--channel-offset") }
    if let channelGain { try checkRange(channelGain, 0...10, "--channel-gain") }
    if let timeWarp { try checkRange(timeWarp, 0...0.9, "--time-warp") }
    try checkRange(seeds, 1...100, "--seeds")
    try checkRange(seed, 0...(UInt64(1) << 63), "--seed")
    try checkRange(length, 2...10_000, "--length")
    if let hidden { try checkRange(hidden, ModelConfig.Limits.hidden, "--hidden") }
    if let layers { try checkRange(layers, ModelConfig.Limits.layers, "--layers") }
    if let channels { try checkRange(channels, ModelConfig.Limits.channels, "--channels") }
    if let levels { try checkRange(levels, ModelConfig.Limits.levels, "--levels") }
    if let kernelSize { try checkRange(kernelSize, ModelConfig.Limits.kernelSize, "--kernel-size") }
    if let dropout { try checkRange(dropout, 0...0.95, "--dropout") }
    if let mlp {
      guard mlp.values.count == 2 else {
        throw ValidationError("--mlp takes two widths, e.g. 128,64; got \(mlp.values.count)")
      }
      for w in mlp.values { try checkRange(w, ModelConfig.Limits.mlpWidth, "--mlp") }
    }
    let groups = inputs.values
    for g in groups where !ChannelConventions.inputGroups.contains(g) {
      throw ValidationError("--inputs: unknown group '\(g)' (kin, grf, emg)")
    }
    guard Set(groups).count == groups.count else {
      throw ValidationError("--inputs names a group twice")
    }
    if lofo && groups.count < 2 {
      throw ValidationError("--lofo needs at least two input groups")
    }
    if let featureSets {
      if lofo { throw ValidationError("--lofo and --feature-sets exclude each other") }
      guard Set(featureSets.values).count == featureSets.values.count else {
        throw ValidationError("--feature-sets names a set twice")
      }
      for name in featureSets.values {
        if let problem = options.problem(featureSet: name) {
          throw ValidationError("--feature-sets: \(problem)")
        }
      }
    }
    if activities.values.contains("all") && activities.values.count > 1 {
      throw ValidationError("--activities: 'all' cannot be combined with named activities")
    }
    guard Set(models.values).count == models.values.count else {
      throw ValidationError("--models names a model twice")
    }
  }

  var options: SweepOptions {
    var o = recipe.options
    o.models = models.values
    o.inputs = inputs.values
    o.lofo = lofo
    if lofo { o.featureSetList = nil }
    if let featureSets { o.featureSetList = featureSets.values }
    // A recipe's feature sets name groups: keep those that --inputs still has.
    if let list = o.featureSetList, featureSets == nil {
      let usable = list.filter { o.problem(featureSet: $0) == nil }
      o.featureSetList = usable.isEmpty ? nil : usable
    }
    o.selectInputs = selectInputs
    if let validation { o.validation = validation }
    o.activities = activities.values == ["all"] ? nil : activities.values
    o.perActivity = perActivity
    o.epochs = epochs
    o.patience = patience
    o.batchSize = batch
    o.learningRate = lr
    if let weightDecay { o.weightDecay = weightDecay }
    if let optimizer { o.optimizer = optimizer }
    if let normalization { o.normalization = normalization }
    if let residual { o.residual = residual }
    if let noise { o.augmentation.noise = noise }
    if let channelOffset { o.augmentation.offset = channelOffset }
    if let channelGain { o.augmentation.gain = channelGain }
    if let timeWarp { o.augmentation.timeWarp = timeWarp }
    o.seeds = seeds
    o.seed = seed
    if let hidden { o.hidden = hidden }
    if let layers { o.layers = layers }
    if let mlp { o.mlp = mlp.values }
    if let channels { o.channels = channels }
    if let levels { o.levels = levels }
    if let kernelSize { o.kernelSize = kernelSize }
    if let dropout { o.dropout = dropout }
    switch segmentation ?? (o.segmentation == .cycle(length: 101) ? .cycle : .trial) {
    case .trial: o.segmentation = .trial(length: length)
    case .cycle: o.segmentation = .cycle(length: length)
    }
    o.alignedEvents = alignedEvents
    return o
  }
}

/// Prints a finished sweep's summary and turns failed units into exit status 1.
func report(_ outcome: SweepOutcome, folder: URL, started: Date) throws {
  print("")
  print(outcome.pooledSummary)
  writeHTMLReport(folder)
  print(
    "Outputs in \(folder.path): results.csv, summary.md, sweep.json, units/ (docs/SWEEP_OUTPUTS.md)"
  )
  print("Total time: \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
  guard outcome.failed.isEmpty else {
    throw CommandFailure(
      "\(outcome.failed.count) unit\(outcome.failed.count == 1 ? "" : "s") failed (non-finite "
        + "loss): " + outcome.failed.map(\.folderName).joined(separator: ", ")
        + "; the other units' results are in \(folder.path)")
  }
}

/// Every sweep, train and merge ends with `report.html` and `figures/` built from the files in
/// the folder (the same as `kneeforce report OUT`). The results are already safe on disk, so
/// a report that cannot be built is a warning, not a failed sweep.
func writeHTMLReport(_ folder: URL) {
  do {
    let written = try SweepReport.write(folder: folder)
    print("Report: \(written.page.path) (\(LaneMemory.format(written.pageBytes)))")
  } catch {
    warn("the report could not be written (run `kneeforce report \(folder.path)`): \(error)")
  }
}

/// The `--segmentation` choices (sliding windows are not offered: sweeps compare
/// time-normalised sequences).
enum SegmentationKind: String, CaseIterable, ExpressibleByArgument {
  case trial
  case cycle
}
