import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceModels

/// Trains a fold batch — units of one model and feature set — in lockstep, one lane per
/// (unit, member), and writes each unit's files (docs/SWEEP_OUTPUTS.md) as it finishes.
///
/// Per member: at most `epochs` epochs; after each, the validation loss (the unit's
/// validation subject, dropout off) is compared with the best so far; a strictly lower one
/// saves the weights as the best; `patience` epochs without one stop the member. When all
/// members of all units have stopped, each member's best weights are restored and predict the
/// held-out subject. With `patience == 0` there is no validation and the last epoch is kept.
/// A member whose loss turns non-finite fails its unit (all its members stop); the others go on.
struct NetworkRunner {
  /// Raw sequences: baselines' and residual bases' events are read from them.
  let data: SweepData
  /// The inputs the store holds: `data`, or `data` z-scored per subject.
  let inputs: SweepData
  /// The sweep's options; a fold batch with tuned settings runs with them applied.
  var options: SweepOptions
  let backend: ComputeBackend
  let store: SequenceStore
  let dataset: Dataset
  let fingerprint: String
  let out: URL
  let progress: SweepProgress
  /// False for `kneeforce tune`: members are trained and validated, the held-out subject is
  /// never predicted.
  var predictsHeldOut = true
  /// The tuned settings this runner's options have applied (recorded in unit.json).
  var applied: [String: Double]?
  /// Called with each unit as soon as its files are written.
  let onFinished: (UnitRecord, UnitPredictions?) throws -> Void

