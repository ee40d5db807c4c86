import ArgumentParser
import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceTraining

struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract: "Predict knee contact forces for a dataset folder with trained checkpoints.",
    discussion: """
      Works on data without kcf.* columns (a new patient). Writes OUT/<trial_id>.csv per \
      trial on the trial's own time stamps: time_s, predicted.{medial,lateral,total}_n and \
      _bw (newtons from the manifest's body weight), plus sd.* columns with several \
      checkpoints or seeds (the members' standard deviation). Time-normalised predictions \
      are mapped back onto the trial's samples by linear interpolation; samples outside \
      every cycle are empty; overlapping windows are averaged. A checkpoint whose input \
      channels the data lack is refused, naming them.
      """)

  @Option(
    parsing: .upToNextOption,
    help: "Checkpoints (units/<unit>/checkpoint.safetensors of a sweep or train run).")
  var checkpoint: [String]

  @Option(help: "Dataset folder (docs/DATASET_FORMAT.md; kcf.* columns optional).")
  var data: String

  @Option(help: "Output folder: created, or empty, or an earlier output with --force.")
  var out: String

  @Option(help: "auto | cpu | opencl[:INDEX] (see `kneeforce devices`).")
  var device: DeviceSelection = .cpu

  @Flag(help: "Replace the contents of OUT if it holds an earlier kneeforce output.")
  var force = false

  func validate() throws {
    guard !checkpoint.isEmpty else { throw ValidationError("give at least one --checkpoint") }
    try asUsageError {
      try OutputFolder.check(out, command: "predict", mode: force ? .force : .fresh)
    }
  }

  func run() throws {
    let backend = try makeBackend(device)
    let dataset = try Predictor.loadData(data)
    let checkpoints = try checkpoint.map {
      try Predictor.load(URL(fileURLWithPath: $0), backend: backend)
    }
    for ck in checkpoints { try Predictor.checkChannels(ck, dataset: dataset) }
    let predictions = try Predictor.predict(checkpoints, dataset: dataset, backend: backend)
    let folder = try OutputFolder.prepare(out, command: "predict", mode: force ? .force : .fresh)
      .url
    for p in predictions {
      try AtomicFile.write(
        Predictor.csv(p), to: folder.appendingPathComponent("\(p.trial.trialID).csv"))
    }
    let members = checkpoints.reduce(0) { $0 + $1.loaded.model.parameters.layout.models }
    print(
      "\(predictions.count) trials predicted with \(checkpoints.count) checkpoint(s), "
        + "\(members) member(s), into \(folder.path)")
  }
}
