import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceModels

/// What a finished sweep reports to its command.
public struct SweepOutcome: Sendable {
  public var record: SweepRecord
  public var rows: [ResultRow]
  public var failed: [UnitKey]
  /// summary.md.
  public var summary: String
  /// The same tables for activity `all` only, for the terminal.
  public var pooledSummary: String
}

/// Runs a sweep (or `kneeforce train`, which is a sweep over chosen folds) into `out`, a
/// folder already prepared by `OutputFolder.prepare`: plans the units, keeps those of the
/// shard, skips those journalled by an earlier run when resuming, runs the baselines, then
/// the networks fold batch by fold batch, rewriting `results.csv` after every unit and
/// `summary.md` and `sweep.json` at the end (docs/SWEEP_OUTPUTS.md).
public enum Sweep {
  public static func run(
    dataset: Dataset, options: SweepOptions, settings: SweepRunSettings,
    heldOut: [String?]? = nil, backend: ComputeBackend, out: URL,
    progress: SweepProgress = SweepProgress()
  ) throws -> SweepOutcome {
    let started = Date()
    var options = options
    options.backend = backend.kind.rawValue
    let data = try SweepData(dataset: dataset, options: options)
    let plan = try UnitPlanner.plan(
      data: data, options: options, heldOut: heldOut,
      includeBaselines: heldOut != [nil] && settings.scoresHeldOut)
    let (index, count) = settings.shard
    let units = ShardAssignment.units(plan, shard: index, of: count)
    // Per-subject z-scores are computed once, for ridge_subject and the networks' store.
    let needsSubject =
      options.normalization == .subject || units.contains { $0.key.model == "ridge_subject" }
    let subjectData = needsSubject ? try data.subjectNormalized() : data
    let networkInputs = options.normalization == .subject ? subjectData : data
    let store = try SequenceStore(
      backend: backend, inputs: networkInputs.sequences.inputs, targets: data.sequences.targets,
      count: data.sequences.count, steps: data.sequences.length,
      channels: data.sequences.inputWidth, outputs: data.sequences.targetWidth)
    let memory = LaneMemory.plan(
      options: options, data: data, units: units, backend: backend,
      foldBatch: settings.foldBatch)

    var record = SweepRecord(
      command: settings.command, options: options,
      heldOut: heldOut.map { $0.map { $0 ?? UnitKey.noSubject } },
      run: SweepRecord.RunInfo(
        device: backend.deviceName, foldBatch: memory.foldBatch,
        plannedMemoryBytes: memory.bytes, threads: (backend as? CPUBackend)?.threads ?? 0),
      data: SweepRecord.DataInfo(dataset: dataset, data: data),
      units: SweepRecord.Units(planned: units.count, finished: 0, failed: 0),
      shard: SweepRecord.Shard(index: index, count: count),
      timings: SweepRecord.Timings(
        started: ISO8601DateFormatter().string(from: started), seconds: 0, trainingSeconds: 0,
        baselineSeconds: 0),
      complete: false)
    if settings.resume, let earlier = try SweepRecord.read(from: out) {
      if let why = earlier.mismatch(with: record) {
        throw ExperimentError(
          "\(out.path) holds a sweep that --resume cannot continue: \(why). Use another "
            + "--out, or --force to start over")
      }
      if earlier.shard != record.shard {
        throw ExperimentError(
          "\(out.path) holds shard \(earlier.shard.index)/\(earlier.shard.count), not "
            + "\(index)/\(count); resume it with --shard \(earlier.shard.index)/\(earlier.shard.count)"
        )
      }
    }

    var results: [UnitKey: (record: UnitRecord, predictions: UnitPredictions?)] = [:]
    if settings.resume {
      for unit in units {
        guard let entry = UnitJournal.read(unit.key, in: out) else { continue }
        let predictions =
          entry.files.contains("predictions.csv")
          ? try UnitJournal.predictions(unit.key, in: out) : nil
        results[unit.key] = (entry, predictions)
      }
    }
    let pending = units.filter { results[$0.key] == nil }
    progress.log(
      "\(data.subjects.count) subjects, \(data.sequences.count) sequences of "
        + "\(data.sequences.length) steps, \(data.sequences.inputWidth) input channels"
        + (record.data.synthetic ? " (SYNTHETIC data)" : "") + "; device \(backend.deviceName)")
    progress.log(
      "\(units.count) units" + (count > 1 ? " in shard \(index)/\(count) (of \(plan.count))" : "")
        + (results.isEmpty ? "" : ", \(results.count) already finished (resumed)")
        + "; fold batch \(memory.foldBatch) units x \(memory.members) member(s), planned device "
        + "memory \(LaneMemory.format(memory.bytes)) of \(LaneMemory.format(memory.available))")
    try record.write(to: out)

    func publish() throws {
      let entries = units.compactMap { results[$0.key] }
      try AtomicFile.write(
        ResultsTable.csv(ResultsTable.rows(entries, selectingAmong: options.selectionSets)),
        to: out.appendingPathComponent("results.csv"))
    }
    func finished(_ entry: UnitRecord, _ predictions: UnitPredictions?) throws {
      results[entry.unit] = (entry, predictions)
      progress.finished(entry)
      try publish()
    }

    // Baselines first: seconds, and the table has something to show early.
    let baselineStart = Date()
    for unit in pending where unit.key.isBaseline {
      try runBaseline(
        unit, data: unit.key.model == "ridge_subject" ? subjectData : data, options: options,
        out: out, onFinished: finished)
    }
    let baselineSeconds = Date().timeIntervalSince(baselineStart)

    let trainingStart = Date()
    let networks = pending.filter { !$0.key.isBaseline }
    progress.plan(networkCost: networks.reduce(0) { $0 + $1.cost })
    var groups: [String] = []
    var byGroup: [String: [PlannedUnit]] = [:]
    for unit in networks {
      if byGroup[unit.group] == nil { groups.append(unit.group) }
      byGroup[unit.group, default: []].append(unit)
    }
    var runner = NetworkRunner(
      data: data, inputs: networkInputs, options: options, backend: backend, store: store,
      dataset: dataset,
      fingerprint: record.data.fingerprint, out: out, progress: progress, onFinished: finished)
    runner.predictsHeldOut = settings.scoresHeldOut
    for group in groups {
      let list = byGroup[group]!
      for start in stride(from: 0, to: list.count, by: memory.foldBatch) {
        let batch = Array(list[start..<min(start + memory.foldBatch, list.count)])
        progress.beginBatch(cost: batch.reduce(0) { $0 + $1.cost })
        _ = try runner.run(batch)
        progress.endBatch()
      }
    }
    let trainingSeconds = Date().timeIntervalSince(trainingStart)

    try publish()
    let entries = units.compactMap { results[$0.key] }
    let rows = ResultsTable.rows(entries, selectingAmong: options.selectionSets)
    try writeSelection(entries, options: options, out: out)
    let failed = entries.filter { $0.record.failed }.map(\.record.unit)
    let seconds = Date().timeIntervalSince(started)
    record.units.finished = entries.count
    record.units.failed = failed.count
    record.timings.seconds = seconds
    record.timings.trainingSeconds = trainingSeconds
    record.timings.baselineSeconds = baselineSeconds
    record.complete = entries.count == units.count
    let summary = ResultsTable.summary(rows, title: summaryTitle(record))
    try AtomicFile.write(summary, to: out.appendingPathComponent("summary.md"))
    try record.write(to: out)
    return SweepOutcome(
      record: record, rows: rows, failed: failed, summary: summary,
      pooledSummary: ResultsTable.summary(rows, title: summaryTitle(record), pooledOnly: true))
  }

