import ArgumentParser
import KneeForceData

struct CheckCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check",
    abstract: "Check a dataset folder and summarise it.",
    discussion: """
      Reads manifest.csv, every trial file and events.csv of DATA, prints a summary \
      (subjects, activities, channels, sample rates, durations, force ranges in body weights) \
      and every problem as FILE:LINE:COLUMN: error|warning: message. COLUMN is the CSV field \
      number, as in a spreadsheet. Exits with status 1 when there is any error; warnings \
      (such as short gaps, which are interpolated) do not fail.
      """)

  @Argument(help: "The dataset folder (with manifest.csv).")
  var data: String

  @Option(
    name: .customLong("max-gap"),
    help: """
      Longest run of missing samples (empty or NaN) that is interpolated; longer is an \
      error (0-1000000).
      """)
  var maxGap: Int = TrialReader.defaultMaxGap

  func validate() throws {
    try checkRange(maxGap, 0...1_000_000, "--max-gap")
  }

  func run() throws {
    let report = DatasetChecker(maxGap: maxGap).check(folder: data)
    print(report.summary.render())
    if !report.diagnostics.isEmpty {
      print("")
      print("Problems")
      for diagnostic in report.diagnostics { print(diagnostic.description) }
    }
    if report.diagnostics.hasErrors { throw ExitCode(1) }
  }
}
