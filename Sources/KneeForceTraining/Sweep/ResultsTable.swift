import Foundation

/// `results.csv` and `summary.md` (docs/SWEEP_OUTPUTS.md): a pure function of the units'
/// journal entries and predictions, so resumed and merged sweeps write the same bytes.
public struct ResultRow: Equatable, Sendable {
  public var model: String
  public var features: String
  public var activity: String
  public var subject: String
  public var target: String
  public var rmse: Double?
  public var pearson: Double?
  public var trials: Int
  public var seeds: Int
  public var sequences: Int
  /// `all` or `per_activity`.
  public var training: String
  public var status: String

  static let header =
    "model,features,activity,subject,target,rmse_bw,pearson_r,n_trials,seeds,n_sequences,"
    + "activities,status"

  var csvLine: String {
    [
      model, features, activity, subject, target, rmse.map(formatNumber) ?? "",
      pearson.map(formatNumber) ?? "", "\(trials)", "\(seeds)", "\(sequences)", training, status,
    ].joined(separator: ",")
  }
}

public enum ResultsTable {
  /// Rows for finished units: `entries` with the predictions of each unit that succeeded.
  /// `featureSets`: the sweep's, for the `selected` rows (`InputSelection`); nil or one set:
  /// none.
  public static func rows(
    _ entries: [(record: UnitRecord, predictions: UnitPredictions?)],
    selectingAmong featureSets: [String]? = nil
  ) -> [ResultRow] {
    // Units without a held-out subject (`train --all-subjects`) have nothing to score.
    var entries = entries.filter { $0.record.unit.subject != UnitKey.noSubject }
    if let featureSets, featureSets.count > 1 {
      entries = InputSelection.withSelected(entries, featureSets: featureSets)
    }
    var rows: [ResultRow] = []
    func score(
      _ key: UnitKey, activity: String, sequences: [UnitPredictions.Sequence]?, failed: Bool,
      training: String, members: Int
    ) {
      let members = key.isBaseline ? 0 : members
      let trials = Set((sequences ?? []).map(\.trialID)).count
      guard !failed, let sequences, !sequences.isEmpty else {
        for target in UnitPredictions.targets {
          rows.append(
            ResultRow(
              model: key.model, features: key.features, activity: activity, subject: key.subject,
              target: target, rmse: nil, pearson: nil, trials: trials, seeds: members,
              sequences: sequences?.count ?? 0, training: training, status: "failed"))
        }
        return
      }
      let metrics = targetMetrics(
        prediction: sequences.flatMap(\.predicted), measured: sequences.flatMap(\.measured),
        targets: UnitPredictions.targets)
      for m in metrics {
        rows.append(
          ResultRow(
            model: key.model, features: key.features, activity: activity, subject: key.subject,
            target: m.target, rmse: m.rmse, pearson: m.pearson, trials: trials, seeds: members,
            sequences: sequences.count, training: training, status: "ok"))
      }
    }
    // One model on every activity: its own pooled row and one per activity.
    for (record, predictions) in entries where record.unit.activities == "all" {
      let sequences = predictions?.sequences
      score(
        record.unit, activity: "all", sequences: sequences, failed: record.failed, training: "all",
        members: record.seeds.count)
      for activity in record.heldOutActivities.sorted() {
        score(
          record.unit, activity: activity, sequences: sequences?.filter { $0.activity == activity },
          failed: record.failed, training: "all", members: record.seeds.count)
      }
    }
    // One model per activity: a row each, and `all` pooling them per subject.
    var pools: [UnitKey: (sequences: [UnitPredictions.Sequence], failed: Bool, members: Int)] =
      [:]
    for (record, predictions) in entries where record.unit.activities != "all" {
      score(
        record.unit, activity: record.unit.activities, sequences: predictions?.sequences,
        failed: record.failed, training: "per_activity", members: record.seeds.count)
      var key = record.unit
      key.activities = "all"
      var pool = pools[key] ?? ([], false, 0)
      pool.sequences += predictions?.sequences ?? []
      pool.failed = pool.failed || record.failed
      pool.members = max(pool.members, record.seeds.count)
      pools[key] = pool
    }
    for (key, pool) in pools {
      score(
        key, activity: "all", sequences: pool.sequences, failed: pool.failed,
        training: "per_activity", members: pool.members)
    }
    return rows.sorted(by: rowOrder)
  }

  static func rowOrder(_ a: ResultRow, _ b: ResultRow) -> Bool {
    let ka = UnitKey(
      model: a.model, features: a.features, activities: a.activity, subject: a.subject)
    let kb = UnitKey(
      model: b.model, features: b.features, activities: b.activity, subject: b.subject)
    if ka != kb { return ka < kb }
    let order = UnitPredictions.targets
    return (order.firstIndex(of: a.target) ?? 3) < (order.firstIndex(of: b.target) ?? 3)
  }