  /// `selection.csv` when the sweep chooses inputs per fold (docs/SWEEP_OUTPUTS.md).
  static func writeSelection(
    _ entries: [(record: UnitRecord, predictions: UnitPredictions?)], options: SweepOptions,
    out: URL
  ) throws {
    guard let sets = options.selectionSets else { return }
    try AtomicFile.write(
      InputSelection.csv(InputSelection.choices(entries, featureSets: sets)),
      to: out.appendingPathComponent("selection.csv"))
  }

  static func summaryTitle(_ record: SweepRecord) -> [String] {
    let o = record.options
    var lines = ["# KneeForce \(record.command): leave-one-subject-out results", ""]
    if record.data.synthetic {
      lines.append("**SYNTHETIC data** (generated by `kneeforce synth`; not patient data).")
      lines.append("")
    }
    lines.append(
      "Data \(record.data.folder) (\(record.data.subjects.count) subjects, "
        + "\(record.data.sequences) sequences); models \(o.models.map(\.rawValue).joined(separator: ", ")) "
        + "and the baselines mean_curve, aligned_curve (events \(o.alignedEvents.rawValue)), ridge "
        + "and ridge_subject; inputs \(o.inputs.joined(separator: ", "))"
        + (o.lofo ? " (LOFO)" : "") + "; \(o.epochs) epochs max, patience \(o.patience), batch "
        + "\(o.batchSize), lr \(o.learningRate), \(o.seeds) seed(s) from \(o.seed)"
        + (o.perActivity ? "; one model per activity" : "") + ".")
    lines.append(
      "Shard \(record.shard.index)/\(record.shard.count); \(record.units.finished) of "
        + "\(record.units.planned) units finished, \(record.units.failed) failed; "
        + String(format: "%.1f", record.timings.seconds) + " s on \(record.run.device).")
    return lines
  }

