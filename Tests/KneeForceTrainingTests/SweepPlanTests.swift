import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceModels
import XCTest

@testable import KneeForceTraining

/// The sweep's planner, shard assignment and output files, without training.
final class SweepPlanTests: XCTestCase {
  func cohort(subjects: Int = 4, activities: [SyntheticActivity] = [.walking, .squat]) throws
    -> Dataset
  {
    var d = try SyntheticCohort.generate(
      SyntheticCohortOptions(
        subjects: subjects, trials: 1, seed: 3, nuisance: .none, activities: activities))
    d.folder = "plan-cohort"
    return d
  }

  func testPlannerLaysOutFoldsValidationAndBaselines() throws {
    var options = SweepOptions()
    options.lofo = true
    let data = try SweepData(dataset: try cohort(), options: options)
    let plan = try UnitPlanner.plan(data: data, options: options)
    let networks = plan.filter { !$0.key.isBaseline }
    XCTAssertEqual(networks.count, 2 * 4 * 4)
    XCTAssertEqual(plan.filter { $0.key.model == "mean_curve" }.count, 4)
    XCTAssertEqual(plan.filter { $0.key.model == "aligned_curve" }.count, 4)
    XCTAssertEqual(plan.filter { $0.key.model == "ridge" }.count, 4 * 4)
    XCTAssertEqual(plan.filter { $0.key.model == "ridge_subject" }.count, 4 * 4)
    XCTAssertEqual(Set(plan.map(\.key)).count, plan.count, "unit keys are unique")
    let subjects = data.subjects
    for unit in plan {
      let held = try XCTUnwrap(unit.heldOut)
      XCTAssertFalse(unit.trainingSubjects.contains(held))
      if unit.key.isBaseline {
        XCTAssertNil(unit.validationSubject)
        XCTAssertEqual(unit.trainingSubjects.count, subjects.count - 1)
      } else {
        let i = try XCTUnwrap(subjects.firstIndex(of: held))
        XCTAssertEqual(unit.validationSubject, subjects[(i + 1) % subjects.count])
        XCTAssertFalse(unit.trainingSubjects.contains(unit.validationSubject!))
        XCTAssertEqual(unit.trainingSubjects.count, subjects.count - 2)
      }
    }
    XCTAssertEqual(data.channels(of: "no_emg", options: options).count, 8)
    options.patience = 0
    options.perActivity = true
    options.lofo = false
    let perActivity = try UnitPlanner.plan(data: data, options: options)
    XCTAssertEqual(perActivity.filter { !$0.key.isBaseline }.count, 2 * 2 * 4)
    XCTAssertTrue(perActivity.allSatisfy { $0.validationSubject == nil })
    XCTAssertEqual(Set(perActivity.map(\.key.activities)), ["walking", "squat"])
  }

  func testPlannerRefusesTooFewSubjectsAndUnknownHeldOut() throws {
    let data = try SweepData(dataset: try cohort(subjects: 2), options: SweepOptions())
    XCTAssertThrowsError(try UnitPlanner.plan(data: data, options: SweepOptions())) {
      XCTAssertTrue("\($0)".contains("at least 3"), "\($0)")
    }
    var options = SweepOptions()
    options.patience = 0
    XCTAssertEqual(try UnitPlanner.plan(data: data, options: options).count, 2 * 2 + 4 * 2)
    XCTAssertThrowsError(try UnitPlanner.plan(data: data, options: options, heldOut: ["nobody"]))
  }

  func testShardAssignmentCoversEveryUnitOnceAndBalances() {
    let costs: [Double] = (0..<48).map { Double(100 + ($0 * 37) % 50) } + [5, 5, 5, 5]
    let groups = (0..<48).map { "g\($0 / 6)" } + ["b", "b", "b", "b"]
    for n in [1, 2, 3, 5, 7] {
      let shards = ShardAssignment.assign(costs: costs, groups: groups, count: n)
      XCTAssertEqual(shards.count, costs.count)
      XCTAssertTrue(shards.allSatisfy { (0..<n).contains($0) })
      var loads = [Double](repeating: 0, count: n)
      for (i, s) in shards.enumerated() { loads[s] += costs[i] }
      let even = costs.reduce(0, +) / Double(n)
      XCTAssertLessThanOrEqual(loads.max()! - even, costs.max()! + 0.1 * even, "N=\(n): \(loads)")
      XCTAssertEqual(shards, ShardAssignment.assign(costs: costs, groups: groups, count: n))
    }
    // 8 equal groups over 2 or 4 shards: every group stays whole.
    let shards = ShardAssignment.assign(costs: costs, groups: groups, count: 4)
    for g in 0..<8 {
      XCTAssertEqual(Set((0..<6).map { shards[g * 6 + $0] }).count, 1, "group \(g) split")
    }
  }

