import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles

/// `kneeforce tune`: a small nested leave-one-subject-out search. For every grid point the
/// sweep's network units are trained with inner validation (`ValidationScheme.inner`) inside
/// each outer fold's training subjects, and nothing else: no baselines, no prediction of the
/// outer held-out subject. Per unit (model, feature set, activity set, held-out subject) the
/// point with the lowest mean best inner-validation loss is chosen (the first listed point on
/// a tie; a point whose unit failed is never chosen). `sweep --tuned OUT/tune.json` then
/// trains each fold with its own choice, so the outer held-out subject is scored by settings
/// chosen without it. Files: docs/SWEEP_OUTPUTS.md ("Tuning").
public enum Tune {
  public static let recordName = "tune.json"

  /// The settings searched: every combination of the axes' values, the first axis slowest.
  public struct Grid: Codable, Equatable, Sendable {
    public struct Axis: Codable, Equatable, Sendable {
      public var name: String
      public var values: [Double]
      public init(name: String, values: [Double]) {
        self.name = name
        self.values = values
      }
    }

    public var axes: [Axis]
    public init(axes: [Axis]) { self.axes = axes }

    public var points: [[String: Double]] {
      var points: [[String: Double]] = [[:]]
      for axis in axes {
        points = points.flatMap { p in
          axis.values.map { v in p.merging([axis.name: v]) { $1 } }
        }
      }
      return points
    }

    /// Why the grid cannot be searched, or nil.
    public var problem: String? {
      guard !axes.isEmpty else { return "the grid is empty" }
      guard Set(axes.map(\.name)).count == axes.count else { return "a setting is named twice" }
      for axis in axes {
        guard !axis.values.isEmpty else { return "\(axis.name) has no values" }
        guard Set(axis.values).count == axis.values.count else {
          return "\(axis.name) lists a value twice"
        }
        for v in axis.values {
          if let problem = TunableSetting.problem(axis.name, v) { return problem }
        }
      }
      return points.count > 1000 ? "\(points.count) grid points; at most 1000" : nil
    }
  }

  public struct Score: Codable, Equatable, Sendable {
    public var model: String
    public var features: String
    public var activities: String
    public var subject: String
    /// 0-based grid point.
    public var point: Int
    /// Mean best inner-validation MSE of the unit's members (BW^2); nil when it failed.
    public var loss: Double?
  }

  /// `tune.json`.
  public struct Record: Codable, Equatable, Sendable {
    public var format = 1
    public var grid: Grid
    public var options: SweepOptions
    public var dataset: String
    public var dataFingerprint: String
    public var scores: [Score]
    public var choices: [TunedChoice]

    enum CodingKeys: String, CodingKey {
      case format, grid, options, dataset, scores, choices
      case dataFingerprint = "data_fingerprint"
    }

    public static func read(_ url: URL) throws -> Record {
      let bytes = try RegularFile.read(url.path)
      do {
        return try JSONDecoder().decode(Record.self, from: bytes)
      } catch {
        throw ExperimentError("\(url.path) is not a tune.json written by `kneeforce tune`")
      }
    }
  }

  /// The folder of grid point `i` inside `out`.
  public static func pointFolder(_ out: URL, _ i: Int) -> URL {
    out.appendingPathComponent("points").appendingPathComponent(
      String(format: "point-%03d", i + 1))
  }

  public static func run(
    dataset: Dataset, options: SweepOptions, grid: Grid, foldBatch: Int?, resume: Bool,
    backend: ComputeBackend, out: URL, progress: SweepProgress = SweepProgress()
  ) throws -> Record {
    if let problem = grid.problem { throw ExperimentError("--grid: \(problem)") }
    guard options.patience > 0 else {
      throw ExperimentError("tune chooses by inner validation: --patience must be above 0")
    }
    var base = options
    base.validation = .inner
    base.tuned = nil
    let points = grid.points
    var scores: [Score] = []
    for (i, point) in points.enumerated() {
      progress.log("grid point \(i + 1)/\(points.count): \(TunedChoice.label(point))")
      let folder = pointFolder(out, i)
      try FileManager.default.createDirectory(
        at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
      try OutputFolder.prepare(folder.path, command: "tune", mode: resume ? .resume : .fresh)
      var settings = SweepRunSettings()
      settings.command = "tune"
      settings.scoresHeldOut = false
      settings.resume = resume
      settings.foldBatch = foldBatch
      _ = try Sweep.run(
        dataset: dataset, options: try base.applying(point), settings: settings,
        backend: backend, out: folder, progress: progress)
      for entry in UnitJournal.all(in: folder) where !entry.unit.isBaseline {
        let losses = (entry.bestValidationLosses ?? []).compactMap { $0 }
        let loss =
          entry.failed || losses.isEmpty ? nil : losses.reduce(0, +) / Double(losses.count)
        scores.append(
          Score(
            model: entry.unit.model, features: entry.unit.features,
            activities: entry.unit.activities, subject: entry.unit.subject, point: i,
            loss: loss))
      }
    }
    var choices: [TunedChoice] = []
    var seen = Set<String>()
    for s in scores {
      let id = "\(s.model)|\(s.features)|\(s.activities)|\(s.subject)"
      guard seen.insert(id).inserted else { continue }
      let candidates = scores.filter {
        $0.model == s.model && $0.features == s.features && $0.activities == s.activities
          && $0.subject == s.subject && $0.loss != nil
      }
      guard let best = candidates.min(by: { ($0.loss!, $0.point) < ($1.loss!, $1.point) }) else {
        continue
      }
      choices.append(
        TunedChoice(
          model: s.model, features: s.features, activities: s.activities, subject: s.subject,
          settings: points[best.point]))
    }
    let record = Record(
      grid: grid, options: base, dataset: dataset.folder,
      dataFingerprint: DataFingerprint.of(dataset), scores: scores, choices: choices)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(try encoder.encode(record), to: out.appendingPathComponent(recordName))
    try AtomicFile.write(csv(record), to: out.appendingPathComponent("tune.csv"))
    return record
  }

  /// `tune.csv`: a row per unit and grid point, the chosen point marked.
  public static func csv(_ record: Record) -> String {
    let points = record.grid.points
    var out = "model,features,activities,subject,point,settings,inner_validation_mse,chosen\n"
    for s in record.scores {
      let chosen = record.choices.contains {
        $0.model == s.model && $0.features == s.features && $0.activities == s.activities
          && $0.subject == s.subject && $0.settings == points[s.point]
      }
      out +=
        "\(s.model),\(s.features),\(s.activities),\(s.subject),\(s.point + 1),"
        + "\(TunedChoice.label(points[s.point])),\(s.loss.map(formatNumber) ?? ""),"
        + "\(chosen ? 1 : 0)\n"
    }
    return out
  }

  /// The terminal summary: per grid point the mean inner loss over units, and the count of
  /// units that chose it.
  public static func summary(_ record: Record) -> String {
    let points = record.grid.points
    var lines = ["| point | settings | mean inner-validation MSE (BW^2) | units choosing it |"]
    lines.append("|---|---|---|---|")
    for (i, p) in points.enumerated() {
      let losses = record.scores.filter { $0.point == i }.compactMap(\.loss)
      let mean =
        losses.isEmpty ? "–" : String(format: "%.4f", losses.reduce(0, +) / Double(losses.count))
      let chosen = record.choices.filter { $0.settings == p }.count
      lines.append("| \(i + 1) | \(TunedChoice.label(p)) | \(mean) | \(chosen) |")
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