  /// Trains `units` together; returns their journal entries and predictions.
  func run(_ units: [PlannedUnit]) throws -> [(record: UnitRecord, predictions: UnitPredictions?)] {
    guard let first = units.first, let kind = ModelConfig.Kind(rawValue: first.key.model) else {
      return []
    }
    precondition(units.allSatisfy { $0.group == first.group })
    if let tuned = first.tuned, !tuned.isEmpty {
      var runner = self
      runner.options = try options.applying(tuned)
      runner.applied = tuned
      var untuned = units
      for i in untuned.indices { untuned[i].tuned = nil }
      return try runner.run(untuned)
    }
    let started = Date()
    let channels = data.channels(of: first.key.features, options: options)
    let config = options.config(kind, inputs: channels.count)
    var lanes: [LaneSpec] = []
    var normalizers: [Normalizer] = []
    // The lanes of unit u: laneRanges[u]; the unit of lane l: unitOf[l].
    var laneRanges: [Range<Int>] = []
    var unitOf: [Int] = []
    var memberOf: [Int] = []
    // Residual bases: one table per distinct training set (seeds share it), fitted on the
    // member's own training subjects, so inner validation never sees its subject's targets.
    var bases: [[Float]] = []
    var baseCurves: [AlignedCurve] = []
    var baseOf: [[Int]: Int] = [:]
    func base(_ training: [Int]) throws -> Int? {
      guard options.residual != .none else { return nil }
      if let b = baseOf[training] { return b }
      let curve = try AlignedCurve(
        sequences: data.sequences, training: training,
        events: options.residual == .meanCurve ? .none : options.alignedEvents)
      bases.append(curve.predict(data.sequences, Array(0..<data.sequences.count)))
      baseCurves.append(curve)
      baseOf[training] = bases.count - 1
      return bases.count - 1
    }
    var laneBase: [Int?] = []
    for (u, unit) in units.enumerated() {
      let training = data.indices(
        subjects: Set(unit.trainingSubjects), activity: unit.key.activities)
      let normalizer =
        options.normalization == .subject
        ? Normalizer(
          channels: channels.map { inputs.sequences.inputChannels[$0] },
          mean: [Float](repeating: 0, count: channels.count),
          std: [Float](repeating: 1, count: channels.count), stdFloor: 1e-6)
        : try data.normalizer(indices: training, channels: channels)
      normalizers.append(normalizer)
      let first = lanes.count
      for member in unit.members {
        let memberTraining = data.indices(
          subjects: Set(member.training), activity: unit.key.activities)
        let b = try base(memberTraining)
        laneBase.append(b)
        lanes.append(
          LaneSpec(
            training: memberTraining,
            validation: member.validation.map {
              data.indices(subjects: [$0], activity: unit.key.activities)
            } ?? [],
            mean: normalizer.mean,
            scale: normalizer.std.map { 1 / max($0, normalizer.stdFloor) },
            seed: options.memberSeed(member.index), base: b))
        unitOf.append(u)
        memberOf.append(member.index)
      }
      laneRanges.append(first..<lanes.count)
    }
    var settings = LockstepOptions()
    settings.learningRate = options.learningRate
    settings.weightDecay = options.weightDecay
    settings.decoupledWeightDecay = options.optimizer == .adamw
    settings.augmentation = options.augmentation
    settings.zeroOutputLayer = options.residual != .none
    settings.maxGradNorm = options.maxGradNorm
    settings.batchSize = options.batchSize
    let trainer = try LockstepTrainer(
      config: config, backend: backend, store: store, channels: channels, lanes: lanes,
      options: settings, bases: bases)

    let laneCount = lanes.count
    var active = [Bool](repeating: true, count: laneCount)
    var best = [Double](repeating: .infinity, count: laneCount)
    var bestEpoch = [Int](repeating: 0, count: laneCount)
    var trained = [Int](repeating: 0, count: laneCount)
    var history: [[(training: Double, validation: Double?)]] = Array(
      repeating: [], count: laneCount)
    var failures: [Int: UnitRecord.Failure] = [:]
    var finished: [(record: UnitRecord, predictions: UnitPredictions?)] = []
    var done = Set<Int>()

    // A unit is written as soon as none of its members trains any more.
    func finalize(_ u: Int) throws {
      let unit = units[u]
      let members = Array(laneRanges[u])
      let folder = UnitJournal.folder(out, unit.key)
      try? FileManager.default.removeItem(at: folder)
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      var files = ["history.csv"]
      try AtomicFile.write(
        historyCSV(
          history: members.map { history[$0] }, bestEpochs: members.map { bestEpoch[$0] },
          seeds: members.map { lanes[$0].seed }),
        to: folder.appendingPathComponent("history.csv"))
      let held =
        predictsHeldOut
        ? unit.heldOut.map { data.indices(subjects: [$0], activity: unit.key.activities) } ?? []
        : []
      var predictions: UnitPredictions?
      if failures[u] == nil {
        if options.patience > 0 {
          for lane in members { try trainer.restoreBest(lane: lane) }
        }
        let memberTraining = unit.members.map(\.training)
        let memberValidation = unit.members.map(\.validation)
        try Checkpoint.save(
          trainer.model, members: members,
          metadata: checkpointMetadata(
            unit, config: config, normalizer: normalizers[u], seeds: members.map { lanes[$0].seed },
            bestEpochs: members.map { bestEpoch[$0] }, memberTraining: memberTraining,
            memberValidation: memberValidation,
            baseCurves: members.compactMap { laneBase[$0].map { baseCurves[$0] } }),
          to: folder.appendingPathComponent("checkpoint.safetensors"))
        files.append("checkpoint.safetensors")
        if !held.isEmpty {
          let outputs = try members.map { try trainer.predict(lane: $0, indices: held) }
          let p = UnitPredictions(set: data.sequences, indices: held, members: outputs)
          try AtomicFile.write(p.csv(), to: folder.appendingPathComponent("predictions.csv"))
          files.append("predictions.csv")
          predictions = p
        }
      }
      let record = UnitRecord(
        unit: unit.key, status: failures[u] == nil ? "ok" : "failed", failure: failures[u],
        trainingSubjects: unit.trainingSubjects, validationSubject: unit.validationSubject,
        seeds: members.map { lanes[$0].seed }, epochsTrained: members.map { trained[$0] },
        bestEpochs: members.map { bestEpoch[$0] }, trainingSequences: unit.trainingSequences,
        heldOutActivities: Array(Set(held.map { data.sequences.activities[$0] })).sorted(),
        seconds: Date().timeIntervalSince(started), files: files, ridgePenalty: nil,
        memberValidationSubjects: unit.members.map(\.validation),
        bestValidationLosses: members.map { best[$0].isFinite ? best[$0] : nil },
        tunedSettings: applied)
      try UnitJournal.write(record, in: out)
      done.insert(u)
      try onFinished(record, predictions)
      finished.append((record, predictions))
    }

    let label = "\(first.key.model) \(first.key.features) x\(units.count) units"
    for epoch in 1...options.epochs where active.contains(true) {
      let results = try trainer.epoch(active: active)
      for lane in 0..<laneCount where active[lane] {
        let r = results[lane]
        let u = unitOf[lane]
        trained[lane] = epoch
        history[lane].append((r.trainingLoss, r.validationLoss))
        let bad =
          r.nonFinite
          ?? (r.trainingLoss.isFinite ? nil : "training loss \(r.trainingLoss)")
          ?? (r.validationLoss.map { $0.isFinite ? nil : "validation loss \($0)" } ?? nil)
        if let bad {
          if failures[u] == nil {
            failures[u] = UnitRecord.Failure(
              epoch: epoch, member: memberOf[lane], seed: lanes[lane].seed, what: bad)
          }
          continue
        }
        if lanes[lane].validation.isEmpty {
          bestEpoch[lane] = epoch
        } else if let v = r.validationLoss, v < best[lane] {
          best[lane] = v
          bestEpoch[lane] = epoch
          try trainer.saveBest(lane: lane)
        } else if epoch - bestEpoch[lane] >= options.patience {
          active[lane] = false
        }
      }
      for u in failures.keys {
        for lane in laneRanges[u] { active[lane] = false }
      }
      let live = (0..<laneCount).filter { trained[$0] == epoch }
      progress.epoch(
        label: label, epoch: epoch, of: options.epochs,
        loss: mean(live.map { history[$0].last!.training }),
        validation: mean(live.compactMap { history[$0].last!.validation }),
        activeLanes: active.filter { $0 }.count, lanes: laneCount)
      for u in units.indices where !done.contains(u) {
        if !active[laneRanges[u]].contains(true) { try finalize(u) }
      }
    }
    for u in units.indices where !done.contains(u) { try finalize(u) }
    return finished
  }