  func testUnitFolderNamesAreUnambiguous() {
    let key = UnitKey(
      model: "ridge", features: "no_emg", activities: "stair_ascent", subject: "S01")
    XCTAssertEqual(key.folderName, "ridge__no_emg__stair_ascent__S01")
    XCTAssertEqual(UnitKey.escaped("a b/c"), "a~20b~2Fc")
    XCTAssertEqual(UnitKey.escaped("x__y_"), "x_~5Fy~5F")
    XCTAssertEqual(UnitKey.escaped(".hidden"), "~2Ehidden")
  }

  func testPredictionsRoundTripBitwiseAndScoreAsPooledSamples() throws {
    let data = try SweepData(dataset: try cohort(), options: SweepOptions())
    let subject = data.subjects[0]
    let held = data.indices(subjects: [subject])
    let members = (0..<2).map { m in
      (0..<(held.count * data.sequences.length * 3)).map { Float($0 % 17) * 0.013 + Float(m) / 7 }
    }
    let predictions = UnitPredictions(set: data.sequences, indices: held, members: members)
    let back = try UnitPredictions(csv: predictions.csv(), file: "p.csv")
    XCTAssertEqual(back, predictions)
    XCTAssertEqual(
      predictions.sequences[0].sd[0], Float((1.0 / 7 / 2.0.squareRoot())), accuracy: 1e-6)
    let record = UnitRecord(
      unit: UnitKey(model: "tcn", features: "all", activities: "all", subject: subject),
      status: "ok", failure: nil, trainingSubjects: ["S02", "S03"], validationSubject: "S04",
      seeds: [0, 1], epochsTrained: [3, 3], bestEpochs: [2, 3], trainingSequences: 4,
      heldOutActivities: ["squat", "walking"], seconds: 1, files: ["predictions.csv"])
    let rows = ResultsTable.rows([(record, back)])
    XCTAssertEqual(
      rows.map(\.activity),
      ["all", "all", "all", "squat", "squat", "squat", "walking", "walking", "walking"])
    let pooled = targetMetrics(
      prediction: back.sequences.flatMap(\.predicted), measured: back.sequences.flatMap(\.measured),
      targets: ["medial", "lateral", "total"])
    XCTAssertEqual(rows[0].rmse, pooled[0].rmse)
    XCTAssertEqual(rows[0].trials, 2)
    let csv = ResultsTable.csv(rows)
    XCTAssertTrue(
      csv.hasPrefix("model,features,activity,subject,target,rmse_bw,pearson_r,n_trials,seeds"))
    let fields = csv.split(separator: "\n")[1].split(separator: ",")
    XCTAssertEqual(Double(String(fields[5])), rows[0].rmse, "numbers round-trip")
    var failed = record
    failed.status = "failed"
    let failedRows = ResultsTable.rows([(failed, nil)])
    XCTAssertTrue(failedRows.allSatisfy { $0.status == "failed" && $0.rmse == nil })
    let summary = ResultsTable.summary(rows + failedRows, title: ["# t"])
    XCTAssertTrue(summary.contains("| tcn | all | all | medial |"), summary)
    XCTAssertTrue(summary.contains("Failed units"), summary)
  }

  func testBaselinesPredictTheHeldOutSubject() throws {
    var options = SweepOptions()
    options.lofo = true
    let data = try SweepData(dataset: try cohort(), options: options)
    let plan = try UnitPlanner.plan(data: data, options: options)
    let meanUnit = try XCTUnwrap(plan.first { $0.key.model == "mean_curve" })
    let curve = try Baselines.meanCurve(data: data, unit: meanUnit)
    XCTAssertEqual(Set(curve.sequences.map(\.subject)), [meanUnit.heldOut!])
    // Its walking curve is the mean of the training subjects' walking curves.
    let walking = data.indices(subjects: Set(meanUnit.trainingSubjects), activity: "walking")
    let stride = data.sequences.length * 3
    let expected =
      walking.map { Double(data.sequences.targets[$0 * stride + 5]) }.reduce(0, +)
      / Double(walking.count)
    let first = try XCTUnwrap(curve.sequences.first { $0.activity == "walking" })
    XCTAssertEqual(Double(first.predicted[5]), expected, accuracy: 1e-5)
    // The aligned curve is the same where there is no toe-off (squat: double stance), and
    // warped where there is one.
    let aligned = try Baselines.alignedCurve(data: data, unit: meanUnit, events: .toeOff)
    for (plain, warped) in zip(curve.sequences, aligned.sequences) {
      if plain.activity == "squat" {
        XCTAssertEqual(plain.predicted, warped.predicted, "squat \(plain.trialID)")
      } else {
        XCTAssertNotEqual(plain.predicted, warped.predicted, "walking \(plain.trialID)")
      }
    }
    let ridgeUnit = try XCTUnwrap(
      plan.first { $0.key.model == "ridge" && $0.key.features == "no_grf" })
    let ridge = try Baselines.ridge(data: data, unit: ridgeUnit, options: options)
    XCTAssertTrue(Baselines.ridgePenalties.contains(ridge.penalty))
    XCTAssertEqual(
      ridge.predictions.sequences.count, data.indices(subjects: [ridgeUnit.heldOut!]).count)
    XCTAssertTrue(ridge.predictions.sequences.allSatisfy { $0.predicted.allSatisfy(\.isFinite) })
  }

