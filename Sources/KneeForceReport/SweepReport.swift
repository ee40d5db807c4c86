import Foundation
import KneeForceFiles

/// The sweep report: `OUT/report.html`, one self-contained page (inline SVG and CSS, nothing
/// fetched), and the same figures as standalone SVG files in `OUT/figures/`, built from the
/// files of docs/SWEEP_OUTPUTS.md alone.
public enum SweepReport {
  /// What `write(folder:)` wrote.
  public struct Written: Sendable, Equatable {
    /// `OUT/report.html`.
    public let page: URL
    /// Its size in bytes.
    public let pageBytes: Int
    /// Every file written to `OUT/figures/`.
    public let figures: [URL]
  }

  /// Builds `report.html` and `figures/` of the sweep output folder `folder` (a folder with
  /// the `.kneeforce-out.json` marker and `sweep.json`) from its files, replacing an earlier
  /// report and figures. Throws `ReportInputError` (naming the file and line) for a missing
  /// or malformed input file, or a `FileError` when writing fails.
  @discardableResult
  public static func write(folder: URL) throws -> Written {
    let folder = folder.standardizedFileURL
    guard OutputFolder.readMarker(folder) != nil else {
      throw ReportInputError(
        folder.path,
        "is not a kneeforce output folder (no readable \(OutputFolder.markerName)); the report "
          + "is only written into folders that kneeforce made")
    }
    let sweep = try SweepFolder.read(folder)
    let content = try ReportContent(sweep)
    let page = ReportPage.render(content)

    let figuresURL = folder.appendingPathComponent("figures")
    switch FileKind(path: figuresURL.path) {
    case .missing:
      do {
        try FileManager.default.createDirectory(at: figuresURL, withIntermediateDirectories: true)
      } catch {
        throw FileError.cannotCreateFolder(figuresURL.path, errno: OutputFolder.errnoCode(error))
      }
    case .directory:
      break
    default:
      throw FileError.notAFolder(figuresURL.path)
    }
    var written: [URL] = []
    var names = Set<String>()
    for figure in content.allFigures {
      let url = figuresURL.appendingPathComponent(figure.file)
      try AtomicFile.write(figure.svg, to: url, durable: false)
      written.append(url)
      names.insert(figure.file)
    }
    // Figures of an earlier report that this one no longer has (a unit that is gone).
    let existing = (try? FileManager.default.contentsOfDirectory(atPath: figuresURL.path)) ?? []
    for name in existing where name.hasSuffix(".svg") && !names.contains(name) {
      let ours = ["curves_", "rmse_", "lofo", "training_"].contains { name.hasPrefix($0) }
      if ours { try? FileManager.default.removeItem(at: figuresURL.appendingPathComponent(name)) }
    }
    AtomicFile.syncFolder(figuresURL)
    let pageURL = folder.appendingPathComponent("report.html")
    try AtomicFile.write(page, to: pageURL)
    return Written(page: pageURL, pageBytes: page.utf8.count, figures: written)
  }
}

extension OutputFolder {
  static func errnoCode(_ error: Error) -> Int32 {
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError,
      underlying.domain == NSPOSIXErrorDomain
    {
      return Int32(underlying.code)
    }
    return ns.domain == NSPOSIXErrorDomain ? Int32(ns.code) : EIO
  }
}

/// mean ± SD over held-out subjects of one (model, activity, target).
struct TableCell {
  var rmse: (mean: Double, sd: Double, n: Int)?
  var r: (mean: Double, sd: Double, n: Int)?
  var subjects: Int
}

/// Everything the page shows, computed from the sweep's files.
struct ReportContent {
  var sweep: SweepFolder
  var synthetic: Bool
  var targets: [String]
  /// Models in the contract's order, networks first; the label adds `per_activity` when one
  /// sweep holds both kinds.
  var tableModels: [(model: String, activities: String)]
  var tableActivities: [String]
  var table: [String: TableCell]
  var curves: [Figure]
  var curveKeys: [(activity: String, target: String)]
  var bars: [Figure]
  var lofo: Figure?
  var lofoRows:
    [(model: String, group: String, target: String, stats: (mean: Double, sd: Double, n: Int))]
  var training: [(group: String, figures: [Figure])]
  var subjects: [String]

  var allFigures: [Figure] {
    curves + bars + (lofo.map { [$0] } ?? []) + training.flatMap(\.figures)
  }

