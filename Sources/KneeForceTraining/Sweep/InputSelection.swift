import Foundation

/// Input groups chosen per fold by inner validation: a cheap automatic leave-one-feature-out
/// that never looks at the outer held-out subject. For each (model, activity set, held-out
/// subject) whose units of every feature set finished, the set whose members have the lowest
/// mean best inner-validation loss is the fold's choice, and its predictions are scored again
/// as feature set `selected`. The choice depends only on journal entries, so a resumed or
/// merged sweep chooses the same (docs/SWEEP_OUTPUTS.md, "Selected inputs").
public enum InputSelection {
  public static let featureSet = "selected"

  public struct Score: Equatable, Sendable {
    public var features: String
    /// The mean best inner-validation MSE (BW^2) of the candidate's members.
    public var loss: Double
  }

  public struct Choice: Equatable, Sendable {
    public var model: String
    public var activities: String
    public var subject: String
    /// Per candidate feature set, in the sweep's order.
    public var scores: [Score]
    public var chosen: String
  }

  /// The choices for every fold where all of `featureSets` have a scored network unit.
  public static func choices(
    _ entries: [(record: UnitRecord, predictions: UnitPredictions?)], featureSets: [String]
  ) -> [Choice] {
    var byFold: [String: [String: Double]] = [:]
    var folds: [(model: String, activities: String, subject: String)] = []
    for (record, _) in entries where !record.unit.isBaseline && !record.failed {
      guard featureSets.contains(record.unit.features),
        let losses = record.bestValidationLosses?.compactMap({ $0 }), !losses.isEmpty
      else { continue }
      let id = "\(record.unit.model)|\(record.unit.activities)|\(record.unit.subject)"
      if byFold[id] == nil {
        folds.append((record.unit.model, record.unit.activities, record.unit.subject))
      }
      byFold[id, default: [:]][record.unit.features] = losses.reduce(0, +) / Double(losses.count)
    }
    return folds.compactMap { fold in
      let scores = byFold["\(fold.model)|\(fold.activities)|\(fold.subject)"]!
      guard scores.count == featureSets.count else { return nil }
      let ordered = featureSets.map { Score(features: $0, loss: scores[$0]!) }
      // The first listed set wins a tie.
      let chosen = ordered.min { $0.loss < $1.loss }!.features
      return Choice(
        model: fold.model, activities: fold.activities, subject: fold.subject, scores: ordered,
        chosen: chosen)
    }
  }

  /// `entries` plus one `selected` entry per choice: the chosen unit's record and
  /// predictions under the key with features `selected`.
  public static func withSelected(
    _ entries: [(record: UnitRecord, predictions: UnitPredictions?)], featureSets: [String]
  ) -> [(record: UnitRecord, predictions: UnitPredictions?)] {
    var out = entries
    for choice in choices(entries, featureSets: featureSets) {
      guard
        let source = entries.first(where: {
          $0.record.unit
            == UnitKey(
              model: choice.model, features: choice.chosen, activities: choice.activities,
              subject: choice.subject)
        })
      else { continue }
      var record = source.record
      record.unit.features = featureSet
      record.selectedFeatures = choice.chosen
      out.append((record, source.predictions))
    }
    return out
  }

  /// `selection.csv`: one row per fold and candidate, the chosen one marked.
  public static func csv(_ choices: [Choice]) -> String {
    var out = "model,activities,subject,features,inner_validation_mse,chosen\n"
    for c in choices {
      for (features, loss) in c.scores.map({ ($0.features, $0.loss) }) {
        out +=
          "\(c.model),\(c.activities),\(c.subject),\(features),\(formatNumber(loss)),"
          + "\(features == c.chosen ? 1 : 0)\n"
      }
    }
    return out
  }
}
