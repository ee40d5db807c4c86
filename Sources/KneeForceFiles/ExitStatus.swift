/// One exit-status scheme for every command, so that scripts and Slurm can tell a bad
/// argument from bad data from a Ctrl-C. Documented in the README ("Exit status").
public enum ExitStatus {
  /// Everything asked for was done.
  public static let ok: Int32 = 0
  /// An error in the data, a file or the computation (including a sweep with failed units).
  public static let failure: Int32 = 1
  /// A usage error: an unknown option, a value out of its range; the command's usage follows.
  public static let usage: Int32 = 64
  /// Stopped by SIGINT or SIGTERM; finished results are kept, temporaries removed.
  public static let interrupted: Int32 = Interruption.exitStatus
}
