import ArgumentParser
import Foundation
import KneeForceData
import KneeForceFiles

struct SynthCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "synth",
    abstract: "Write a synthetic cohort (clearly labelled, not patient data) as a dataset folder.",
    discussion: """
      Subjects walk, climb and descend stairs, descend a ramp, squat and stand up from a chair. \
      Targets come from a simple mechanical knee model (docs/SYNTHETIC_COHORT.md): muscle \
      forces driven by the EMG envelopes through activation dynamics, plus the ground \
      reaction force, split medially and laterally by the knee adduction moment and the \
      subject's alignment. The same options always write the same files.
      """)

  @Option(
    help: """
      Output folder: created, or an empty folder. The folder is written whole (built beside \
      it and renamed when complete) and marked with .kneeforce-out.json.
      """)
  var out: String

  @Flag(help: "Replace the folder if it holds an earlier kneeforce output (never another folder).")
  var force = false

  @Option(help: "Number of subjects (\(Self.subjectRange.helpText)).")
  var subjects: Int = 6

  @Option(help: "Trials per subject and activity (\(Self.trialRange.helpText)).")
  var trials: Int = 5

  @Option(help: "Random seed (0-\(UInt64.max)).")
  var seed: UInt64 = 0

  @Option(
    help: """
      realistic: as hard as a real cohort (subject-specific offsets, gains and hidden \
      mechanics, stride-to-stride variation; docs/SYNTHETIC_COHORT.md); none: a clean signal.
      """)
  var nuisance: SyntheticCohortOptions.Nuisance = .realistic

  @Option(help: "Sample rate in Hz (20-5000).")
  var rate: Double = 100

  static let subjectRange = 1...1000
  static let trialRange = 1...100

  func validate() throws {
    try checkRange(subjects, Self.subjectRange, "--subjects")
    try checkRange(trials, Self.trialRange, "--trials")
    guard rate.isFinite else { throw ValidationError("--rate must be a number, got \(rate)") }
    try checkRange(rate, 20...5000, "--rate")
    try asUsageError {
      try OutputFolder.check(out, command: "synth", mode: force ? .force : .fresh)
    }
  }

  func run() throws {
    let options = SyntheticCohortOptions(
      subjects: subjects, trials: trials, seed: seed, nuisance: nuisance, sampleRate: rate)
    let start = Date()
    let dataset: Dataset
    do {
      dataset = try SyntheticCohort.generate(options)
    } catch let error as SyntheticCohort.OptionsError {
      throw ValidationError(error.description)
    }
    let generated = Date()
    try SyntheticCohort.write(
      dataset, options: options, to: out, command: "synth", mode: force ? .force : .fresh)
    let written = Date()
    let samples = dataset.trials.reduce(0) { $0 + $1.sampleCount }
    print(
      "Wrote a SYNTHETIC cohort to \(out): \(dataset.subjects.count) subjects, "
        + "\(dataset.trials.count) trials, \(samples) samples at \(rate) Hz, seed \(seed), "
        + "nuisance \(nuisance)")
    print(
      "Generated in \(String(format: "%.3f", generated.timeIntervalSince(start))) s, written in "
        + "\(String(format: "%.3f", written.timeIntervalSince(generated))) s")
    print("Check it with: kneeforce check \(out)")
  }
}
