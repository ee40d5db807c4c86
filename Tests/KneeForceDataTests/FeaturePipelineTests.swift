import XCTest

@testable import KneeForceData

final class FeaturePipelineTests: XCTestCase {
  /// A trial whose channels are simple functions of time, so expected features are exact.
  private func trial(
    id: String = "T1", subject: String = "A", weight: Double = 500, samples: Int = 21,
    rate: Double = 100, level: Double = 0
  ) -> Trial {
    let time = (0..<samples).map { Double($0) / rate }
    let info = TrialInfo(
      trialID: id, subject: subject, activity: "walking", side: .left, bodyWeightN: weight,
      file: "\(id).csv")
    let channels = [
      "kcf.total", "kin.knee_flexion", "grf.vertical", "grf.cop_anterior", "grf.free_moment",
      "emg.vastus_medialis", "kcf.lateral", "kcf.medial", "other.marker",
    ]
    let values: [[Double]] = [
      time.map { 1000 + 1000 * $0 },
      time.map { level + 100 * $0 },
      time.map { _ in weight },
      time.map { _ in 0.12 },
      time.map { _ in 3.0 },
      time.map { _ in 0.5 },
      time.map { _ in 250 },
      time.map { _ in 750 },
      time.map { _ in 9 },
    ]
    return Trial(info: info, time: time, channels: channels, values: values)
  }

  private func input(_ set: SequenceSet, _ sequence: Int, _ step: Int, _ channel: String)
    -> Float
  {
    let c = set.inputChannels.firstIndex(of: channel) ?? 0
    return set.inputs[(sequence * set.length + step) * set.inputWidth + c]
  }

  private func target(_ set: SequenceSet, _ sequence: Int, _ step: Int, _ k: Int) -> Float {
    set.targets[(sequence * set.length + step) * 3 + k]
  }

  func testForcesAreDividedByBodyWeightButPositionsAndMomentsAreNot() throws {
    let set = try FeaturePipeline().sequences(from: [trial()])
    XCTAssertEqual(input(set, 0, 0, "grf.vertical"), 1, accuracy: 1e-6)
    XCTAssertEqual(input(set, 0, 0, "grf.cop_anterior"), 0.12, accuracy: 1e-6)
    XCTAssertEqual(input(set, 0, 0, "grf.free_moment"), 3, accuracy: 1e-6)
    XCTAssertEqual(input(set, 0, 0, "kin.knee_flexion"), 0, accuracy: 1e-6)
    XCTAssertEqual(input(set, 0, 0, "emg.vastus_medialis"), 0.5, accuracy: 1e-6)
    XCTAssertEqual(target(set, 0, 0, 0), 1.5, accuracy: 1e-6)
    XCTAssertEqual(target(set, 0, 0, 1), 0.5, accuracy: 1e-6)
    XCTAssertEqual(target(set, 0, 0, 2), 2, accuracy: 1e-6)
    XCTAssertTrue(ChannelConventions.isBodyWeightScaled("grf.anterior"))
    XCTAssertFalse(ChannelConventions.isBodyWeightScaled("grf.cop_medial"))
    XCTAssertFalse(ChannelConventions.isBodyWeightScaled("kin.knee_flexion"))
  }

  func testTrialIsTimeNormalisedTo101Points() throws {
    let set = try FeaturePipeline().sequences(from: [trial(samples: 37)])
    XCTAssertEqual(set.count, 1)
    XCTAssertEqual(set.length, 101)
    XCTAssertEqual(set.inputs.count, 101 * set.inputWidth)
    XCTAssertEqual(set.targets.count, 101 * 3)
    // Knee flexion is 100 * t over 0..0.36 s, so step k is 0.36 * k.
    for k in [0, 1, 50, 99, 100] {
      XCTAssertEqual(input(set, 0, k, "kin.knee_flexion"), Float(0.36 * Double(k)), accuracy: 1e-4)
    }
    XCTAssertEqual(set.startTimes, [0])
    XCTAssertEqual(set.endTimes.first ?? 0, 0.36, accuracy: 1e-12)
  }

