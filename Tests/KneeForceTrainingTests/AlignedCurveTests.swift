import Foundation
import KneeForceData
import XCTest

@testable import KneeForceTraining

/// The aligned-curve baseline on hand-made sequences whose events and curves are known, and
/// the per-subject z-scores of `ridge_subject`.
final class AlignedCurveTests: XCTestCase {
  static let length = 101

  /// A vertical GRF in BW with stance (1.03) on the given half-open step ranges and swing
  /// (-0.97) elsewhere: each crossing of 0.03 BW lies half-way between two samples.
  static func vertical(stance: [Range<Int>]) -> [Float] {
    (0..<length).map { t in stance.contains { $0.contains(t) } ? 1.03 : -0.97 }
  }

  /// Appends a sequence with `vertical` as its one input and `targets(t)` as its targets.
  static func append(
    _ set: inout SequenceSet, subject: String, activity: String, vertical: [Float],
    targets: (Double) -> [Double]
  ) {
    set.inputs += vertical
    for t in 0..<length { set.targets += targets(Double(t)).map { Float($0) } }
    set.subjects.append(subject)
    set.activities.append(activity)
    set.trialIDs.append("\(subject)_\(activity)_\(set.count)")
    set.startTimes.append(0)
    set.endTimes.append(1)
  }

  /// Training: A (toe-off at step 59.5, targets 2t, t, 3t) and B (70.5; 0, t, t), both
  /// walking, in hundredths of BW; a squat of A. Then C's walking (toe-off 54.5) and squat,
  /// whose targets are NaN: the prediction must never read them.
  static func handMade() -> SequenceSet {
    var set = SequenceSet(length: length, inputChannels: ["grf.vertical"])
    append(&set, subject: "A", activity: "walking", vertical: vertical(stance: [0..<60])) {
      [2 * $0 / 100, $0 / 100, 3 * $0 / 100]
    }
    append(&set, subject: "B", activity: "walking", vertical: vertical(stance: [0..<71])) {
      [0, $0 / 100, $0 / 100]
    }
    append(&set, subject: "A", activity: "squat", vertical: vertical(stance: [0..<101])) { _ in
      [0.5, 1, 1.5]
    }
    let unknown: (Double) -> [Double] = { _ in [.nan, .nan, .nan] }
    append(
      &set, subject: "C", activity: "walking", vertical: vertical(stance: [0..<55]),
      targets: unknown)
    append(
      &set, subject: "C", activity: "squat", vertical: vertical(stance: [0..<101]),
      targets: unknown)
    // Two steps: not the template's pattern of one toe-off.
    append(
      &set, subject: "C", activity: "walking", vertical: vertical(stance: [0..<30, 50..<80]),
      targets: unknown)
    append(
      &set, subject: "C", activity: "stairs", vertical: vertical(stance: [0..<55]),
      targets: unknown)
    return set
  }

  func assertSteps(
    _ events: [GaitPhaseEvent], _ steps: [Double], file: StaticString = #filePath,
    line: UInt = #line
  ) {
    XCTAssertEqual(events.count, steps.count, "\(events)", file: file, line: line)
    for (e, s) in zip(events, steps) {
      XCTAssertEqual(e.step, s, accuracy: 1e-6, "\(events)", file: file, line: line)
    }
  }

