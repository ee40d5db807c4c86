import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceModels

/// One model trained on every subject but one and judged on that one: a single
/// leave-one-subject-out fold. The full sweep repeats it per subject (and, later, batches
/// the folds into one set of GEMMs).
public struct HoldOutOptions: Sendable {
  public var models: [ModelConfig.Kind] = ModelConfig.Kind.allCases
  public var features = FeatureOptions()
  public var epochs = 60
  public var batchSize = 32
  public var learningRate: Float = 3e-3
  public var weightDecay: Float = 0
  public var maxGradNorm: Float = 1
  public var seed: UInt64 = 0
  /// Architecture overrides; nil keeps the documented defaults.
  public var hidden: Int?
  public var layers: Int?
  public var mlp: [Int]?
  public var channels: Int?
  public var levels: Int?
  public var kernelSize: Int?
  public var dropout: Double?

  public init() {}

  func config(_ kind: ModelConfig.Kind, inputs: Int) -> ModelConfig {
    var c: ModelConfig =
      kind == .bilstmMLP ? .bilstmMLP(inputs: inputs) : .tcn(inputs: inputs)
    if kind == .bilstmMLP {
      c.hidden = hidden ?? c.hidden
      c.layers = layers ?? c.layers
      c.mlp = mlp ?? c.mlp
    } else {
      c.channels = channels ?? c.channels
      c.levels = levels ?? c.levels
      c.kernelSize = kernelSize ?? c.kernelSize
    }
    c.dropout = dropout ?? c.dropout
    return c
  }
}

public struct HoldOutResult: Codable, Sendable {
  public var model: String
  public var heldOutSubject: String
  public var trainingSubjects: [String]
  public var trainingSequences: Int
  public var testSequences: Int
  public var epochs: Int
  public var finalTrainingLoss: Double
  public var trainSeconds: Double
  public var device: String
  public var metrics: [TargetMetrics]
  public var checkpoint: String
  public var predictions: String
}