  func testCheckpointMetadataRoundTripsThroughOneType() throws {
    let backend = CPUBackend(threads: 1)
    let config = ModelConfig.tcn(inputs: 2, channels: 3, levels: 1, kernelSize: 2)
    let model = try makeModel(config, backend: backend, models: 2, seed: 1)
    var metadata = CheckpointMetadata(config: config)
    metadata.inputChannels = ["kin.a", "kin.b"]
    metadata.normalizer = .init(
      channels: ["kin.a", "kin.b"], mean: [1, 2], std: [3, 4], stdFloor: 1e-3)
    metadata.features = try JSONValue(encoding: FeatureOptions(groups: ["kin"]))
    metadata.synthetic = false
    metadata.seeds = [5, 6]
    let folder = try makeTemporaryFolder("metadata")
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("ck.safetensors")
    try Checkpoint.save(model, members: [0, 1], metadata: metadata, to: url)
    let loaded = try Checkpoint.load(from: url, backend: backend)
    metadata.members = 2
    XCTAssertEqual(loaded.info, metadata)
    XCTAssertEqual(
      try loaded.info.features?.decode(FeatureOptions.self), FeatureOptions(groups: ["kin"]))
    XCTAssertEqual(loaded.model.parameters.layout.models, 2)
    for t in model.parameters.layout.tensors {
      XCTAssertEqual(
        try loaded.model.parameters.read(t.name, model: 1),
        try model.parameters.read(t.name, model: 1))
    }
    let tensors = try readF32Tensors(url)
    XCTAssertNotNil(tensors["member1.head.weight"])
  }

  func testSyntheticColumnSaysNoMeansNotSynthetic() throws {
    var dataset = try cohort(subjects: 2, activities: [.walking])
    XCTAssertTrue(DataFingerprint.isSynthetic(dataset))
    let before = DataFingerprint.of(dataset)
    for i in dataset.trials.indices { dataset.trials[i].info.extra["synthetic"] = "no" }
    XCTAssertFalse(DataFingerprint.isSynthetic(dataset))
    XCTAssertNotEqual(DataFingerprint.of(dataset), before)
    var changed = try cohort(subjects: 2, activities: [.walking])
    XCTAssertEqual(DataFingerprint.of(changed), before)
    changed.trials[0].values[0][3] += 1e-9
    XCTAssertNotEqual(DataFingerprint.of(changed), before)
  }

  func testPredictionCSVLeavesUncoveredSamplesEmptyAndSpreadsMembers() {
    let info = TrialInfo(
      trialID: "P1", subject: "P", activity: "walking", side: .right, bodyWeightN: 800,
      file: "trials/P1.csv")
    let p = Predictor.TrialPrediction(
      trial: info, time: [0, 0.01, 0.02],
      members: [[nil, [1, 2, 3], [1, 1, 1]], [nil, [3, 2, 1], nil]])
    let lines = Predictor.csv(p).split(separator: "\n", omittingEmptySubsequences: false)
    XCTAssertEqual(lines[0].split(separator: ",").count, 13)
    XCTAssertEqual(lines[1], "0.0" + String(repeating: ",", count: 12), "outside every sequence")
    let covered = lines[2].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    XCTAssertEqual(covered[1], "1600.0")  // medial: mean 2 BW x 800 N
    XCTAssertEqual(covered[4], "2.0")
    XCTAssertEqual(Double(covered[10])!, 2.0.squareRoot(), accuracy: 1e-6)  // sd.medial_bw
    let single = lines[3].split(separator: ",", omittingEmptySubsequences: false)
    XCTAssertEqual(single[4], "1.0")
    XCTAssertEqual(single[10], "", "one member covers it: no spread")
  }
}