  func checkpointMetadata(
    _ unit: PlannedUnit, config: ModelConfig, normalizer: Normalizer, seeds: [UInt64],
    bestEpochs: [Int], memberTraining: [[String]], memberValidation: [String?],
    baseCurves: [AlignedCurve]
  ) throws -> CheckpointMetadata {
    var metadata = CheckpointMetadata(config: config)
    metadata.seeds = seeds
    metadata.inputChannels = normalizer.channels
    metadata.targetChannels = ChannelConventions.targetChannels
    metadata.normalizer = CheckpointMetadata.ZScores(
      channels: normalizer.channels, mean: normalizer.mean, std: normalizer.std,
      stdFloor: normalizer.stdFloor)
    var features = options.features
    features.groups = options.groups(of: unit.key.features)
    if unit.key.activities != "all" { features.activities = [unit.key.activities] }
    metadata.features = try JSONValue(encoding: features)
    metadata.heldOutSubject = unit.heldOut
    metadata.trainingSubjects = unit.trainingSubjects
    metadata.validationSubject = unit.validationSubject
    if options.normalization == .subject { metadata.inputNormalization = "subject" }
    if !baseCurves.isEmpty {
      metadata.baseCurves = try baseCurves.map { try JSONValue(encoding: $0) }
    }
    if options.validation == .inner {
      metadata.memberTrainingSubjects = memberTraining
      metadata.memberValidationSubjects = memberValidation
    }
    metadata.bestEpochs = bestEpochs
    metadata.dataset = dataset.folder
    metadata.dataFingerprint = fingerprint
    metadata.synthetic = DataFingerprint.isSynthetic(dataset)
    metadata.version = KneeForceVersion.current
    return metadata
  }

  func historyCSV(
    history: [[(training: Double, validation: Double?)]], bestEpochs: [Int], seeds: [UInt64]
  ) -> String {
    var out = "member,seed,epoch,training_loss,validation_loss,best\n"
    for (m, rows) in history.enumerated() {
      for (e, row) in rows.enumerated() {
        out +=
          "\(m),\(seeds[m]),\(e + 1),\(formatNumber(row.training)),"
          + "\(row.validation.map(formatNumber) ?? ""),\(e + 1 == bestEpochs[m] ? 1 : 0)\n"
      }
    }
    return out
  }

  private func mean(_ values: [Double]) -> Double? {
    values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
  }
}