  public static func csv(_ rows: [ResultRow]) -> String {
    ([ResultRow.header] + rows.map(\.csvLine)).joined(separator: "\n") + "\n"
  }

  /// The paper-style table (mean ± SD over held-out subjects) and, with feature sets other
  /// than `all`, the LOFO table (change against `all`).
  /// `pooledOnly`: only the `activity = all` rows (the command's printed summary).
  public static func summary(_ rows: [ResultRow], title: [String], pooledOnly: Bool = false)
    -> String
  {
    var out = title.joined(separator: "\n") + "\n\n"
    let ok = rows.filter { $0.status == "ok" && (!pooledOnly || $0.activity == "all") }
    // Per model, the feature set of the main table: `selected` where inputs were chosen per
    // fold, else `all`, else the first set the model has.
    var main: [String: String] = [:]
    for row in ok {
      let current = main[row.model]
      if current == nil || UnitKey.featureRank(row.features) < UnitKey.featureRank(current!) {
        main[row.model] = row.features
      }
    }
    out += "## Held-out subjects: mean ± SD over subjects\n\n"
    out += "| model | features | activity | target | RMSE (BW) | Pearson r | subjects |\n"
    out += "|---|---|---|---|---|---|---|\n"
    var groups: [(String, String, String)] = []
    var byGroup: [String: [ResultRow]] = [:]
    for row in ok where row.features == main[row.model] {
      let id = "\(row.model)|\(row.activity)|\(row.target)"
      if byGroup[id] == nil { groups.append((row.model, row.activity, row.target)) }
      byGroup[id, default: []].append(row)
    }
    for (model, activity, target) in groups {
      let list = byGroup["\(model)|\(activity)|\(target)"]!
      out +=
        "| \(model) | \(main[model]!) | \(activity) | \(target) | "
        + "\(meanSD(list.compactMap(\.rmse), signed: false)) | "
        + "\(meanSD(list.compactMap(\.pearson), signed: false)) | \(list.count) |\n"
    }
    let lofo = ok.filter { $0.features != "all" && $0.features != InputSelection.featureSet }
    if !lofo.isEmpty {
      var reference: [String: ResultRow] = [:]
      for row in ok where row.features == "all" {
        reference["\(row.model)|\(row.activity)|\(row.subject)|\(row.target)"] = row
      }
      out += "\n## Leave one feature group out: change against `all` (mean over subjects)\n\n"
      out += "Positive ΔRMSE and negative Δr: leaving the group out hurts (the group helps).\n\n"
      out += "| model | features | activity | target | ΔRMSE (BW) | Δr | subjects |\n"
      out += "|---|---|---|---|---|---|---|\n"
      var order: [String] = []
      var deltas: [String: (rmse: [Double], r: [Double])] = [:]
      for row in lofo {
        guard let base = reference["\(row.model)|\(row.activity)|\(row.subject)|\(row.target)"]
        else { continue }
        let id = "\(row.model) | \(row.features) | \(row.activity) | \(row.target)"
        if deltas[id] == nil { order.append(id) }
        var d = deltas[id] ?? ([], [])
        if let a = row.rmse, let b = base.rmse { d.rmse.append(a - b) }
        if let a = row.pearson, let b = base.pearson { d.r.append(a - b) }
        deltas[id] = d
      }
      for id in order {
        let d = deltas[id]!
        out +=
          "| \(id) | \(meanSD(d.rmse, signed: true)) | \(meanSD(d.r, signed: true)) | \(d.rmse.count) |\n"
      }
    }
    let failed = Set(
      rows.filter { $0.status != "ok" }.map {
        "\($0.model) \($0.features) \($0.activity) \($0.subject)"
      })
    if !failed.isEmpty {
      out += "\n## Failed units (non-finite loss; see units/*/unit.json)\n\n"
      for f in failed.sorted() { out += "- \(f)\n" }
    }
    return out
  }

  /// "mean ± SD" (SD with denominator n-1) of the finite values, 3 decimals; `signed`
  /// writes the sign of the mean (changes).
  static func meanSD(_ values: [Double], signed: Bool) -> String {
    let v = values.filter(\.isFinite)
    guard !v.isEmpty else { return "–" }
    let format = signed ? "%+.3f" : "%.3f"
    let mean = v.reduce(0, +) / Double(v.count)
    guard v.count > 1 else { return String(format: format, mean) }
    let sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - 1)).squareRoot()
    return String(format: format + " ± %.3f", mean, sd)
  }
}
