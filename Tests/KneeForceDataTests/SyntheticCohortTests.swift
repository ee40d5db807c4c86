import XCTest

@testable import KneeForceData

final class SyntheticCohortTests: XCTestCase {
  /// One shared small cohort: generating is cheap, but not free in a debug build.
  static let cohort: Dataset = {
    (try? SyntheticCohort.generate(SyntheticCohortOptions(subjects: 4, trials: 2, nuisance: .none)))
      ?? Dataset(trials: [])
  }()

  private func peaks(_ activity: String, _ target: String = "kcf.total") -> [Double] {
    Self.cohort.trials.filter { $0.info.activity == activity }.compactMap { trial in
      trial.column(target)?.max().map { $0 / trial.info.bodyWeightN }
    }
  }

  private func mean(_ values: [Double]) -> Double {
    values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
  }

  func testWrittenCohortPassesTheCheckerWithoutErrors() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    for nuisance in SyntheticCohortOptions.Nuisance.allCases {
      let options = SyntheticCohortOptions(subjects: 3, trials: 3, seed: 7, nuisance: nuisance)
      let written = try SyntheticCohort.write(options, to: folder.path + "/\(nuisance)")
      let report = DatasetChecker().check(folder: folder.path + "/\(nuisance)")
      XCTAssertEqual(report.diagnostics.errors, [], "\(nuisance)")
      XCTAssertEqual(report.dataset.trials.count, written.trials.count)
      XCTAssertTrue(report.summary.isSynthetic)
      XCTAssertTrue(report.summary.render().contains("SYNTHETIC"))
      let readme = try String(contentsOfFile: folder.path + "/\(nuisance)/README.txt")
      XCTAssertTrue(readme.hasPrefix("SYNTHETIC DATA"))
      XCTAssertEqual(report.dataset.events.count, written.events.count)
    }
  }

  func testSameSeedGivesTheSameCohortAndAnotherSeedDoesNot() throws {
    let options = SyntheticCohortOptions(
      subjects: 2, trials: 1, seed: 42, nuisance: .realistic,
      activities: [.walking, .squat])
    let first = try SyntheticCohort.generate(options)
    let second = try SyntheticCohort.generate(options)
    XCTAssertEqual(first.trials, second.trials)
    XCTAssertEqual(first.events, second.events)
    XCTAssertEqual(
      first.trials.map(DatasetWriter.trialBytes), second.trials.map(DatasetWriter.trialBytes))
    var other = options
    other.seed = 43
    XCTAssertNotEqual(try SyntheticCohort.generate(other).trials, first.trials)
  }

  func testChannelsSidesWeightsAndLabels() {
    let dataset = Self.cohort
    XCTAssertEqual(dataset.channels, SyntheticCohort.channels)
    XCTAssertEqual(
      SyntheticCohort.emgChannels,
      [
        "emg.rectus_femoris", "emg.vastus_medialis", "emg.vastus_lateralis",
        "emg.tibialis_anterior", "emg.hamstrings_medial", "emg.hamstrings_lateral",
        "emg.gastrocnemius_medial", "emg.gastrocnemius_lateral",
      ])
    XCTAssertEqual(Set(dataset.trials.map(\.info.side)), [.left, .right])
    XCTAssertEqual(dataset.activities.count, 6)
    for trial in dataset.trials {
      XCTAssertEqual(trial.info.extra["synthetic"], "yes")
      XCTAssertTrue((600...1000).contains(trial.info.bodyWeightN))
      XCTAssertEqual(trial.sampleRate, 100, accuracy: 1e-6)
      for channel in SyntheticCohort.emgChannels {
        let values = trial.column(channel) ?? []
        XCTAssertGreaterThanOrEqual(values.min() ?? -1, 0)
        XCTAssertLessThanOrEqual(values.max() ?? 2, 1)
      }
      let gaitLike = SyntheticActivity(rawValue: trial.info.activity)?.isGaitLike ?? false
      let events = dataset.events(for: trial.info.trialID)
      XCTAssertEqual(!events.isEmpty, gaitLike, trial.info.trialID)
      if gaitLike {
        let strikes = events.filter { $0.event == GaitEvent.footStrike }
        XCTAssertGreaterThanOrEqual(strikes.count, 3)
        XCTAssertTrue(events.contains { $0.event == GaitEvent.footOff })
      }
    }
  }

  func testWalkingCyclesLastOneToOnePointThreeSeconds() {
    for (trialID, events) in Self.cohort.events where trialID.contains("_walking_") {
      let strikes = events.filter { $0.event == GaitEvent.footStrike }.map(\.time)
      for k in 1..<strikes.count {
        XCTAssertTrue((0.95...1.4).contains(strikes[k] - strikes[k - 1]), trialID)
      }
    }
  }

  func testWalkingPeaksBetweenTwoAndThreeBodyWeights() {
    let walking = peaks("walking")
    XCTAssertFalse(walking.isEmpty)
    for peak in walking { XCTAssertTrue((2...3).contains(peak), "walking peak \(peak) BW") }
  }

  func testStairsAndSquatsLoadTheKneeMoreThanWalking() {
    let walking = mean(peaks("walking"))
    for activity in ["stair_ascent", "stair_descent", "squat"] {
      XCTAssertGreaterThan(mean(peaks(activity)), walking, activity)
    }
  }

  /// Walking total force has two maxima in stance (loading response, push-off) with a
  /// mid-stance dip between them, the classic shape of instrumented-implant data.
  func testWalkingTotalForceHasADoubleHump() throws {
    let walking = Dataset(
      trials: Self.cohort.trials.filter { $0.info.activity == "walking" },
      events: Self.cohort.events)
    let pipeline = FeaturePipeline(
      options: FeatureOptions(segmentation: .cycle(length: 101)))
    let cycles = try pipeline.sequences(from: walking)
    XCTAssertGreaterThan(cycles.count, walking.trials.count)
    for subject in walking.subjects {
      let set = cycles.subset(subjects: [subject])
      var curve = [Double](repeating: 0, count: 101)
      for i in 0..<set.count {
        for t in 0..<101 {
          curve[t] += Double(set.targets[(i * 101 + t) * 3 + 2]) / Double(set.count)
        }
      }
      let first = curve[5...30].max() ?? 0
      let second = curve[38...60].max() ?? 0
      let valley = curve[25...45].min() ?? 0
      XCTAssertLessThan(valley, 0.9 * min(first, second), "\(subject): \(curve)")
      XCTAssertLessThan(curve[80], 0.5 * first, "swing is lightly loaded")
    }
  }

  /// Varus shifts load medially: the subject whose knee adduction (alignment) is highest
  /// carries a larger medial share than the one whose is lowest.
  func testVarusSubjectsLoadTheMedialCompartmentMore() {
    var shareBySubject: [(alignment: Double, medialShare: Double)] = []
    for subject in Self.cohort.subjects {
      let trials = Self.cohort.trials.filter {
        $0.info.subject == subject && $0.info.activity == "walking"
      }
      var adduction = 0.0
      var medial = 0.0
      var lateral = 0.0
      var count = 0.0
      for trial in trials {
        adduction += (trial.column("kin.knee_adduction") ?? []).reduce(0, +)
        count += Double(trial.sampleCount)
        medial += (trial.column("kcf.medial") ?? []).reduce(0, +)
        lateral += (trial.column("kcf.lateral") ?? []).reduce(0, +)
      }
      shareBySubject.append((adduction / count, medial / (medial + lateral)))
    }
    shareBySubject.sort { $0.alignment < $1.alignment }
    XCTAssertLessThan(
      shareBySubject.first?.medialShare ?? 1, shareBySubject.last?.medialShare ?? 0)
    for entry in shareBySubject {
      XCTAssertTrue((0.3...0.9).contains(entry.medialShare), "\(entry)")
    }
  }

  func testRateOptionAndRealisticTrialCounts() throws {
    let options = SyntheticCohortOptions(
      subjects: 2, trials: 5, seed: 3, nuisance: .realistic, sampleRate: 200,
      activities: [.squat, .walking])
    let dataset = try SyntheticCohort.generate(options)
    XCTAssertEqual(dataset.trials.first?.sampleRate ?? 0, 200, accuracy: 1e-6)
    var counts: [String: Int] = [:]
    for trial in dataset.trials {
      counts["\(trial.info.subject) \(trial.info.activity)", default: 0] += 1
    }
    for count in counts.values { XCTAssertTrue((3...5).contains(count)) }
    XCTAssertEqual(Set(dataset.trials.compactMap { $0.info.extra["session"] }), ["1", "2"])
    XCTAssertThrowsError(try SyntheticCohort.generate(SyntheticCohortOptions(subjects: 0)))
  }
}