  func testToeOffsAndHeelStrikesIgnoreNoiseAndSequenceEnds() {
    let cycle = Self.vertical(stance: [0..<60])
    XCTAssertEqual(AlignedCurve.events(vertical: cycle).map(\.kind), [.toeOff])
    XCTAssertEqual(AlignedCurve.events(vertical: cycle)[0].step, 59.5, accuracy: 1e-6)
    // A one-sample dip in stance, noise across the threshold before toe-off, a cycle that
    // starts just below the threshold and the next heel strike two steps before the end.
    var noisy = cycle
    noisy[20] = 0.01
    noisy[56] = 0.02
    noisy[57] = 0.05
    noisy[0] = 0.02
    noisy[99] = 1.03
    noisy[100] = 1.03
    let found = AlignedCurve.events(vertical: noisy)
    XCTAssertEqual(found.map(\.kind), [.toeOff], "\(found)")
    // The drop at 56 does not hold (57 is above again); the one from 59 to 60 does.
    XCTAssertEqual(found.first?.step ?? 0, 59.5, accuracy: 1e-6)

    let trial = Self.vertical(stance: [0..<20, 35..<55, 70..<90])
    let all = AlignedCurve.events(vertical: trial)
    XCTAssertEqual(all.map(\.kind), [.toeOff, .heelStrike, .toeOff, .heelStrike, .toeOff])
    assertSteps(all, [19.5, 34.5, 54.5, 69.5, 89.5])
    var set = SequenceSet(length: Self.length, inputChannels: ["grf.vertical"])
    Self.append(&set, subject: "S", activity: "walking", vertical: trial) { _ in [0, 0, 0] }
    assertSteps(
      AlignedCurve.events(in: set, 0, kinds: AlignedEvents.toeOff.kinds), [19.5, 54.5, 89.5])
    assertSteps(
      AlignedCurve.events(in: set, 0, kinds: AlignedEvents.heelStrike.kinds), [34.5, 69.5])
    XCTAssertEqual(
      AlignedCurve.events(in: set, 0, kinds: AlignedEvents.toeOffHeelStrike.kinds), all)
    XCTAssertEqual(AlignedCurve.events(in: set, 0, kinds: AlignedEvents.none.kinds), [])

    XCTAssertEqual(AlignedEvents(argument: "heel_strike,toe_off"), .toeOffHeelStrike)
    XCTAssertEqual(AlignedEvents(argument: "toe_off"), .toeOff)
    XCTAssertEqual(AlignedEvents(argument: "none"), AlignedEvents.none)
    XCTAssertNil(AlignedEvents(argument: "toe_of"))
    XCTAssertNil(AlignedEvents(argument: "none,toe_off"))
  }

  func testTemplateIsWarpedToEachSequencesOwnToeOff() throws {
    let set = Self.handMade()
    let curve = try AlignedCurve(sequences: set, training: [0, 1, 2])
    // Template toe-off: (59.5 + 70.5) / 2 = 65. Template step u is step phiA(u) of A and
    // phiB(u) of B; C's step t is template step psi(t). Every curve here is linear in the
    // step between knots that fall on whole template steps, so interpolation is exact.
    func psi(_ t: Double) -> Double { t <= 54.5 ? t * 65 / 54.5 : 65 + (t - 54.5) * 35 / 45.5 }
    func phiA(_ u: Double) -> Double { u <= 65 ? u * 59.5 / 65 : 59.5 + (u - 65) * 40.5 / 35 }
    func phiB(_ u: Double) -> Double { u <= 65 ? u * 70.5 / 65 : 70.5 + (u - 65) * 29.5 / 35 }
    let predicted = curve.predict(set, [3])
    XCTAssertEqual(predicted.count, Self.length * 3)
    for t in 0..<Self.length {
      let u = psi(Double(t))
      let expected = [
        (2 * phiA(u) + 0) / 200, (phiA(u) + phiB(u)) / 200, (3 * phiA(u) + phiB(u)) / 200,
      ]
      for c in 0..<3 {
        XCTAssertEqual(
          Double(predicted[t * 3 + c]), expected[c], accuracy: 1e-5, "step \(t), target \(c)")
      }
    }
  }

  func testSequencesWithoutTheTemplatesEventsGetThePlainMeanCurve() throws {
    let set = Self.handMade()
    let curve = try AlignedCurve(sequences: set, training: [0, 1, 2])
    let plain = try AlignedCurve(sequences: set, training: [0, 1, 2], events: .none)
    let walkingMean = (0..<Self.length).flatMap { t -> [Float] in
      [Float(t) / 100, Float(t) / 100, Float(2 * t) / 100]
    }
    let squatMean = (0..<Self.length).flatMap { _ -> [Float] in [0.5, 1, 1.5] }
    let everyMean = (0..<Self.length).flatMap { t -> [Float] in
      let u = Float(t) / 300
      return [2 * u + 0.5 / 3, 2 * u + 1 / 3, 4 * u + 0.5]
    }
    XCTAssertLessThan(maxRelativeError(curve.predict(set, [4]), squatMean), 1e-6, "squat")
    XCTAssertLessThan(maxRelativeError(curve.predict(set, [5]), walkingMean), 1e-6, "two steps")
    XCTAssertLessThan(maxRelativeError(curve.predict(set, [6]), everyMean), 1e-6, "no stairs")
    XCTAssertLessThan(maxRelativeError(plain.predict(set, [3]), walkingMean), 1e-6, "none")
    XCTAssertGreaterThan(maxRelativeError(curve.predict(set, [3]), walkingMean), 0.03)
    // Without a vertical GRF there are no events.
    var renamed = set
    renamed.inputChannels = ["grf.anterior"]
    let blind = try AlignedCurve(sequences: renamed, training: [0, 1, 2])
    XCTAssertEqual(blind.predict(renamed, [3, 4, 5, 6]), plain.predict(set, [3, 4, 5, 6]))
    XCTAssertThrowsError(try AlignedCurve(sequences: set, training: []))
  }

