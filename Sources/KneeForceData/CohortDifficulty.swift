import Foundation

/// How hard a cohort is for leave-one-subject-out prediction, measured without any model:
/// two curves that use no input bracket what a model can be expected to reach.
///
/// - mean curve: the training subjects' mean sequence (per step and target) predicts every
///   sequence of the held-out subject. A model that does not beat it has learnt nothing from
///   the signals.
/// - own curve: each sequence of the held-out subject is predicted by the mean of the same
///   subject's sequences from its other trials (leave one trial out, so that cycles of one
///   trial never predict each other). It uses the held-out subject's targets, so it is a
///   floor of what a subject's typical curve explains, not a method; the gap between the two
///   is what subject identity is worth, the own-curve RMSE what only within-subject,
///   trial-to-trial variation leaves.
///
/// Both are RMSE in body weights pooled over the held-out subject's sequences and steps, per
/// target (`kcf.medial, kcf.lateral, kcf.total`), then averaged over folds. The same numbers
/// for a real dataset and a synthetic one say whether the synthetic one is as hard.
public struct CohortDifficulty: Sendable, Equatable {
  public struct Fold: Sendable, Equatable {
    public var heldOutSubject: String
    public var sequences: Int
    /// Per target.
    public var meanCurveRMSE: [Double]
    /// Per target; nil when the held-out subject has a single trial of the activity.
    public var ownCurveRMSE: [Double]?
  }

  public var activity: String?
  public var folds: [Fold]

  /// Per target, mean over folds; nil when there are no folds.
  public var meanCurveRMSE: [Double]? { Self.average(folds.map(\.meanCurveRMSE)) }
  /// Per target, mean over the folds whose subject has at least two trials.
  public var ownCurveRMSE: [Double]? { Self.average(folds.compactMap(\.ownCurveRMSE)) }

  public enum MeasureError: Error, Equatable, CustomStringConvertible {
    case noSequences(activity: String?)
    case oneSubject(String)

    public var description: String {
      switch self {
      case let .noSequences(activity):
        return "no sequences"
          + (activity.map { " of activity \($0) (check the manifest's activity column)" } ?? "")
      case let .oneSubject(subject):
        return "leave-one-subject-out needs at least two subjects; only \(subject) has "
          + "sequences"
      }
    }
  }

  /// Segments `dataset` with `segmentation` (only trials of `activity`, or all when nil) and
  /// measures it.
  public static func measure(
    _ dataset: Dataset, segmentation: Segmentation, activity: String?
  ) throws -> CohortDifficulty {
    let pipeline = FeaturePipeline(
      options: FeatureOptions(
        segmentation: segmentation, activities: activity.map { [$0] }))
    return try measure(pipeline.sequences(from: dataset), activity: activity)
  }

  /// Measures the sequences of `activity` (all when nil) in `set`; folds in subject order.
  public static func measure(_ set: SequenceSet, activity: String?) throws -> CohortDifficulty {
    let chosen = set.subjects.indices.filter { activity == nil || set.activities[$0] == activity }
    let subjects = Array(Set(chosen.map { set.subjects[$0] })).sorted()
    guard let first = subjects.first else { throw MeasureError.noSequences(activity: activity) }
    guard subjects.count >= 2 else { throw MeasureError.oneSubject(first) }
    let width = set.targetWidth
    let stride = set.length * width
    func mean(_ indices: [Int]) -> [Double] {
      var sum = [Double](repeating: 0, count: stride)
      for i in indices {
        for k in 0..<stride { sum[k] += Double(set.targets[i * stride + k]) }
      }
      return sum.map { $0 / Double(indices.count) }
    }
    /// Per target RMSE of `predictions[j]` against sequence `held[j]`.
    func rmse(_ held: [Int], _ predictions: [[Double]]) -> [Double] {
      var sse = [Double](repeating: 0, count: width)
      for (j, i) in held.enumerated() {
        for k in 0..<stride {
          let e = predictions[j][k] - Double(set.targets[i * stride + k])
          sse[k % width] += e * e
        }
      }
      return sse.map { ($0 / Double(held.count * set.length)).squareRoot() }
    }
    var folds: [Fold] = []
    for subject in subjects {
      let held = chosen.filter { set.subjects[$0] == subject }
      let training = chosen.filter { set.subjects[$0] != subject }
      let curve = mean(training)
      let meanCurve = rmse(held, held.map { _ in curve })
      let trials = Set(held.map { set.trialIDs[$0] })
      var own: [Double]?
      if trials.count >= 2 {
        own = rmse(
          held,
          held.map { i in mean(held.filter { set.trialIDs[$0] != set.trialIDs[i] }) })
      }
      folds.append(
        Fold(
          heldOutSubject: subject, sequences: held.count, meanCurveRMSE: meanCurve,
          ownCurveRMSE: own))
    }
    return CohortDifficulty(activity: activity, folds: folds)
  }

  private static func average(_ rows: [[Double]]) -> [Double]? {
    guard let first = rows.first else { return nil }
    var sum = [Double](repeating: 0, count: first.count)
    for row in rows {
      for (k, value) in row.enumerated() { sum[k] += value }
    }
    return sum.map { $0 / Double(rows.count) }
  }

  /// A plain-text table: one row per fold, then the mean over folds.
  public func render() -> String {
    let targets = "  medial lateral   total"
    func cells(_ values: [Double]?) -> String {
      guard let values else { return "       -       -       -" }
      return values.map { String(format: " %7.3f", $0) }.joined(separator: "")
    }
    func row(_ name: String, _ count: String, _ mean: [Double]?, _ own: [Double]?) -> String {
      let padding = String(repeating: " ", count: max(1, 16 - name.count - count.count))
      return name + padding + count + "  " + cells(mean) + "   " + cells(own)
    }
    var lines = [
      "Difficulty (leave-one-subject-out, RMSE in BW"
        + (activity.map { ", activity \($0)" } ?? "") + ")",
      String(repeating: " ", count: 18) + "mean curve" + String(repeating: " ", count: 17)
        + "own curve",
      "held out    seqs  " + targets + "   " + targets,
    ]
    for fold in folds {
      lines.append(
        row(fold.heldOutSubject, "\(fold.sequences)", fold.meanCurveRMSE, fold.ownCurveRMSE))
    }
    lines.append(row("mean", "", meanCurveRMSE, ownCurveRMSE))
    lines.append(
      "mean curve: the training subjects' mean; own curve: each sequence predicted by its "
        + "subject's other trials (uses the held-out targets: a floor, not a method)")
    return lines.joined(separator: "\n")
  }
}
