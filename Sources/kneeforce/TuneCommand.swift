import ArgumentParser
import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceTraining

/// `--grid name=v1,v2,...`.
struct GridAxis: ExpressibleByArgument {
  var axis: Tune.Grid.Axis

  init?(argument: String) {
    let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
    guard parts.count == 2, !parts[0].isEmpty else { return nil }
    var values: [Double] = []
    for part in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
      guard let v = Double(part.trimmingCharacters(in: .whitespaces)), v.isFinite else {
        return nil
      }
      values.append(v)
    }
    axis = Tune.Grid.Axis(name: parts[0].replacingOccurrences(of: "-", with: "_"), values: values)
  }
}

struct TuneCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tune",
    abstract: "Nested leave-one-subject-out search of training settings, per fold.",
    discussion: """
      For every combination of the --grid values, trains the sweep's network units with \
      inner leave-one-subject-out validation inside each fold's training subjects (--validation \
      is inner here), and chooses per fold (model, feature set, activity set, held-out subject) \
      the combination with the lowest mean inner-validation loss. The outer held-out subject is \
      never trained on, validated on or predicted. Pass OUT/tune.json to `kneeforce sweep \
      --tuned` to train and score each fold with its own choice (same data and options).

      Settings: \(TunableSetting.names.joined(separator: ", ")) (e.g. --grid weight-decay=0.1,1 \
      --grid hidden=16,32). Writes OUT/tune.json, OUT/tune.csv (every fold and point, the \
      choice marked) and OUT/points/point-NNN/ (one sweep folder per point; --resume \
      continues them).
      """)

  @Option(help: "Dataset folder (docs/DATASET_FORMAT.md).")
  var data: String

  @Option(help: "Output folder: created, or empty, or a tune's folder with --resume or --force.")
  var out: String

  @Option(help: "A setting and its values, NAME=V1,V2,... (repeatable; at most 1000 points).")
  var grid: [GridAxis] = []

  @OptionGroup var training: TrainingArguments

  @Option(help: "Units trained together in lockstep (1-4096; default: what fits the device).")
  var foldBatch: Int?

  @Flag(help: "Continue the tune in OUT.")
  var resume = false

  @Flag(help: "Replace the contents of OUT if it holds an earlier kneeforce output.")
  var force = false

  var searched: Tune.Grid { Tune.Grid(axes: grid.map(\.axis)) }

  func validate() throws {
    if let problem = searched.problem { throw ValidationError("--grid: \(problem)") }
    if training.patience == 0 {
      throw ValidationError("tune chooses by inner validation: --patience must be above 0")
    }
    if let foldBatch { try checkRange(foldBatch, 1...4096, "--fold-batch") }
    if resume && force { throw ValidationError("--resume and --force exclude each other") }
    try asUsageError {
      try OutputFolder.check(out, command: "tune", mode: mode, allowsResume: true)
    }
  }

  var mode: OutputFolder.Mode { resume ? .resume : force ? .force : .fresh }

  func run() throws {
    let dataset = try Dataset.load(data)
    let backend = try makeBackend(training.device)
    let folder = try OutputFolder.prepare(out, command: "tune", mode: mode).url
    let record = try Tune.run(
      dataset: dataset, options: training.options, grid: searched, foldBatch: foldBatch,
      resume: resume, backend: backend, out: folder)
    print(Tune.summary(record), terminator: "")
    print("choices of \(record.choices.count) units: \(folder.path)/tune.csv")
    print("use them: kneeforce sweep --tuned \(folder.path)/\(Tune.recordName) ...")
  }
}