  func testOlderSweepOptionsWithoutAlignedEventsReadAsTheDefault() throws {
    var options = SweepOptions()
    options.alignedEvents = .toeOffHeelStrike
    let data = try JSONEncoder().encode(options)
    XCTAssertEqual(try JSONDecoder().decode(SweepOptions.self, from: data), options)
    var object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    XCTAssertEqual(object["aligned_events"] as? String, "toe_off,heel_strike")
    object["aligned_events"] = nil
    let older = try JSONSerialization.data(withJSONObject: object)
    XCTAssertEqual(try JSONDecoder().decode(SweepOptions.self, from: older), SweepOptions())
    object["epochs"] = nil
    XCTAssertThrowsError(
      try JSONDecoder().decode(
        SweepOptions.self, from: try JSONSerialization.data(withJSONObject: object)))
  }

  func testSubjectZScoresRemoveEachSubjectsOffsetForRidgeSubject() throws {
    var options = SweepOptions()
    options.patience = 0
    var dataset = try SyntheticCohort.generate(
      SyntheticCohortOptions(subjects: 4, trials: 1, seed: 3, activities: [.walking, .squat]))
    dataset.folder = "offsets"
    let data = try SweepData(dataset: dataset, options: options)
    // The same cohort with a different constant added to channel 2 of each subject: -3 to
    // +3 times that channel's SD over everyone.
    var shiftedSet = data.sequences
    let width = shiftedSet.inputWidth
    let sd = try Normalizer(fitting: data.sequences).std[2]
    for row in 0..<(shiftedSet.count * shiftedSet.length) {
      let subject = shiftedSet.subjects[row / shiftedSet.length]
      let k = Float(try XCTUnwrap(data.subjects.firstIndex(of: subject)))
      shiftedSet.inputs[row * width + 2] += (2 * k - 3) * sd
    }
    let shifted = SweepData(sequences: shiftedSet)

    // Every subject's channels have mean 0 and SD 1 (or the floor) on its own sequences.
    let normalized = try shifted.subjectNormalized()
    XCTAssertEqual(normalized.sequences.targets, data.sequences.targets)
    for subject in data.subjects {
      let z = try Normalizer(
        fitting: normalized.sequences, indices: normalized.indices(subjects: [subject]))
      for c in 0..<width {
        XCTAssertEqual(z.mean[c], 0, accuracy: 1e-4, "\(subject) \(z.channels[c])")
        XCTAssertTrue(abs(z.std[c] - 1) < 1e-3 || z.std[c] <= 1e-3, "\(subject) \(z.std[c])")
      }
    }

    let plan = try UnitPlanner.plan(data: data, options: options)
    let unit = try XCTUnwrap(
      plan.first { $0.key.model == "ridge_subject" && $0.key.features == "all" })
    func predicted(_ d: SweepData) throws -> [Float] {
      try Baselines.ridge(data: d, unit: unit, options: options).predictions.sequences
        .flatMap(\.predicted)
    }
    let ridgeSubject = try predicted(try data.subjectNormalized())
    XCTAssertLessThan(
      maxRelativeError(try predicted(normalized), ridgeSubject), 1e-4,
      "ridge_subject must not see a per-subject constant offset")
    let ridge = try predicted(data)
    XCTAssertGreaterThan(
      maxRelativeError(try predicted(shifted), ridge), 1e-2,
      "plain ridge does see it (else this test shows nothing)")
    XCTAssertGreaterThan(maxRelativeError(ridgeSubject, ridge), 1e-3)
  }
}
