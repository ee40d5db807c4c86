import Foundation
import KneeForceFiles

/// A unit's journal entry, `units/<unit>/unit.json`: written atomically after every other
/// file of the unit, so its presence means the unit is complete (docs/SWEEP_OUTPUTS.md).
public struct UnitRecord: Codable, Equatable, Sendable {
  public struct Failure: Codable, Equatable, Sendable {
    public var epoch: Int
    public var member: Int
    public var seed: UInt64
    /// The first non-finite tensor or loss, as the trainer names it.
    public var what: String
  }

  public var format = 1
  public var unit: UnitKey
  /// `ok` or `failed`.
  public var status: String
  public var failure: Failure?
  public var trainingSubjects: [String]
  public var validationSubject: String?
  public var seeds: [UInt64]
  public var epochsTrained: [Int]
  public var bestEpochs: [Int]
  public var trainingSequences: Int
  /// Activities of the held-out subject's sequences that the unit scores.
  public var heldOutActivities: [String]
  public var seconds: Double
  public var files: [String]
  /// The penalty of `ridge` and `ridge_subject`, chosen inside the training subjects.
  public var ridgePenalty: Double?
  /// Per member: its validation subject (inner validation gives each its own).
  public var memberValidationSubjects: [String?]? = nil
  /// Per member: its best validation loss (MSE, BW^2), nil without validation. Their mean
  /// chooses the `selected` feature set.
  public var bestValidationLosses: [Double?]? = nil
  /// The settings `kneeforce tune` chose for this fold, when the sweep used them.
  public var tunedSettings: [String: Double]? = nil
  /// Only in a `selected` row's derived record: the feature set chosen for the fold.
  public var selectedFeatures: String? = nil

  public var failed: Bool { status != "ok" }

  enum CodingKeys: String, CodingKey {
    case format, unit, status, failure, seeds, seconds, files
    case trainingSubjects = "training_subjects"
    case validationSubject = "validation_subject"
    case epochsTrained = "epochs_trained"
    case bestEpochs = "best_epochs"
    case trainingSequences = "training_sequences"
    case heldOutActivities = "held_out_activities"
    case ridgePenalty = "ridge_penalty"
    case memberValidationSubjects = "member_validation_subjects"
    case bestValidationLosses = "best_validation_losses"
    case selectedFeatures = "selected_features"
    case tunedSettings = "tuned_settings"
  }
}

/// Reads and writes the journal of a sweep folder.
public enum UnitJournal {
  public static let entryName = "unit.json"

  public static func folder(_ out: URL, _ key: UnitKey) -> URL {
    out.appendingPathComponent("units").appendingPathComponent(key.folderName)
  }

  public static func write(_ record: UnitRecord, in out: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(
      try encoder.encode(record),
      to: folder(out, record.unit).appendingPathComponent(entryName))
  }

  /// The finished unit's entry, or nil when the unit has not finished (no or unreadable
  /// entry).
  public static func read(_ key: UnitKey, in out: URL) -> UnitRecord? {
    let url = folder(out, key).appendingPathComponent(entryName)
    guard let data = FileManager.default.contents(atPath: url.path),
      let record = try? JSONDecoder().decode(UnitRecord.self, from: data), record.unit == key
    else { return nil }
    return record
  }

  /// Every finished unit in `out/units`.
  public static func all(in out: URL) -> [UnitRecord] {
    let units = out.appendingPathComponent("units")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: units.path)) ?? []
    return names.sorted().compactMap { name in
      let url = units.appendingPathComponent(name).appendingPathComponent(entryName)
      guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
      return try? JSONDecoder().decode(UnitRecord.self, from: data)
    }
  }

  /// The unit's predictions, read back from its folder.
  public static func predictions(_ key: UnitKey, in out: URL) throws -> UnitPredictions {
    let url = folder(out, key).appendingPathComponent("predictions.csv")
    guard let data = FileManager.default.contents(atPath: url.path) else {
      throw ExperimentError("\(url.path) is missing")
    }
    return try UnitPredictions(csv: String(decoding: data, as: UTF8.self), file: url.path)
  }
}
