import Foundation
import KneeForceFiles

/// Settings of a synthetic cohort (`kneeforce synth`).
public struct SyntheticCohortOptions: Sendable, Equatable {
  public enum Nuisance: String, Sendable, CaseIterable, Codable {
    /// Clean recordings: only small measurement noise.
    case none
    /// As hard as a real cohort (docs/SYNTHETIC_COHORT.md, "Calibration"): per-subject
    /// marker offsets and knee-axis crosstalk, EMG gains and one weak EMG channel, two
    /// sessions with their own offsets, `trials - 2` to `trials` trials per activity; and
    /// mechanics the signals only partly show: a per-subject medial share, gait strategy,
    /// co-contraction the EMG records only in part, toe-off timing and body size, and
    /// stride-to-stride variation of all of them.
    case realistic
  }

  public var subjects: Int
  /// Trials per subject and activity (with `.realistic`, between `trials - 2` and `trials`).
  public var trials: Int
  public var seed: UInt64
  public var nuisance: Nuisance
  public var sampleRate: Double
  public var activities: [SyntheticActivity]

  public init(
    subjects: Int = 6, trials: Int = 5, seed: UInt64 = 0, nuisance: Nuisance = .realistic,
    sampleRate: Double = 100, activities: [SyntheticActivity] = SyntheticActivity.allCases
  ) {
    self.subjects = subjects
    self.trials = trials
    self.seed = seed
    self.nuisance = nuisance
    self.sampleRate = sampleRate
    self.activities = activities
  }
}

/// A clearly labelled synthetic cohort in the dataset format, for testing the pipeline and
/// the models end to end without patient data. Targets come from `KneeLoadModel`, a simple
/// mechanical model (docs/SYNTHETIC_COHORT.md), never from noise around a template.
public enum SyntheticCohort {
  public static let kinematicChannels = [
    "kin.hip_flexion", "kin.hip_adduction", "kin.knee_flexion", "kin.knee_adduction",
    "kin.ankle_flexion",
  ]
  public static let grfChannels = ["grf.vertical", "grf.anterior", "grf.medial"]
  public static var emgChannels: [String] { KneeLoadModel.muscles.map { "emg." + $0 } }
  public static var channels: [String] {
    kinematicChannels + grfChannels + emgChannels + ChannelConventions.targetChannels
  }

  /// Fork labels of the `.realistic` mechanics, far above every other label (at most 1000
  /// subjects), so that drawing them leaves the streams of a `.none` cohort as they were.
  static let mechanicsStream: UInt64 = 1 << 40
  static let strideStream: UInt64 = 1 << 41

