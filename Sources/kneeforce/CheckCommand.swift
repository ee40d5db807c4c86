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
      number, as in a spreadsheet. Trials are read one at a time, so memory is bounded by the \
      largest trial. Exits with status 1 when there is any error (including a DATA that is \
      missing, a file, or unreadable); warnings (such as short gaps, which are interpolated, \
      or a file without a final newline) do not fail.

      --difficulty adds, for a dataset without errors, how hard it is for leave-one-subject-out \
      prediction without any model, per gait cycle (whole trial for activities without foot \
      strikes) of --activity, RMSE in BW per fold: the training subjects' mean curve, and the \
      held-out subject's own curve from its other trials (a floor that uses the held-out \
      targets, not a method). Compare a synthetic cohort with a real one this way.
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

  @Flag(help: "Also print the mean-curve and own-curve RMSE per leave-one-subject-out fold.")
  var difficulty = false

  @Option(help: "The activity --difficulty measures (a manifest activity value).")
  var activity = "walking"

  func validate() throws {
    try checkRange(maxGap, 0...1_000_000, "--max-gap")
  }

  func run() throws {
    // A missing folder, a file given as the folder, an unreadable folder: one line, no summary.
    if let problem = DatasetChecker.folderProblem(data) { throw CommandFailure(problem) }
    // Streams the trials: memory is bounded by the largest trial, not the dataset.
    let report = DatasetChecker(maxGap: maxGap).scan(folder: data)
    print(report.summary.render())
    if !report.diagnostics.isEmpty {
      print("")
      print("Problems")
      for diagnostic in report.diagnostics { print(diagnostic.description) }
    }
    if report.diagnostics.hasErrors { throw ExitCode(1) }
    if difficulty {
      let dataset = try Dataset.load(data, maxGap: maxGap)
      do {
        let measured = try CohortDifficulty.measure(
          dataset, segmentation: .cycle(length: 101), activity: activity)
        print("")
        print(measured.render())
      } catch let error as CohortDifficulty.MeasureError {
        throw CommandFailure("\(data): --difficulty: \(error)")
      }
    }
  }
}