  static func runBaseline(
    _ unit: PlannedUnit, data: SweepData, options: SweepOptions, out: URL,
    onFinished: (UnitRecord, UnitPredictions?) throws -> Void
  ) throws {
    let started = Date()
    var penalty: Double?
    let predictions: UnitPredictions
    switch unit.key.model {
    case "mean_curve":
      predictions = try Baselines.meanCurve(data: data, unit: unit)
    case "aligned_curve":
      predictions = try Baselines.alignedCurve(
        data: data, unit: unit, events: options.alignedEvents)
    default:
      let ridge = try Baselines.ridge(data: data, unit: unit, options: options)
      predictions = ridge.predictions
      penalty = ridge.penalty
    }
    let folder = UnitJournal.folder(out, unit.key)
    try? FileManager.default.removeItem(at: folder)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try AtomicFile.write(predictions.csv(), to: folder.appendingPathComponent("predictions.csv"))
    let record = UnitRecord(
      unit: unit.key, status: "ok", failure: nil, trainingSubjects: unit.trainingSubjects,
      validationSubject: nil, seeds: [], epochsTrained: [], bestEpochs: [],
      trainingSequences: unit.trainingSequences,
      heldOutActivities: Array(Set(predictions.sequences.map(\.activity))).sorted(),
      seconds: Date().timeIntervalSince(started), files: ["predictions.csv"],
      ridgePenalty: penalty)
    try UnitJournal.write(record, in: out)
    try onFinished(record, predictions)
  }
}

/// The device memory a fold batch needs, and the default `--fold-batch` that fits it: the
/// most units of one (model, feature set) group whose lanes fit half the device's memory
/// (the store included), and never more than 32-bit indexing of the layer kernels allows.
public enum LaneMemory {
  /// Bytes one lane (one member) needs: weights, gradients, Adam moments and the best
  /// copy (5 x parameters), and the activations and their gradients of one mini-batch.
  public static func perLane(_ config: ModelConfig, batch: Int, steps: Int) -> Int {
    let rows = batch * steps
    let activations: Int
    switch config.model {
    case .bilstmMLP:
      let h = config.hidden ?? 64
      activations = rows * ((config.layers ?? 2) * 2 * h * 8 + (config.mlp ?? []).reduce(0, +) * 2)
    case .tcn:
      activations =
        rows * (config.levels ?? 4) * (config.channels ?? 64) * (2 * (config.kernelSize ?? 3) + 6)
    }
    return 4
      * (5 * config.parameterCountEstimate + 2
        * (activations + rows * (config.inputs + config.outputs)))
  }

  public static func plan(
    options: SweepOptions, data: SweepData, units: [PlannedUnit], backend: ComputeBackend,
    foldBatch: Int?
  ) -> (foldBatch: Int, bytes: Int, available: Int, members: Int) {
    let available: Int
    if let cl = backend as? OpenCLBackend {
      available = Int(clamping: cl.device.globalMemoryBytes)
    } else {
      available = Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }
    let store =
      4 * data.sequences.count * data.sequences.length
      * (data.sequences.inputWidth + data.sequences.targetWidth)
    let width = data.sequences.inputWidth
    // Tuned folds may use larger models or batches: size for the largest.
    let variants =
      [options]
      + Set(units.compactMap(\.tuned)).compactMap { try? options.applying($0) }
    let lane =
      variants.flatMap { o in
        o.models.map {
          perLane(o.config($0, inputs: width), batch: o.batchSize, steps: data.sequences.length)
        }
      }.max() ?? 0
    let members = max(units.map(\.members.count).max() ?? options.seeds, 1)
    var groupSize: [String: Int] = [:]
    for unit in units where !unit.key.isBaseline { groupSize[unit.group, default: 0] += 1 }
    let largest = max(groupSize.values.max() ?? 1, 1)
    let fits = max(1, (available / 2 - store) / max(lane * members, 1))
    // The layer kernels index one step's widest tensor of all lanes with 32-bit ints.
    let widest =
      variants.flatMap { o in
        o.models.map {
          LockstepTrainer.widestPerLane(
            o.config($0, inputs: width), batchSize: o.batchSize,
            steps: data.sequences.length, channels: width, outputs: data.sequences.targetWidth)
        }
      }.max() ?? 1
    let indexable = max(1, IndexGuard.limit / max(widest * members, 1))
    let k = min(foldBatch ?? min(largest, fits), indexable)
    return (k, store + min(k, largest) * members * lane, available, members)
  }

  public static func format(_ bytes: Int) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", value, units[unit])
  }
}