  func testSlidingWindowsInSamples() throws {
    let options = FeatureOptions(segmentation: .windows(length: 10, stride: 5))
    let set = try FeaturePipeline(options: options).sequences(from: [trial(samples: 25)])
    XCTAssertEqual(set.count, 4)
    XCTAssertEqual(set.startTimes, [0, 0.05, 0.1, 0.15])
    XCTAssertEqual(input(set, 2, 0, "kin.knee_flexion"), 10, accuracy: 1e-4)
    XCTAssertEqual(input(set, 3, 9, "kin.knee_flexion"), 24, accuracy: 1e-4)
    let none = try FeaturePipeline(options: options).sequences(from: [trial(samples: 9)])
    XCTAssertEqual(none.count, 0)
    XCTAssertThrowsError(
      try FeaturePipeline(options: FeatureOptions(segmentation: .windows(length: 10, stride: 0)))
        .sequences(from: [trial()]))
  }

  func testCyclesBetweenFootStrikesAndFallbackToTheWholeTrial() throws {
    let events = [
      "T1": [
        GaitEvent(trialID: "T1", event: "foot_strike", time: 0.02),
        GaitEvent(trialID: "T1", event: "foot_off", time: 0.08),
        GaitEvent(trialID: "T1", event: "foot_strike", time: 0.1),
        GaitEvent(trialID: "T1", event: "foot_strike", time: 0.16),
      ]
    ]
    let options = FeatureOptions(segmentation: .cycle(length: 11))
    let set = try FeaturePipeline(options: options).sequences(
      from: [trial(), trial(id: "T2")], events: events)
    XCTAssertEqual(set.trialIDs, ["T1", "T1", "T2"])
    XCTAssertEqual(set.startTimes, [0.02, 0.1, 0])
    XCTAssertEqual(input(set, 0, 0, "kin.knee_flexion"), 2, accuracy: 1e-4)
    XCTAssertEqual(input(set, 0, 10, "kin.knee_flexion"), 10, accuracy: 1e-4)
    XCTAssertEqual(input(set, 1, 5, "kin.knee_flexion"), 13, accuracy: 1e-4)
  }

  func testGroupSelectionAndTargetOrder() throws {
    let trials = [trial()]
    func channels(_ groups: [String]) throws -> [String] {
      try FeaturePipeline(options: FeatureOptions(groups: groups)).sequences(from: trials)
        .inputChannels
    }
    XCTAssertEqual(
      try channels(["kin", "grf", "emg"]),
      [
        "kin.knee_flexion", "grf.vertical", "grf.cop_anterior", "grf.free_moment",
        "emg.vastus_medialis",
      ])
    XCTAssertEqual(try channels(["emg", "kin"]), ["kin.knee_flexion", "emg.vastus_medialis"])
    XCTAssertEqual(try channels(["grf"]).count, 3)
    XCTAssertEqual(try channels(["other", "kcf"]), ["other.marker"])
    XCTAssertThrowsError(try channels(["kcf"]))
    let set = try FeaturePipeline().sequences(from: trials)
    XCTAssertEqual(set.targetChannels, ["kcf.medial", "kcf.lateral", "kcf.total"])
  }

  func testLowPassFilterIsOptionalAndChecksTheCutoff() throws {
    var noisy = trial(samples: 200)
    noisy.values[1] = noisy.time.enumerated().map { i, t in 10 + (i % 2 == 0 ? 1 : -1) }
    let raw = try FeaturePipeline(
      options: FeatureOptions(segmentation: .windows(length: 200, stride: 1))
    )
    .sequences(from: [noisy])
    let smooth = try FeaturePipeline(
      options: FeatureOptions(segmentation: .windows(length: 200, stride: 1), lowPassHz: 6)
    ).sequences(from: [noisy])
    XCTAssertEqual(abs(input(raw, 0, 100, "kin.knee_flexion") - 10), 1, accuracy: 1e-5)
    XCTAssertEqual(input(smooth, 0, 100, "kin.knee_flexion"), 10, accuracy: 0.01)
    XCTAssertThrowsError(
      try FeaturePipeline(options: FeatureOptions(lowPassHz: 60)).sequences(from: [noisy]))
  }

  func testActivityFilterSubsetsAndSubjects() throws {
    var squat = trial(id: "T3", subject: "B")
    squat.info.activity = "squat"
    let trials = [trial(), trial(id: "T2", subject: "B"), squat]
    let set = try FeaturePipeline(options: FeatureOptions(activities: ["walking"]))
      .sequences(from: trials)
    XCTAssertEqual(set.trialIDs, ["T1", "T2"])
    let b = set.subset(subjects: ["B"])
    XCTAssertEqual(b.trialIDs, ["T2"])
    XCTAssertEqual(b.inputs.count, 101 * set.inputWidth)
    XCTAssertEqual(set.subset([1, 7, -1]).trialIDs, ["T2"])
  }
}