public struct ExperimentError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Trains each requested model with `heldOut` left out and writes, into `outputFolder`:
/// a checkpoint per model (with the channel names, z-score statistics and feature settings
/// prediction needs), a predictions CSV per model, and results.json / results.csv. Every file
/// is written atomically, so an interrupted run never leaves a half-written result.
public func runHoldOut(
  dataset: Dataset, heldOut: String, options: HoldOutOptions, backend: ComputeBackend,
  outputFolder: URL, log: (String) -> Void = { print($0) }
) throws -> [HoldOutResult] {
  guard options.epochs >= 1 else {
    throw ExperimentError("epochs must be at least 1, got \(options.epochs)")
  }
  let source = dataset.folder.isEmpty ? "the dataset" : dataset.folder
  guard dataset.subjects.contains(heldOut) else {
    throw ExperimentError(
      "held-out subject '\(heldOut)' is not in \(source) (subjects: "
        + dataset.subjects.joined(separator: ", ") + ")")
  }
  let training = Set(dataset.subjects).subtracting([heldOut])
  guard !training.isEmpty else {
    throw ExperimentError("\(source): at least two subjects are needed to hold one out")
  }
  let all = try FeaturePipeline(options: options.features).sequences(from: dataset)
  let trainRaw = all.subset(subjects: training)
  let testRaw = all.subset(subjects: [heldOut])
  guard trainRaw.count > 0, testRaw.count > 0 else {
    throw ExperimentError(
      "no sequences for \(trainRaw.count == 0 ? "the training subjects" : heldOut) "
        + "after feature extraction (check --activities and the segmentation)")
  }
  // z-scores come from the training subjects only, so nothing of the held-out subject leaks.
  let normalizer = try Normalizer(fitting: trainRaw)
  let train = try normalizer.apply(to: trainRaw)
  let test = try normalizer.apply(to: testRaw)
  let (steps, inputs, outputs) = (all.length, all.inputWidth, all.targetWidth)
  try FileManager.default.createDirectory(at: outputFolder, withIntermediateDirectories: true)
  log(
    "fold: held out \(heldOut) (\(test.count) sequences), trained on "
      + "\(training.sorted().joined(separator: ", ")) (\(train.count) sequences); "
      + "\(inputs) inputs x \(steps) steps; device \(backend.deviceName)")

  let trainData = try DeviceSequences(
    backend: backend, x: train.inputs, y: train.targets, count: train.count, steps: steps,
    inputs: inputs, outputs: outputs)
  let testData = try DeviceSequences(
    backend: backend, x: test.inputs, y: test.targets, count: test.count, steps: steps,
    inputs: inputs, outputs: outputs)
  var results: [HoldOutResult] = []
  for kind in options.models {
    let config = options.config(kind, inputs: inputs)
    let model = try makeModel(config, backend: backend, seed: options.seed)
    var settings = TrainingOptions()
    settings.learningRate = options.learningRate
    settings.weightDecay = options.weightDecay
    settings.maxGradNorm = options.maxGradNorm
    settings.batchSize = options.batchSize
    settings.seed = options.seed
    let trainer = Trainer(model: model, options: settings)
    let started = Date()
    var lastLoss: Float = .nan
    for epoch in 1...options.epochs {
      let losses = try trainer.epoch(trainData)
      lastLoss = losses.reduce(0, +) / Float(max(losses.count, 1))
      guard lastLoss.isFinite else {
        throw ExperimentError(
          "\(kind.rawValue): training diverged at epoch \(epoch) (loss \(lastLoss))")
      }
      if epoch == 1 || epoch % max(1, options.epochs / 5) == 0 || epoch == options.epochs {
        log(
          "  \(kind.rawValue) epoch \(epoch)/\(options.epochs): training MSE "
            + String(format: "%.4f", lastLoss) + " BW^2")
      }
    }
    let seconds = Date().timeIntervalSince(started)
    let prediction = try trainer.predict(testData)
    let metrics = targetMetrics(
      prediction: prediction, measured: test.targets, targets: all.targetChannels)

    let stem = "\(kind.rawValue)_heldout-\(heldOut)"
    let checkpoint = outputFolder.appendingPathComponent("\(stem).safetensors")
    try Checkpoint.save(
      model,
      extra: [
        "input_channels": all.inputChannels, "target_channels": all.targetChannels,
        "normalizer": try JSONSerialization.jsonObject(
          with: Data(try normalizer.jsonString().utf8)),
        "features": try JSONSerialization.jsonObject(
          with: JSONEncoder().encode(options.features)),
        "held_out_subject": heldOut, "training_subjects": training.sorted(),
        "dataset": dataset.folder, "epochs": options.epochs,
        "synthetic": dataset.extraColumns.contains("synthetic") ? "yes" : "no",
      ], to: checkpoint)
    let predictions = outputFolder.appendingPathComponent("\(stem)_predictions.csv")
    try AtomicFile.write(
      predictionsCSV(test: test, prediction: prediction, targets: all.targetChannels),
      to: predictions)
    results.append(
      HoldOutResult(
        model: kind.rawValue, heldOutSubject: heldOut, trainingSubjects: training.sorted(),
        trainingSequences: train.count, testSequences: test.count, epochs: options.epochs,
        finalTrainingLoss: Double(lastLoss), trainSeconds: seconds, device: backend.deviceName,
        metrics: metrics, checkpoint: checkpoint.lastPathComponent,
        predictions: predictions.lastPathComponent))
  }
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
  try AtomicFile.write(
    String(decoding: try encoder.encode(results), as: UTF8.self),
    to: outputFolder.appendingPathComponent("results.json"))
  var csv = "model,held_out_subject,target,rmse_bw,pearson_r,train_seconds\n"
  for r in results {
    for m in r.metrics {
      csv +=
        "\(r.model),\(r.heldOutSubject),\(m.target),\(String(format: "%.4f", m.rmse)),"
        + "\(String(format: "%.4f", m.pearson)),\(String(format: "%.1f", r.trainSeconds))\n"
    }
  }
  try AtomicFile.write(csv, to: outputFolder.appendingPathComponent("results.csv"))
  return results
}

func predictionsCSV(test: SequenceSet, prediction: [Float], targets: [String]) -> String {
  var lines = [
    "trial_id,subject,activity,step,"
      + targets.map { "measured.\($0)" }.joined(
        separator: ",") + "," + targets.map { "predicted.\($0)" }.joined(separator: ",")
  ]
  let width = targets.count
  for n in 0..<test.count {
    for t in 0..<test.length {
      let base = (n * test.length + t) * width
      let measured = (0..<width).map { String(format: "%.4f", test.targets[base + $0]) }
      let predicted = (0..<width).map { String(format: "%.4f", prediction[base + $0]) }
      lines.append(
        "\(test.trialIDs[n]),\(test.subjects[n]),\(test.activities[n]),\(t),"
          + (measured + predicted).joined(separator: ","))
    }
  }
  return lines.joined(separator: "\n") + "\n"
}
