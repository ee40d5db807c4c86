import Foundation
import KneeForceFiles

/// `kneeforce merge`: joins the shard folders of one sweep into `out` (already prepared), as
/// if the sweep had run unsharded. Refuses an incomplete set (naming the missing shards), a
/// shard that did not finish, units present in two folders, and folders whose options or
/// data differ.
public enum SweepMerge {
  public static func merge(_ folders: [URL], into out: URL) throws -> SweepOutcome {
    guard !folders.isEmpty else { throw ExperimentError("no folders to merge") }
    var records: [SweepRecord] = []
    for folder in folders {
      guard let record = try SweepRecord.read(from: folder) else {
        throw ExperimentError("\(folder.path) holds no \(SweepRecord.fileName): not a sweep folder")
      }
      records.append(record)
    }
    let first = records[0]
    for (folder, record) in zip(folders, records).dropFirst() {
      if let why = first.mismatch(with: record) {
        throw ExperimentError(
          "\(folders[0].path) and \(folder.path) are not shards of one sweep: \(why)")
      }
      guard record.shard.count == first.shard.count else {
        throw ExperimentError(
          "\(folders[0].path) is a shard of \(first.shard.count), \(folder.path) of "
            + "\(record.shard.count)")
      }
    }
    var seen: [Int: URL] = [:]
    for (folder, record) in zip(folders, records) {
      if let other = seen[record.shard.index] {
        throw ExperimentError(
          "\(other.path) and \(folder.path) are both shard \(record.shard.index)/"
            + "\(record.shard.count)")
      }
      seen[record.shard.index] = folder
      guard record.complete else {
        throw ExperimentError(
          "\(folder.path) (shard \(record.shard.index)/\(record.shard.count)) did not finish: "
            + "\(record.units.finished) of \(record.units.planned) units; continue it with "
            + "--resume first")
      }
    }
    let missing = (1...first.shard.count).filter { seen[$0] == nil }
    guard missing.isEmpty else {
      throw ExperimentError(
        "incomplete set of shards: missing "
          + missing.map { "\($0)/\(first.shard.count)" }.joined(separator: ", "))
    }

    var entries: [(record: UnitRecord, predictions: UnitPredictions?)] = []
    var owner: [UnitKey: URL] = [:]
    for folder in folders {
      for entry in UnitJournal.all(in: folder) {
        if let other = owner[entry.unit] {
          throw ExperimentError(
            "unit \(entry.unit.folderName) is in both \(other.path) and \(folder.path)")
        }
        owner[entry.unit] = folder
        let predictions =
          entry.files.contains("predictions.csv")
          ? try UnitJournal.predictions(entry.unit, in: folder) : nil
        entries.append((entry, predictions))
      }
    }
    let units = out.appendingPathComponent("units")
    try FileManager.default.createDirectory(at: units, withIntermediateDirectories: true)
    for (key, folder) in owner.sorted(by: { $0.key < $1.key }) {
      try FileManager.default.copyItem(
        at: UnitJournal.folder(folder, key), to: UnitJournal.folder(out, key))
    }
    let rows = ResultsTable.rows(entries, selectingAmong: first.options.selectionSets)
    try Sweep.writeSelection(entries, options: first.options, out: out)
    try AtomicFile.write(ResultsTable.csv(rows), to: out.appendingPathComponent("results.csv"))
    var record = first
    record.shard = SweepRecord.Shard(index: 1, count: 1)
    record.mergedFrom = folders.map(\.path)
    record.units = SweepRecord.Units(
      planned: records.reduce(0) { $0 + $1.units.planned }, finished: entries.count,
      failed: entries.filter { $0.record.failed }.count)
    record.timings.seconds = records.reduce(0) { $0 + $1.timings.seconds }
    record.timings.trainingSeconds = records.reduce(0) { $0 + $1.timings.trainingSeconds }
    record.timings.baselineSeconds = records.reduce(0) { $0 + $1.timings.baselineSeconds }
    record.complete = true
    let summary = ResultsTable.summary(rows, title: Sweep.summaryTitle(record))
    try AtomicFile.write(summary, to: out.appendingPathComponent("summary.md"))
    try record.write(to: out)
    return SweepOutcome(
      record: record, rows: rows, failed: entries.filter { $0.record.failed }.map(\.record.unit),
      summary: summary,
      pooledSummary: ResultsTable.summary(rows, title: Sweep.summaryTitle(record), pooledOnly: true)
    )
  }
}