  public enum OptionsError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    public var description: String {
      switch self {
      case let .invalid(message): return message
      }
    }
  }

  /// Generates the cohort in memory; the same options always give the same numbers.
  public static func generate(_ options: SyntheticCohortOptions) throws -> Dataset {
    guard (1...1000).contains(options.subjects) else {
      throw OptionsError.invalid("--subjects must be between 1 and 1000")
    }
    guard (1...100).contains(options.trials) else {
      throw OptionsError.invalid("--trials must be between 1 and 100")
    }
    guard options.sampleRate >= 20, options.sampleRate <= 5000 else {
      throw OptionsError.invalid("--rate must be between 20 and 5000 Hz")
    }
    guard !options.activities.isEmpty else {
      throw OptionsError.invalid("at least one activity is needed")
    }
    let realistic = options.nuisance == .realistic
    let root = SeededRandom(seed: options.seed)
    let subjects = SyntheticSubject.cohort(
      count: options.subjects, realisticNuisance: realistic, random: root)
    var trials: [Trial] = []
    var events: [String: [GaitEvent]] = [:]
    for (s, subject) in subjects.enumerated() {
      var sessions = root.fork(10_000 + UInt64(s))
      let sessionEffects = (0..<2).map { session in
        SessionEffect.draw(&sessions, active: realistic && session == 1)
      }
      for (a, activity) in options.activities.enumerated() {
        var countRandom = root.fork(20_000 + UInt64(s * 64 + a))
        let count =
          realistic
          ? countRandom.integer(max(1, options.trials - 2), options.trials) : options.trials
        for k in 0..<count {
          let label = 1_000_000 + UInt64(s) * 10_000 + UInt64(a) * 100 + UInt64(k)
          var rng = root.fork(label)
          var strides = realistic ? root.fork(strideStream + label) : nil
          let session = realistic && k >= (count + 1) / 2 ? 1 : 0
          let trialID = "\(subject.id)_\(activity.rawValue)_\(twoDigits(k + 1))"
          let (trial, trialEvents) = makeTrial(
            id: trialID, activity: activity, subject: subject, session: session,
            effect: sessionEffects[session], options: options, rng: &rng, strides: &strides)
          trials.append(trial)
          if !trialEvents.isEmpty { events[trialID] = trialEvents }
        }
      }
    }
    return Dataset(
      folder: "", extraColumns: ["synthetic", "session"], trials: trials, events: events)
  }

  /// Generates the cohort and writes it, with a README.txt, into `folder`.
  @discardableResult
  public static func write(
    _ options: SyntheticCohortOptions, to folder: String, command: String = "synth",
    mode: OutputFolder.Mode = .fresh
  ) throws -> Dataset {
    var dataset = try generate(options)
    try write(dataset, options: options, to: folder, command: command, mode: mode)
    dataset.folder = folder
    return dataset
  }

  /// Writes a generated cohort and its README.txt as the folder `folder`, published whole
  /// (see `DatasetWriter.write`).
  public static func write(
    _ dataset: Dataset, options: SyntheticCohortOptions, to folder: String,
    command: String = "synth", mode: OutputFolder.Mode = .fresh
  ) throws {
    let readme = readmeText(options: options, dataset: dataset)
    try DatasetWriter.write(
      dataset, to: folder, command: command, mode: mode,
      extraFiles: [("README.txt", Array(readme.utf8))])
  }

  private static func twoDigits(_ k: Int) -> String { k < 10 ? "0\(k)" : "\(k)" }

  /// A second recording session: markers re-applied, electrodes re-placed, plates re-zeroed.
  struct SessionEffect {
    var kinematicOffsets: [Double]
    var emgGain: Double
    var forceGain: Double

    static func draw(_ rng: inout SeededRandom, active: Bool) -> SessionEffect {
      let offsets = (0..<5).map { _ in rng.normal(0, 2.5) }
      let emg = rng.uniform(0.7, 1.3)
      let force = rng.uniform(0.98, 1.02)
      guard active else {
        return SessionEffect(kinematicOffsets: [0, 0, 0, 0, 0], emgGain: 1, forceGain: 1)
      }
      return SessionEffect(kinematicOffsets: offsets, emgGain: emg, forceGain: force)
    }
  }

  static func makeTrial(
    id: String, activity: SyntheticActivity, subject: SyntheticSubject, session: Int,
    effect: SessionEffect, options: SyntheticCohortOptions, rng: inout SeededRandom,
    strides: inout SeededRandom?
  ) -> (Trial, [GaitEvent]) {
    let rate = options.sampleRate
    var variation = TrialVariation.draw(&rng)
    if var random = strides {
      variation.speed *= 1 + random.normal(0, 0.03)
      variation.cycles = (0..<8).map { _ in
        CycleVariation.draw(&random, variability: subject.mechanics.variability)
      }
      strides = random
    }
    let motion = MotionGenerator.motion(
      activity, subject: subject, variation: variation, sampleRate: rate)
    let emg = KneeLoadModel.excitations(motion, subject: subject, sampleRate: rate)
    let recorded =
      strides == nil
      ? emg : KneeLoadModel.excitations(motion, subject: subject, sampleRate: rate, recorded: true)
    let loads = KneeLoadModel.contactForces(
      motion, emg: emg, subject: subject, sampleRate: rate)
    let weight = subject.bodyWeightN
    let nuisance = subject.nuisance
    let n = motion.time.count

    var values: [[Double]] = []
    let angles = [
      motion.hipFlexion, motion.hipAdduction, motion.kneeFlexion, motion.kneeAdduction,
      motion.ankleFlexion,
    ]
    for (c, angle) in angles.enumerated() {
      let offset = nuisance.kinematicOffsets[c] + effect.kinematicOffsets[c]
      let crosstalk = c == 3 ? nuisance.kneeAxisCrosstalk : 0
      let gain = nuisance.kinematicGains[c]
      values.append(
        (0..<n).map { i in
          angle[i] * gain + offset + crosstalk * motion.kneeFlexion[i] + rng.normal(0, 0.2)
        })
    }
    for force in [motion.grfVertical, motion.grfAnterior, motion.grfMedial] {
      values.append(
        force.map { $0 * weight * effect.forceGain + rng.normal(0, 2) })
    }
    for (m, envelope) in recorded.enumerated() {
      let gain = nuisance.emgGains[m] * effect.emgGain
      let weak = nuisance.weakEMGChannel == m
      values.append(
        recordedEMG(
          envelope, gain: gain, weak: weak, noisy: strides != nil, rate: rate, rng: &rng))
    }
    for target in [loads.medial, loads.lateral, loads.total] {
      values.append(target.map { max(0, ($0 + rng.normal(0, 0.01)) * weight) })
    }

    let extra = ["synthetic": "yes", "session": "\(session + 1)"]
    let info = TrialInfo(
      trialID: id, subject: subject.id, activity: activity.rawValue, side: subject.side,
      bodyWeightN: weight, file: "trials/\(id).csv", extra: extra)
    let trial = Trial(info: info, time: motion.time, channels: channels, values: values)
    let events = motion.events.map { GaitEvent(trialID: id, event: $0.0, time: $0.1) }
    return (trial, events)
  }

  /// A measured envelope: gain, slowly varying multiplicative noise (an envelope is itself a
  /// low-passed signal), a small baseline and clipping to 0..1. A weak channel is mostly noise.
  /// `noisy` (`--nuisance realistic`): the wobble and baseline noise of surface EMG in gait.
  private static func recordedEMG(
    _ envelope: [Double], gain: Double, weak: Bool, noisy: Bool, rate: Double,
    rng: inout SeededRandom
  ) -> [Double] {
    let smoothing = 1 - exp(-1 / (rate * 0.05))
    var wobble = 0.0
    let noise = (weak ? 0.03 : 0.01) * (noisy ? 2 : 1)
    let wobbleSD = noisy ? 0.6 : 0.3
    return envelope.map { value in
      wobble += smoothing * (rng.normal(0, wobbleSD) - wobble)
      let measured = gain * value * (1 + wobble) + 0.005 + abs(rng.normal(0, noise))
      return min(max(measured, 0), 1)
    }
  }

  static func readmeText(options: SyntheticCohortOptions, dataset: Dataset) -> String {
    var lines = [
      "SYNTHETIC DATA - NOT MEASURED FROM ANY PERSON",
      "",
      "This folder was generated by `kneeforce synth` (KneeForce) from a simple mechanical",
      "model of the knee, to test the data pipeline and the models end to end. It is a",
      "KneeForce dataset (docs/DATASET_FORMAT.md); every manifest row carries synthetic = yes.",
      "Do not mix it with patient data or report results on it as if it were measured.",
      "",
      "Settings: subjects \(options.subjects), trials \(options.trials), seed \(options.seed), "
        + "nuisance \(options.nuisance.rawValue), rate \(options.sampleRate) Hz",
      "Trials: \(dataset.trials.count); activities: "
        + options.activities.map(\.rawValue).joined(separator: ", "),
      "",
      "Channels (right-leg convention; the manifest's side is the nominal instrumented side):",
      "  kin.*  joint angles, degrees",
      "  grf.*  ground reaction force of the instrumented leg, N",
      "  emg.*  EMG linear envelopes, 0..1",
      "  kcf.*  tibiofemoral contact force (medial, lateral, total), N: the targets",
      "",
      "Gait-like activities (walking, stairs, ramp) have foot_strike/foot_off events in",
      "events.csv. The model, its parameters and its limits are described in",
      "docs/SYNTHETIC_COHORT.md of the KneeForce repository.",
    ]
    lines.append("")
    return lines.joined(separator: "\n")
  }
}
