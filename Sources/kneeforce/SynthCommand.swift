import ArgumentParser
import Foundation
import KneeForceData

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

  @Option(help: "Output folder (created; existing files with the same names are replaced).")
  var out: String

  @Option(help: "Number of subjects.")
  var subjects: Int = 6

  @Option(help: "Trials per subject and activity.")
  var trials: Int = 5

  @Option(help: "Random seed.")
  var seed: UInt64 = 0

  @Option(help: "Recording nuisances: none or realistic.")
  var nuisance: String = "none"

  @Option(help: "Sample rate in Hz.")
  var rate: Double = 100

  func validate() throws {
    guard SyntheticCohortOptions.Nuisance(rawValue: nuisance) != nil else {
      throw ValidationError("--nuisance must be none or realistic, got '\(nuisance)'")
    }
  }

  func run() throws {
    let options = SyntheticCohortOptions(
      subjects: subjects, trials: trials, seed: seed,
      nuisance: SyntheticCohortOptions.Nuisance(rawValue: nuisance) ?? .none, sampleRate: rate)
    let start = Date()
    let dataset: Dataset
    do {
      dataset = try SyntheticCohort.generate(options)
    } catch let error as SyntheticCohort.OptionsError {
      throw ValidationError(error.description)
    }
    let generated = Date()
    try SyntheticCohort.write(dataset, options: options, to: out)
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
