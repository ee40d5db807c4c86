import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceModels
import KneeForceTraining
import XCTest

final class HoldOutExperimentTests: XCTestCase {
  /// Tiny networks and a handful of epochs: the point is the plumbing, not the accuracy.
  private func tinyOptions() -> HoldOutOptions {
    var options = HoldOutOptions()
    options.features.activities = ["walking"]
    options.epochs = 6
    options.batchSize = 2
    options.learningRate = 1e-2
    options.seed = 11
    options.hidden = 8
    options.layers = 1
    options.mlp = [8, 8]
    options.channels = 8
    options.levels = 2
    return options
  }

  private func run(
    _ dataset: Dataset, heldOut: String, backend: ComputeBackend, into folder: URL
  ) throws -> [HoldOutResult] {
    try runHoldOut(
      dataset: dataset, heldOut: heldOut, options: tinyOptions(), backend: backend,
      outputFolder: folder, log: { _ in })
  }

  func testHoldOutWritesCompleteConsistentResults() throws {
    let dataset = try tinyCohort()
    let subjects = dataset.subjects
    XCTAssertEqual(subjects.count, 3)
    let heldOut = subjects[0]
    let folder = try makeTemporaryFolder("holdout")
    defer { try? FileManager.default.removeItem(at: folder) }
    let backend = CPUBackend()
    let results = try run(dataset, heldOut: heldOut, backend: backend, into: folder)

    // What the fold should have seen, computed independently.
    let all = try FeaturePipeline(options: tinyOptions().features).sequences(from: dataset)
    let training = Set(subjects.dropFirst())
    let expectedNormalizer = try Normalizer(fitting: all.subset(subjects: training))
    let testCount = all.subset(subjects: [heldOut]).count
    XCTAssertGreaterThan(testCount, 0)

    XCTAssertEqual(results.map(\.model), ModelConfig.Kind.allCases.map(\.rawValue))
    let fm = FileManager.default
    for name in ["results.json", "results.csv"] {
      XCTAssertTrue(fm.fileExists(atPath: folder.appendingPathComponent(name).path), name)
    }
    let decoded = try JSONDecoder().decode(
      [HoldOutResult].self, from: Data(contentsOf: folder.appendingPathComponent("results.json")))
    XCTAssertEqual(decoded.count, results.count)
    for (result, written) in zip(results, decoded) {
      XCTAssertEqual(written.model, result.model)
      XCTAssertEqual(written.heldOutSubject, heldOut)
      XCTAssertEqual(written.trainingSubjects, training.sorted())
      XCTAssertFalse(written.trainingSubjects.contains(heldOut))
      XCTAssertEqual(written.testSequences, testCount)
      XCTAssertEqual(written.trainingSequences, all.count - testCount)
      XCTAssertEqual(written.epochs, 6)
      XCTAssertTrue(written.finalTrainingLoss.isFinite && written.finalTrainingLoss >= 0)
      XCTAssertEqual(written.metrics.map(\.target), ChannelConventions.targetChannels)
      XCTAssertEqual(written.metrics, result.metrics)
      for m in written.metrics {
        XCTAssertTrue(m.rmse.isFinite && m.rmse > 0, "\(written.model) \(m.target) RMSE")
        XCTAssertTrue(m.pearson.isFinite && abs(m.pearson) <= 1, "\(written.model) \(m.target) r")
        XCTAssertLessThanOrEqual(m.measuredMin, m.measuredMax)
      }

      // The checkpoint carries everything prediction needs, and loads.
      let checkpointURL = folder.appendingPathComponent(written.checkpoint)
      XCTAssertTrue(fm.fileExists(atPath: checkpointURL.path), written.checkpoint)
      let loaded = try Checkpoint.load(from: checkpointURL, backend: backend)
      XCTAssertEqual(loaded.model.config.model.rawValue, written.model)
      XCTAssertEqual(loaded.model.config.inputs, all.inputWidth)
      let metadata = loaded.metadata
      XCTAssertEqual(metadata["input_channels"] as? [String], all.inputChannels)
      XCTAssertEqual(metadata["target_channels"] as? [String], ChannelConventions.targetChannels)
      XCTAssertEqual(metadata["held_out_subject"] as? String, heldOut)
      let trainingSubjects = try XCTUnwrap(metadata["training_subjects"] as? [String])
      XCTAssertEqual(trainingSubjects, training.sorted())
      XCTAssertFalse(trainingSubjects.contains(heldOut))
      XCTAssertEqual(metadata["synthetic"] as? String, "yes")
      let normalizerObject = try XCTUnwrap(metadata["normalizer"])
      let normalizer = try Normalizer(
        jsonString: String(
          decoding: try JSONSerialization.data(withJSONObject: normalizerObject), as: UTF8.self))
      XCTAssertEqual(normalizer.channels, all.inputChannels)
      XCTAssertEqual(normalizer.stdFloor, expectedNormalizer.stdFloor)
      for c in 0..<all.inputWidth {
        XCTAssertEqual(normalizer.mean[c], expectedNormalizer.mean[c], accuracy: 1e-6)
        XCTAssertEqual(normalizer.std[c], expectedNormalizer.std[c], accuracy: 1e-6)
      }
      let features = try XCTUnwrap(metadata["features"])
      let decodedFeatures = try JSONDecoder().decode(
        FeatureOptions.self, from: JSONSerialization.data(withJSONObject: features))
      XCTAssertEqual(decodedFeatures, tinyOptions().features)

      // One data row per held-out step, each with measured and predicted targets.
      let csv = try String(
        contentsOf: folder.appendingPathComponent(written.predictions), encoding: .utf8)
      let lines = csv.split(separator: "\n", omittingEmptySubsequences: false)
      XCTAssertEqual(lines.last, "", "ends with a newline")
      let rows = lines.dropFirst().filter { !$0.isEmpty }
      XCTAssertEqual(rows.count, testCount * 101)
      let header = lines[0].split(separator: ",")
      XCTAssertEqual(header.count, 4 + 6)
      XCTAssertTrue(rows.allSatisfy { $0.split(separator: ",").count == header.count })
      XCTAssertTrue(rows.allSatisfy { $0.contains(",\(heldOut),") })
    }

    // results.csv: a header plus one row per model and target.
    let csv = try String(
      contentsOf: folder.appendingPathComponent("results.csv"), encoding: .utf8)
    let csvRows = csv.split(separator: "\n")
    XCTAssertEqual(csvRows.first, "model,held_out_subject,target,rmse_bw,pearson_r,train_seconds")
    XCTAssertEqual(csvRows.count, 1 + results.count * 3)

    // Only the finished files: no temporaries left behind by the atomic writes.
    let names = try fm.contentsOfDirectory(atPath: folder.path)
    XCTAssertEqual(names.filter { $0.hasPrefix(".") || $0.hasSuffix(".tmp") }, [], "\(names)")
    XCTAssertEqual(names.count, 2 + 2 * results.count, "\(names)")
  }