  static func tableKey(_ model: String, _ activities: String, _ activity: String, _ target: String)
    -> String
  {
    "\(model)|\(activities)|\(activity)|\(target)"
  }

  init(_ sweep: SweepFolder) throws {
    self.sweep = sweep
    let data = sweep.sweep["data"] as? [String: Any] ?? [:]
    synthetic = data["synthetic"] as? Bool ?? false
    let rows = sweep.results
    targets = targetOrder.filter { t in rows.contains { $0.target == t } }
    if targets.isEmpty { targets = targetOrder }
    subjects = Array(Set(rows.map(\.subject))).sorted()

    // 2. The paper-style table: per model its main feature set, `selected` where inputs
    // were chosen per fold, else `all`, else its first.
    var mainFeatures: [String: String] = [:]
    for row in rows {
      if let current = mainFeatures[row.model],
        featureRank(current) <= featureRank(row.features)
      {
        continue
      }
      mainFeatures[row.model] = row.features
    }
    let main = rows.filter { $0.features == mainFeatures[$0.model] }
    var models: [(String, String)] = []
    for row in main where !models.contains(where: { $0 == (row.model, row.activities) }) {
      models.append((row.model, row.activities))
    }
    models.sort { a, b in
      let ra = modelRank(a.0)
      let rb = modelRank(b.0)
      return (ra.0, ra.1, a.1) < (rb.0, rb.1, b.1)
    }
    tableModels = models.map { (model: $0.0, activities: $0.1) }
    let activities = Set(main.map(\.activity))
    tableActivities =
      (activities.contains("all") ? ["all"] : []) + activities.subtracting(["all"]).sorted()
    var grouped: [String: [ResultRow]] = [:]
    for row in main {
      grouped[Self.tableKey(row.model, row.activities, row.activity, row.target), default: []]
        .append(row)
    }
    table = grouped.mapValues { rows in
      let ok = rows.filter { !$0.failed }
      return TableCell(
        rmse: meanSD(ok.compactMap(\.rmse)), r: meanSD(ok.compactMap(\.r)),
        subjects: Set(ok.map(\.subject)).count)
    }

    // 4. Bars: activity all, features all, one bar set per target.
    let pooled = main.filter { $0.activity == "all" && !$0.failed }
    var bars: [Figure] = []
    for target in targets {
      var scores: [ModelScores] = []
      for (model, trained) in models {
        let these = pooled.filter {
          $0.model == model && $0.activities == trained && $0.target == target
        }
        guard !these.isEmpty else { continue }
        scores.append(
          ModelScores(
            model: model,
            rmse: these.compactMap { row in row.rmse.map { (row.subject, $0) } },
            r: these.compactMap { row in row.r.map { (row.subject, $0) } }))
      }
      guard !scores.isEmpty else { continue }
      bars.append(
        BarsFigure.make(target: target, scores: scores, subjects: subjects, synthetic: synthetic))
    }
    self.bars = bars

    // 5. Leave one feature group out.
    var reference: [String: Double] = [:]
    for row in rows where row.features == "all" && row.activity == "all" && !row.failed {
      reference["\(row.model)|\(row.activities)|\(row.subject)|\(row.target)"] = row.rmse
    }
    var lofoScores: [LOFOScores] = []
    var lofoRows: [(String, String, String, (mean: Double, sd: Double, n: Int))] = []
    let left = rows.filter {
      $0.features != "all" && $0.features != "selected" && $0.activity == "all" && !$0.failed
    }
    // The mean curves are fitted on `all` only (aligned_curve reads just the vertical GRF's
    // timing): there is no left-out group to compare.
    for (model, trained) in models where !["mean_curve", "aligned_curve"].contains(model) {
      let these = left.filter { $0.model == model && $0.activities == trained }
      guard !these.isEmpty else { continue }
      let groups = Array(Set(these.map(\.features))).sorted { featureRank($0) < featureRank($1) }
      var deltas: [String: [String: [(subject: String, value: Double)]]] = [:]
      for row in these {
        guard let rmse = row.rmse,
          let base = reference["\(model)|\(trained)|\(row.subject)|\(row.target)"]
        else { continue }
        deltas[row.features, default: [:]][row.target, default: []].append(
          (row.subject, rmse - base))
      }
      lofoScores.append(LOFOScores(model: model, groups: groups, deltas: deltas))
      for group in groups {
        for target in targets {
          if let stats = meanSD((deltas[group]?[target] ?? []).map(\.value)) {
            lofoRows.append((model, group, target, stats))
          }
        }
      }
    }
    lofo =
      lofoScores.isEmpty
      ? nil : LOFOFigure.make(lofoScores, targets: targets, synthetic: synthetic)
    self.lofoRows = lofoRows.map { (model: $0.0, group: $0.1, target: $0.2, stats: $0.3) }

    // 3. Curves: each model's main input set (for `selected`, the fold's chosen unit), per
    // activity and target, per held-out subject.
    let curveUnits = sweep.units.filter { unit in
      guard !unit.failed, unit.subject != "none" else { return false }
      let features = mainFeatures[unit.model] ?? "all"
      if features == "selected" {
        return sweep.selection["\(unit.model)|\(unit.activities)|\(unit.subject)"]
          == unit.features
      }
      return unit.features == features
    }
    var predictions: [String: [SequenceCurves]] = [:]
    for unit in curveUnits {
      let relative = "units/\(unit.folder)/predictions.csv"
      guard FileKind(path: sweep.url.appendingPathComponent(relative).path) != .missing else {
        throw ReportInputError(
          sweep.name(relative),
          "does not exist, but the unit's unit.json says it finished; the report needs it "
            + "for the predicted vs measured curves")
      }
      predictions[unit.folder] = try sweep.predictions(unit)
    }
    let curveActivities = Array(Set(predictions.values.flatMap { $0.map(\.activity) })).sorted()
    let curveModels = Array(Set(curveUnits.map(\.model))).sorted { modelRank($0) < modelRank($1) }
    let curveSubjects = Array(Set(curveUnits.map(\.subject))).sorted()
    var curves: [Figure] = []
    var curveKeys: [(String, String)] = []
    for activity in curveActivities {
      for (t, target) in targetOrder.enumerated() where targets.contains(target) {
        var panels: [CurvePanel] = []
        for subject in curveSubjects {
          var measured: [[Double]]?
          var series: [CurveSeries] = []
          for model in curveModels {
            let candidates = curveUnits.filter { $0.model == model && $0.subject == subject }
            guard
              let unit = candidates.first(where: { $0.activities == activity })
                ?? candidates.first(where: { $0.activities == "all" })
            else { continue }
            let sequences = (predictions[unit.folder] ?? []).filter { $0.activity == activity }
            guard !sequences.isEmpty else { continue }
            if measured == nil { measured = sequences.map { $0.measured[t] } }
            let mean = CurvesFigure.meanAndSD(sequences.map { $0.predicted[t] }).mean
            let sd = CurvesFigure.meanAndSD(sequences.map { $0.sd[t] }).mean
            let ensemble = sd.contains { $0.isFinite && $0 > 0 }
            series.append(CurveSeries(model: model, mean: mean, memberSD: ensemble ? sd : nil))
          }
          guard let measured else { continue }
          let stats = CurvesFigure.meanAndSD(measured)
          panels.append(
            CurvePanel(
              subject: subject, sequences: measured.count, measuredMean: stats.mean,
              measuredSD: stats.sd, series: series))
        }
        guard !panels.isEmpty else { continue }
        curves.append(
          CurvesFigure.make(
            activity: activity, target: target, panels: panels, synthetic: synthetic))
        curveKeys.append((activity, target))
      }
    }
    self.curves = curves
    self.curveKeys = curveKeys.map { (activity: $0.0, target: $0.1) }

    // 6. Training curves of every network unit with a history.
    var training: [(String, [Figure])] = []
    for unit in sweep.units where !unit.isBaseline {
      guard let members = try sweep.history(unit), !members.isEmpty else { continue }
      let group =
        "\(Words.shortModel(unit.model)), \(Words.features(unit.features))"
        + (unit.activities == "all" ? "" : ", \(Words.activity(unit.activities))")
      let figure = TrainingFigure.make(unit: unit, members: members, synthetic: synthetic)
      if let last = training.indices.last, training[last].0 == group {
        training[last].1.append(figure)
      } else {
        training.append((group, [figure]))
      }
    }
    self.training = training.map { (group: $0.0, figures: $0.1) }
  }
}
