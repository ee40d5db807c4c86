import ArgumentParser
import Foundation
import KneeForceFiles

@main
struct KneeForce: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "kneeforce",
    abstract: "Train and run knee contact force models (biLSTM-MLP, TCN) on OpenCL or CPU.",
    discussion: """
      KneeForce predicts medial, lateral and total tibiofemoral contact force (in body \
      weights) from gait-lab kinematics, ground reaction forces and EMG, with a biLSTM-MLP \
      and a TCN (Derungs et al., Bioengineering 2026). Every command reads the dataset \
      folder format of docs/DATASET_FORMAT.md. Start with `kneeforce demo`.

      Exit status: 0 done; 1 an error in the data, a file or the computation; 64 a usage \
      error (the command's usage follows); 130 interrupted (SIGINT or SIGTERM). Commands \
      that write a folder mark it with .kneeforce-out.json and refuse a non-empty folder \
      without that marker; --force replaces only a marked folder's contents.
      """,
    subcommands: [
      DemoCommand.self,
      SweepCommand.self,
      TuneCommand.self,
      TrainCommand.self,
      PredictCommand.self,
      MergeCommand.self,
      SynthCommand.self,
      CheckCommand.self,
      DevicesCommand.self,
      BenchCommand.self,
      ForwardCommand.self,
      ReportCommand.self,
      C3DCommand.self,
      SlurmCommand.self,
      ImportCommand.self,
    ]
  )

  /// Progress lines reach a log file as they are printed (a killed run's log is not empty),
  /// and Ctrl-C removes temporaries before exiting with 130.
  static func main() {
    setvbuf(stdout, nil, _IOLBF, 0)
    Interruption.install()
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      // Usage errors, --help and explicit exit codes are ArgumentParser's to print; every
      // other error is in the data, a file or the computation: `error: ...`, status 1.
      let isParserError =
        error is ValidationError || error is CleanExit || error is ExitCode
        || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
      guard !isParserError else { exit(withError: error) }
      FileHandle.standardError.write(Data("error: \(error)\n".utf8))
      Foundation.exit(ExitStatus.failure)
    }
  }
}