final class NormalizerTests: XCTestCase {
  private func set(subjects: [String], levels: [Double]) throws -> SequenceSet {
    let trials = zip(subjects.indices, zip(subjects, levels)).map { i, pair -> Trial in
      let (subject, level) = pair
      let time = (0..<11).map { Double($0) / 100 }
      let info = TrialInfo(
        trialID: "T\(i)", subject: subject, activity: "walking", side: .right,
        bodyWeightN: 1, file: "")
      return Trial(
        info: info, time: time,
        channels: ["kin.a", "emg.flat", "kcf.medial", "kcf.lateral", "kcf.total"],
        values: [
          time.map { level + 1000 * $0 }, time.map { _ in 0.2 }, time, time, time,
        ])
    }
    return try FeaturePipeline(options: FeatureOptions(segmentation: .trial(length: 11)))
      .sequences(from: trials)
  }

  func testFittedOnTheGivenSubsetOnlyAndAppliedToAny() throws {
    let all = try set(subjects: ["A", "B", "C"], levels: [0, 10, 1000])
    let normalizer = try Normalizer(fitting: all, subjects: ["A", "B"])
    XCTAssertEqual(normalizer.channels, ["kin.a", "emg.flat"])
    XCTAssertEqual(normalizer.mean[0], 55, accuracy: 1e-4)
    let train = try normalizer.apply(to: all.subset(subjects: ["A", "B"]))
    let values = stride(from: 0, to: train.inputs.count, by: 2).map { Double(train.inputs[$0]) }
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
    XCTAssertEqual(mean, 0, accuracy: 1e-5)
    XCTAssertEqual(variance, 1, accuracy: 1e-4)
    let held = try normalizer.apply(to: all.subset(subjects: ["C"]))
    XCTAssertGreaterThan(held.inputs[0], 20, "C's offset must not leak into the statistics")
    XCTAssertEqual(held.targets, all.subset(subjects: ["C"]).targets)
  }

  func testStdFloorForConstantChannels() throws {
    let all = try set(subjects: ["A"], levels: [0])
    let normalizer = try Normalizer(fitting: all, stdFloor: 0.01)
    XCTAssertEqual(normalizer.std[1], 0.01)
    let applied = try normalizer.apply(to: all)
    XCTAssertEqual(applied.inputs[1], 0, accuracy: 1e-4)
    XCTAssertThrowsError(try Normalizer(fitting: all, subjects: ["nobody"]))
  }

  func testJSONRoundTripAndChannelCheck() throws {
    let all = try set(subjects: ["A", "B"], levels: [1, 2])
    let normalizer = try Normalizer(fitting: all)
    let json = try normalizer.jsonString()
    XCTAssertTrue(json.contains("\"channels\""))
    XCTAssertEqual(try Normalizer(jsonString: json), normalizer)
    XCTAssertThrowsError(try Normalizer(jsonString: "{\"channels\":[\"a\"]}"))
    XCTAssertThrowsError(
      try Normalizer(jsonString: "{\"channels\":[\"a\"],\"mean\":[],\"std\":[],\"stdFloor\":1}"))
    var other = all
    other.inputChannels = ["kin.b", "emg.flat"]
    XCTAssertThrowsError(try normalizer.apply(to: other))
    var values = Array(all.inputs.prefix(4))
    let original = values
    try normalizer.normalize(&values)
    try normalizer.denormalize(&values)
    for (a, b) in zip(values, original) { XCTAssertEqual(a, b, accuracy: 1e-3) }
  }
}

final class LOSOFoldTests: XCTestCase {
  func testOneFoldPerSubjectWithAllOthersForTraining() {
    let folds = LOSOFolds.folds(subjects: ["K2", "K1", "K3", "K1"])
    XCTAssertEqual(folds.map(\.heldOutSubject), ["K1", "K2", "K3"])
    for fold in folds {
      XCTAssertFalse(fold.trainingSubjects.contains(fold.heldOutSubject))
      XCTAssertEqual(Set(fold.trainingSubjects + [fold.heldOutSubject]), ["K1", "K2", "K3"])
    }
    XCTAssertEqual(folds[1].trainingSubjects, ["K1", "K3"])
    XCTAssertEqual(LOSOFolds.folds(subjects: ["K1", "K1"]), [])
  }
}
