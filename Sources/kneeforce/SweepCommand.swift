import ArgumentParser
import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceTraining

struct SweepCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sweep",
    abstract: "Leave-one-subject-out sweep: every fold of every model, with baselines.",
    discussion: """
      A unit is (model, feature set, activity set, held-out subject); its members (inner \
      groups x --seeds) train together and are scored by their mean prediction. The default \
      --recipe small_cohort is described in docs/RECIPE.md. By default one model per fold \
      trains on every activity of the training subjects and is scored per activity and on \
      all activities pooled; --per-activity trains one per activity. --lofo adds the feature \
      sets no_kin, no_grf, no_emg; with several sets the fold's set of lowest inner-validation \
      loss is also scored as `selected`. Validation (early stopping, best epoch): inner \
      leave-one-subject-out (--validation inner) or the training subject after the held-out \
      one (next); --patience 0 uses none and keeps the last epoch. Baselines are scored per \
      fold beside the networks: mean_curve, aligned_curve (the mean curve warped to each \
      sequence's own toe-off, --aligned-events), ridge and ridge_subject (inputs z-scored per \
      subject). Units of one model and feature set train in lockstep, --fold-batch at a time \
      (default: as many as fit half the device's memory).

      Outputs (docs/SWEEP_OUTPUTS.md): results.csv, summary.md, sweep.json and units/<unit>/ \
      with checkpoint, history and predictions. Each unit is journalled as it finishes; \
      --resume continues a killed sweep and ends with the same results. --shard I/N runs a \
      deterministic share of the units; `kneeforce merge` joins the shards. Exit status 1 \
      when a unit failed (non-finite loss); the other units' results are kept.
      """)

  @Option(help: "Dataset folder (docs/DATASET_FORMAT.md).")
  var data: String

  @Option(help: "Output folder: created, or empty, or a sweep's folder with --resume or --force.")
  var out: String

  @OptionGroup var training: TrainingArguments

  @Option(help: "Units trained together in lockstep (1-4096; default: what fits the device).")
  var foldBatch: Int?

  @Option(help: "Run shard I of N (I = 1..N, N 1-10000): a deterministic share of the units.")
  var shard: ShardSpec = ShardSpec(index: 1, count: 1)

  @Flag(help: "Continue the sweep in OUT: skip its finished units (absent or empty OUT: start).")
  var resume = false

  @Option(help: "tune.json of `kneeforce tune` on the same data: each fold's chosen settings.")
  var tuned: String?

  @Flag(help: "Replace the contents of OUT if it holds an earlier kneeforce output.")
  var force = false

  func validate() throws {
    if let foldBatch { try checkRange(foldBatch, 1...4096, "--fold-batch") }
    try checkRange(shard.count, 1...10_000, "--shard N")
    try checkRange(shard.index, 1...shard.count, "--shard I")
    if resume && force { throw ValidationError("--resume and --force exclude each other") }
    try asUsageError {
      try OutputFolder.check(out, command: "sweep", mode: mode, allowsResume: true)
    }
  }

  var mode: OutputFolder.Mode { resume ? .resume : force ? .force : .fresh }

  func run() throws {
    let started = Date()
    let dataset = try Dataset.load(data)
    let backend = try makeBackend(training.device)
    let folder = try OutputFolder.prepare(out, command: "sweep", mode: mode).url
    var settings = SweepRunSettings()
    settings.foldBatch = foldBatch
    settings.shard = (shard.index, shard.count)
    settings.resume = resume
    var options = training.options
    if let tuned {
      let record = try Tune.Record.read(URL(fileURLWithPath: tuned))
      let fingerprint = DataFingerprint.of(dataset)
      guard record.dataFingerprint == fingerprint else {
        throw ExperimentError(
          "\(tuned) was tuned on other data (fingerprint \(record.dataFingerprint) of "
            + "\(record.dataset), here \(fingerprint)); run `kneeforce tune` on \(data)")
      }
      options.tuned = record.choices
    }
    let outcome = try Sweep.run(
      dataset: dataset, options: options, settings: settings, backend: backend, out: folder)
    try report(outcome, folder: folder, started: started)
  }
}

struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train one fold (--held-out S) or final models on every subject (--all-subjects).",
    discussion: """
      The sweep's code path on chosen folds: --held-out S trains the models of sweep's \
      options with S held out (scored beside the baselines, same outputs as a sweep); \
      --all-subjects trains final models on every subject for `kneeforce predict` (no \
      held-out subject, no scores). With --validation inner (the default) each subject is in \
      turn the inner validation subject of one member group, and the checkpoint holds every \
      member; with --validation next the validation subject is the one after S in sorted \
      order (with --all-subjects: the first subject, which is then not trained on). \
      --patience 0 validates on nobody and trains on every subject.
      """)

  @Option(help: "Dataset folder (docs/DATASET_FORMAT.md).")
  var data: String

  @Option(help: "Output folder: created, or empty, or an earlier output with --force.")
  var out: String

  @Option(help: "Subject to hold out (repeatable).")
  var heldOut: [String] = []

  @Flag(help: "Train on every subject (final models).")
  var allSubjects = false

  @OptionGroup var training: TrainingArguments

  @Flag(help: "Replace the contents of OUT if it holds an earlier kneeforce output.")
  var force = false

  @Flag(help: "Continue the training run in OUT.")
  var resume = false

  func validate() throws {
    guard allSubjects != !heldOut.isEmpty else {
      throw ValidationError("give either --held-out SUBJECT or --all-subjects")
    }
    if resume && force { throw ValidationError("--resume and --force exclude each other") }
    try asUsageError {
      try OutputFolder.check(
        out, command: "train", mode: resume ? .resume : force ? .force : .fresh,
        allowsResume: true)
    }
  }

  func run() throws {
    let started = Date()
    let dataset = try Dataset.load(data)
    let backend = try makeBackend(training.device)
    let folder = try OutputFolder.prepare(
      out, command: "train", mode: resume ? .resume : force ? .force : .fresh
    ).url
    var settings = SweepRunSettings()
    settings.command = "train"
    settings.resume = resume
    let outcome = try Sweep.run(
      dataset: dataset, options: training.options, settings: settings,
      heldOut: allSubjects ? [nil] : heldOut.map { $0 }, backend: backend, out: folder)
    try report(outcome, folder: folder, started: started)
  }
}
