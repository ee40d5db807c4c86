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

      Sized to finish in a few minutes on two CPU cores: networks smaller than the sweep's \
      defaults (biLSTM hidden 32, MLP 64,32; TCN 32 channels, 3 levels) and --epochs 40 \
      with patience 8 (the sweep's defaults: hidden 64, MLP 128,64; 64 channels, 4 \
      levels; 60 epochs, patience 10). Outputs in OUT as docs/SWEEP_OUTPUTS.md describes.
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

  /// The demo's sweep: both models, every fold, smaller networks (see the discussion).
  static func options(epochs: Int, seed: UInt64) -> SweepOptions {
    var o = SweepOptions()
    o.epochs = epochs
    o.patience = 8
    o.seed = seed
    o.hidden = 32
    o.mlp = [64, 32]
    o.channels = 32
    o.levels = 3
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
      "Leave-one-subject-out sweep, demo sizes: biLSTM hidden 32, MLP 64,32; TCN 32 channels, "
        + "3 levels; up to \(epochs) epochs, patience 8 (`kneeforce sweep` defaults are larger)")
    var settings = SweepRunSettings()
    settings.command = "demo"
    let outcome = try Sweep.run(
      dataset: dataset, options: options, settings: settings, backend: try makeBackend(device),
      out: folder)
    try report(outcome, folder: folder, started: started)
  }
}
