/// KneeForceData reads, checks, featurises and synthesises datasets in the KneeForce dataset
/// format (docs/DATASET_FORMAT.md). It depends on Foundation only, so that importers, the
/// trainer and the command line tool can share one definition of what a valid dataset is.
public enum KneeForceData {
  /// The version of the folder format this module reads and writes.
  public static let formatVersion = 1
}
