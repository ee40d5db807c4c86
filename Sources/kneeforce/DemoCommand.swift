import ArgumentParser
import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceTraining

struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "The main job on built-in data: a full leave-one-subject-out sweep, both models.",
    discussion: """
      1. Writes the built-in SYNTHETIC cohort (`kneeforce synth`: 6 subjects, 6 activities, \
      --nuisance realistic unless told otherwise, as hard as real walking data; \
      not patient data) into OUT/data and checks it.
      2. Runs `kneeforce sweep` on it: every fold (each subject held out once) of the \
      biLSTM-MLP and the TCN, and the mean_curve, aligned_curve, ridge and ridge_subject \
      baselines, scored per activity and pooled; prints the summary table (mean ± SD over held-out subjects).

      Trains with the sweep's default recipe, small_cohort (docs/RECIPE.md): gait cycles, \
      inputs chosen per fold among grf, grf+kin and all, per-subject z-scores, small networks, \
      AdamW, augmentation, inner leave-one-subject-out early stopping and residual targets \
      from the aligned curve; --epochs 40 and patience 8 so that it finishes in minutes on \
      two CPU cores. Outputs in OUT as docs/SWEEP_OUTPUTS.md describes.
      """)

  @Option(
    help: """
      Output folder: created, or empty, or an earlier demo's folder with --force (default: a \
      new folder under the system's temporary folder). Marked with .kneeforce-out.json.
      """)
  var out: String?

  @Flag(help: "Replace the contents of OUT if it holds an earlier kneeforce output.")
  var force = false

  @Option(help: "auto | cpu | opencl[:INDEX] (see `kneeforce devices`).")
  var device: DeviceSelection = .auto

  @Option(help: "Maximum training epochs per model (1-100000).")
  var epochs = 40

  @Option(help: "Seed for the cohort and the training.")
  var seed: UInt64 = 0

  @Option(
    help: """
      realistic: as hard as a real cohort (subject-specific offsets, gains and hidden \
      mechanics, stride-to-stride variation; docs/SYNTHETIC_COHORT.md); none: a clean signal.
      """)
  var nuisance: SyntheticCohortOptions.Nuisance = .realistic

  func validate() throws {
    try checkRange(epochs, 1...100_000, "--epochs")
    if let out {
      try asUsageError {
        try OutputFolder.check(out, command: "demo", mode: force ? .force : .fresh)
      }
    }
  }

  /// The demo's sweep: the small-cohort recipe, every fold, fewer epochs.
  static func options(epochs: Int, seed: UInt64) -> SweepOptions {
    var o = Recipe.smallCohort.options
    o.epochs = epochs
    o.patience = 8
    o.seed = seed
    return o
  }

  func run() throws {
    let started = Date()
    let path =
      out
      ?? FileManager.default.temporaryDirectory.appendingPathComponent(
        "kneeforce-demo-\(Int(started.timeIntervalSince1970))-\(getpid())"
      ).path
    let folder = try OutputFolder.prepare(path, command: "demo", mode: force ? .force : .fresh).url
    let dataFolder = folder.appendingPathComponent("data")
    try SyntheticCohort.write(
      SyntheticCohortOptions(seed: seed, nuisance: nuisance), to: dataFolder.path,
      command: "demo")
    let dataset = try Dataset.load(dataFolder.path)
    print(
      "SYNTHETIC cohort (not patient data): \(dataset.subjects.count) subjects, "
        + "\(dataset.trials.count) trials, \(dataset.activities.count) activities -> "
        + dataFolder.path)
    let options = Self.options(epochs: epochs, seed: seed)
    print(
      "Leave-one-subject-out sweep with the small-cohort recipe (docs/RECIPE.md), up to "
        + "\(epochs) epochs, patience 8")
    var settings = SweepRunSettings()
    settings.command = "demo"
    let outcome = try Sweep.run(
      dataset: dataset, options: options, settings: settings, backend: try makeBackend(device),
      out: folder)
    try report(outcome, folder: folder, started: started)
  }
}
