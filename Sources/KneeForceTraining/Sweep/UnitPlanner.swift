import Foundation

/// Lays out the units of a sweep (docs/SWEEP_OUTPUTS.md, "Units"):
/// for each network and feature set, one unit per held-out subject (and per activity with
/// `--per-activity`), then the baselines `mean_curve` and `aligned_curve` (features `all`
/// only: they use no inputs but the vertical GRF's timing) and `ridge` and `ridge_subject`
/// (every feature set) per fold. A unit whose held-out subject has no
/// sequence of its activities, or whose training subjects have none, is left out: there is
/// nothing to score or to learn.
///
/// Validation (early stopping, best epoch), `ValidationScheme.next`: the subject that follows
/// the held-out one in sorted order, cyclically (the next one after it that has sequences of
/// the unit's activities, with `--per-activity`); never the held-out subject. For
/// `heldOut: nil` (`train --all-subjects`) it is the first subject with sequences.
/// `ValidationScheme.inner`: one member group per training subject with sequences of the
/// unit's activities, validated on it and trained on the others (a unit with one training
/// subject falls back to no validation). With `patience == 0` there is none.
public enum UnitPlanner {
  public static func plan(
    data: SweepData, options: SweepOptions, heldOut: [String?]? = nil,
    includeBaselines: Bool = true
  ) throws -> [PlannedUnit] {
    let subjects = data.subjects
    let folds: [String?] = heldOut ?? subjects.map { $0 }
    let needed =
      (folds.contains { $0 != nil } ? 2 : 1)
      + (options.patience > 0 && options.validation == .next ? 1 : 0)
    guard subjects.count >= needed else {
      throw ExperimentError(
        "\(subjects.count) subject\(subjects.count == 1 ? "" : "s") with sequences; at least "
          + "\(needed) are needed (held-out, validation and training subjects"
          + (options.patience > 0 ? "; --patience 0 needs no validation subject)" : ")"))
    }
    for case let subject? in folds where !subjects.contains(subject) {
      throw ExperimentError(
        "held-out subject '\(subject)' has no sequences (subjects: "
          + subjects.joined(separator: ", ") + ")")
    }
    let activitySets = options.perActivity ? data.activities : ["all"]
    var units: [PlannedUnit] = []
    func add(_ model: String, _ features: String, baseline: Bool) throws {
      for activity in activitySets {
        for held in folds {
          let others = subjects.filter { $0 != held }
          var validation: String?
          if !baseline, options.patience > 0, options.validation == .next {
            let start = held.flatMap { subjects.firstIndex(of: $0) }.map { $0 + 1 } ?? 0
            validation = (0..<subjects.count).map { subjects[(start + $0) % subjects.count] }
              .first { $0 != held && !data.indices(subjects: [$0], activity: activity).isEmpty }
          }
          let training = others.filter { $0 != validation }
          let trainCount = data.indices(subjects: Set(training), activity: activity).count
          let heldCount =
            held.map { data.indices(subjects: [$0], activity: activity).count } ?? 1
          guard trainCount > 0, heldCount > 0 else { continue }
          let key = UnitKey(
            model: model, features: features, activities: activity,
            subject: held ?? UnitKey.noSubject)
          let tuned = baseline ? nil : options.tunedSettings(for: key)
          let unitOptions = try options.applying(tuned ?? [:])
          var members: [PlannedMember] = []
          if !baseline {
            var groups: [(training: [String], validation: String?)] = [(training, validation)]
            if options.patience > 0, options.validation == .inner {
              let inner = training.filter {
                !data.indices(subjects: [$0], activity: activity).isEmpty
              }
              if inner.count >= 2 {
                groups = inner.map { v in (training.filter { $0 != v }, v) }
              }
            }
            for group in groups {
              for _ in 0..<unitOptions.seeds {
                members.append(
                  PlannedMember(
                    training: group.training, validation: group.validation,
                    index: members.count))
              }
            }
          }
          let cost =
            baseline
            ? Double(trainCount)
            : members.reduce(0) {
              $0
                + Double(
                  data.indices(subjects: Set($1.training), activity: activity).count
                    * unitOptions.epochs)
            }
          units.append(
            PlannedUnit(
              key: key, heldOut: held, trainingSubjects: training, validationSubject: validation,
              members: members, tuned: tuned, trainingSequences: trainCount, cost: cost))
        }
      }
    }
    for model in options.models {
      for features in options.featureSets { try add(model.rawValue, features, baseline: false) }
    }
    if includeBaselines {
      try add("mean_curve", "all", baseline: true)
      try add("aligned_curve", "all", baseline: true)
      for features in options.featureSets {
        try add("ridge", features, baseline: true)
        try add("ridge_subject", features, baseline: true)
      }
    }
    return units
  }
}
