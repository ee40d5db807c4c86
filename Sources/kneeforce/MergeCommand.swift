import ArgumentParser
import Foundation
import KneeForceFiles
import KneeForceTraining

struct MergeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "merge",
    abstract: "Join the shard folders of one sweep (--shard I/N) into one sweep folder.",
    discussion: """
      Gives the same results.csv, byte for byte, as the sweep run unsharded. Refuses an \
      incomplete set of shards (naming the missing ones), a shard that did not finish, a unit \
      present in two folders, and folders whose options or data differ. Times in sweep.json \
      are the shards' sums.
      """)

  @Argument(help: "The shard folders (OUT of each `kneeforce sweep --shard I/N`).")
  var folders: [String]

  @Option(help: "Output folder: created, or empty, or an earlier output with --force.")
  var out: String

  @Flag(help: "Replace the contents of OUT if it holds an earlier kneeforce output.")
  var force = false

  func validate() throws {
    guard !folders.isEmpty else { throw ValidationError("give the shard folders to merge") }
    try asUsageError {
      try OutputFolder.check(out, command: "merge", mode: force ? .force : .fresh)
    }
    let target = URL(fileURLWithPath: out).standardizedFileURL.path
    if folders.contains(where: { URL(fileURLWithPath: $0).standardizedFileURL.path == target }) {
      throw ValidationError("--out must not be one of the shard folders")
    }
  }

  func run() throws {
    let started = Date()
    let inputs = folders.map { URL(fileURLWithPath: $0) }
    // Check the shards before creating anything.
    let folder = try OutputFolder.writeWhole(out, command: "merge", mode: force ? .force : .fresh) {
      staging in
      let outcome = try SweepMerge.merge(inputs, into: staging)
      print(outcome.pooledSummary)
    }
    print("Merged \(inputs.count) shards into \(folder.path)")
    print("Total time: \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
  }
}