  func testUnknownHeldOutSubjectIsNamed() throws {
    let dataset = try tinyCohort()
    let folder = try makeTemporaryFolder("unknown")
    defer { try? FileManager.default.removeItem(at: folder) }
    XCTAssertThrowsError(
      try run(dataset, heldOut: "S99X", backend: CPUBackend(), into: folder)
    ) { error in
      let message = "\(error)"
      XCTAssertTrue(message.contains("'S99X'"), message)
      for subject in dataset.subjects {
        XCTAssertTrue(message.contains(subject), "\(message) should list \(subject)")
      }
    }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
  }

  func testOpenCLMatchesCPU() throws {
    let opencl = try firstOpenCLBackend()
    let dataset = try tinyCohort()
    let heldOut = dataset.subjects[1]
    let cpuFolder = try makeTemporaryFolder("cpu")
    let gpuFolder = try makeTemporaryFolder("opencl")
    defer {
      try? FileManager.default.removeItem(at: cpuFolder)
      try? FileManager.default.removeItem(at: gpuFolder)
    }
    let cpu = try run(dataset, heldOut: heldOut, backend: CPUBackend(), into: cpuFolder)
    let gpu = try run(dataset, heldOut: heldOut, backend: opencl, into: gpuFolder)
    XCTAssertEqual(gpu.map(\.model), cpu.map(\.model))
    for (c, g) in zip(cpu, gpu) {
      XCTAssertEqual(g.device, opencl.deviceName)
      XCTAssertEqual(g.finalTrainingLoss, c.finalTrainingLoss, accuracy: 1e-3, c.model)
      for (mc, mg) in zip(c.metrics, g.metrics) {
        XCTAssertEqual(mg.rmse, mc.rmse, accuracy: 1e-3, "\(c.model) \(mc.target) RMSE")
        XCTAssertEqual(mg.pearson, mc.pearson, accuracy: 1e-3, "\(c.model) \(mc.target) r")
      }
    }
  }
}
