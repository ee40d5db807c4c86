import ArgumentParser
import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceModels
import KneeForceTraining

struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "The main job on built-in data: synthetic cohort, both models, one subject held out.",
    discussion: """
      1. Writes the built-in SYNTHETIC cohort (`kneeforce synth`: 6 subjects, 6 activities; \
      not patient data) into OUT/data and checks it.
      2. Cuts every trial into 101-sample time-normalised sequences of kinematics, GRF and \
      EMG (forces in body weights), z-scored with statistics of the training subjects only.
      3. Trains the biLSTM-MLP and the TCN with one subject held out (one \
      leave-one-subject-out fold) and prints RMSE (BW) and Pearson r per target on it.

      Outputs in OUT: checkpoints, per-sequence predictions (CSV), results.json and \
      results.csv.
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

  @Option(help: "Training epochs per model (1-100000).")
  var epochs = 60

  @Option(help: "Subject to hold out (default: the first).")
  var heldOut: String?

  @Option(help: "Seed for the cohort and the training.")
  var seed: UInt64 = 0

  @Option(help: "Recording nuisances in the cohort: none or realistic.")
  var nuisance: SyntheticCohortOptions.Nuisance = .none

  func validate() throws {
    try checkRange(epochs, 1...100_000, "--epochs")
    if let out {
      try asUsageError {
        try OutputFolder.check(out, command: "demo", mode: force ? .force : .fresh)
      }
    }
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
    let options = SyntheticCohortOptions(seed: seed, nuisance: nuisance)
    try SyntheticCohort.write(options, to: dataFolder.path, command: "demo")
    let dataset = try Dataset.load(dataFolder.path)
    print(
      "SYNTHETIC cohort (not patient data): \(dataset.subjects.count) subjects, "
        + "\(dataset.trials.count) trials, \(dataset.activities.count) activities -> "
        + dataFolder.path)
    let backend = try makeBackend(device)
    var holdOut = HoldOutOptions()
    holdOut.epochs = epochs
    holdOut.seed = seed
    let subject = heldOut ?? dataset.subjects[0]
    let results = try runHoldOut(
      dataset: dataset, heldOut: subject, options: holdOut, backend: backend,
      outputFolder: folder)
    let ridge = try ridgeBaselineForFold(dataset: dataset, heldOut: subject)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(
      String(decoding: try encoder.encode(ridge), as: UTF8.self),
      to: folder.appendingPathComponent("ridge_baseline.json"))
    print("")
    print("Held-out subject \(subject) (SYNTHETIC data), \(epochs) epochs per model:")
    print(
      pad("model", 12) + pad("target", 14) + pad("RMSE (BW)", 11) + pad("Pearson r", 11)
        + "measured range (BW)")
    for r in results {
      for m in r.metrics {
        print(
          pad(r.model, 12) + pad(m.target, 14) + pad(String(format: "%.3f", m.rmse), 11)
            + pad(String(format: "%.3f", m.pearson), 11)
            + String(format: "%.2f to %.2f", m.measuredMin, m.measuredMax))
      }
    }
    for m in ridge {
      print(
        pad("ridge", 12) + pad(m.target, 14) + pad(String(format: "%.3f", m.rmse), 11)
          + pad(String(format: "%.3f", m.pearson), 11) + "(per-step linear baseline)")
    }
    for r in results {
      print("\(r.model): trained in \(String(format: "%.1f", r.trainSeconds)) s on \(r.device)")
    }
    print("")
    print(
      "Outputs in \(folder.path): results.csv, results.json, ridge_baseline.json, "
        + "checkpoints, predictions.")
    print("Total time: \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
  }
}
