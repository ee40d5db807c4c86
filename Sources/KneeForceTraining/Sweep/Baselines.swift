import Foundation
import KneeForceData

/// The baselines every sweep scores beside the networks, per fold, on the same sequences
/// and targets:
/// - `mean_curve`: the training subjects' mean time-normalised curve per activity and target
///   (mean over their sequences of the activity at each step; the mean over every activity
///   for an activity they lack). It uses no input at all: what a network must beat to have
///   learnt anything from the signals.
/// - `aligned_curve`: the same curves time-warped to each sequence's own gait events in its
///   vertical GRF (`AlignedCurve`): what timing alone explains.
/// - `ridge`: per-time-step ridge regression on the inputs z-scored with the training
///   subjects' statistics (`ridgeBaseline`), the penalty chosen from `ridgePenalties` by
///   leave-one-subject-out inside the training subjects (lowest pooled squared error; the
///   smaller penalty on ties), then refitted on every training subject.
/// - `ridge_subject`: the same on inputs first z-scored per subject with that subject's own
///   statistics (`SweepData.subjectNormalized()`), which a new patient also has: how much of
///   the error is between-subject offset and scale of the signals.
public enum Baselines {
  public static let ridgePenalties: [Double] = [1e-3, 1e-2, 1e-1, 1, 10, 100, 1000]

  public static func meanCurve(data: SweepData, unit: PlannedUnit) throws -> UnitPredictions {
    try alignedCurve(data: data, unit: unit, events: .none)
  }

  public static func alignedCurve(data: SweepData, unit: PlannedUnit, events: AlignedEvents)
    throws -> UnitPredictions
  {
    let training = data.indices(subjects: Set(unit.trainingSubjects), activity: unit.key.activities)
    let curve = try AlignedCurve(sequences: data.sequences, training: training, events: events)
    let held = data.indices(subjects: [unit.heldOut ?? ""], activity: unit.key.activities)
    return UnitPredictions(
      set: data.sequences, indices: held, members: [curve.predict(data.sequences, held)])
  }

  /// The ridge prediction for the held-out subject and the penalty chosen.
  public static func ridge(data: SweepData, unit: PlannedUnit, options: SweepOptions) throws
    -> (predictions: UnitPredictions, penalty: Double)
  {
    let channels = data.channels(of: unit.key.features, options: options)
    let activity = unit.key.activities
    func fit(train: [Int], test: [Int], lambda: Double) throws -> [Float] {
      let normalizer = try data.normalizer(indices: train, channels: channels)
      return try ridgeBaseline(
        train: try normalizer.apply(to: data.subset(train, channels: channels)),
        test: try normalizer.apply(to: data.subset(test, channels: channels)), lambda: lambda
      ).prediction
    }
    var penalty = 1e-2
    if unit.trainingSubjects.count >= 2 {
      var best = Double.infinity
      var errors = [Double](repeating: 0, count: ridgePenalties.count)
      for inner in unit.trainingSubjects {
        let rest = Set(unit.trainingSubjects).subtracting([inner])
        let train = data.indices(subjects: rest, activity: activity)
        let test = data.indices(subjects: [inner], activity: activity)
        guard !train.isEmpty, !test.isEmpty else { continue }
        let measured = data.subset(test, channels: channels).targets
        for (p, lambda) in ridgePenalties.enumerated() {
          let prediction = try fit(train: train, test: test, lambda: lambda)
          var sse = 0.0
          for k in measured.indices {
            let e = Double(prediction[k]) - Double(measured[k])
            sse += e * e
          }
          errors[p] += sse
        }
      }
      for (p, error) in errors.enumerated() where error < best {
        best = error
        penalty = ridgePenalties[p]
      }
    }
    let train = data.indices(subjects: Set(unit.trainingSubjects), activity: activity)
    let held = data.indices(subjects: [unit.heldOut ?? ""], activity: activity)
    let prediction = try fit(train: train, test: held, lambda: penalty)
    return (UnitPredictions(set: data.sequences, indices: held, members: [prediction]), penalty)
  }
}
