import Foundation

/// What identifies a unit of a sweep: one fold of one model (or baseline) on one feature set
/// and activity set. docs/SWEEP_OUTPUTS.md ("Units") describes the values.
public struct UnitKey: Hashable, Codable, Sendable, Comparable {
  public static let baselines = ["mean_curve", "aligned_curve", "ridge", "ridge_subject"]
  /// The `subject` of a unit trained on every subject (`train --all-subjects`).
  public static let noSubject = "none"

  /// `bilstm_mlp`, `tcn`, or a baseline: `mean_curve`, `aligned_curve`, `ridge`,
  /// `ridge_subject`.
  public var model: String
  /// `all` or `no_<group>`.
  public var features: String
  /// `all` (every activity) or the one activity the unit trains on.
  public var activities: String
  /// The held-out subject, or `none`.
  public var subject: String

  public init(model: String, features: String, activities: String, subject: String) {
    self.model = model
    self.features = features
    self.activities = activities
    self.subject = subject
  }

  public var isBaseline: Bool { UnitKey.baselines.contains(model) }

  /// `<model>__<features>__<activities>__<subject>`, with unusual characters escaped.
  public var folderName: String {
    [model, features, activities, subject].map(UnitKey.escaped).joined(separator: "__")
  }

  public var description: String {
    "\(model) \(features) activities=\(activities) held-out=\(subject)"
  }

  /// Characters other than `A-Z a-z 0-9 . _ -` as `~XX` (hex of the UTF-8 byte), and so is
  /// an underscore that would touch the `__` separator (first, last, or after another one)
  /// and a leading dot, so that names are unambiguous and never hidden.
  static func escaped(_ id: String) -> String {
    let bytes = Array(id.utf8)
    guard !bytes.isEmpty else { return "~" }
    var out = ""
    for (i, byte) in bytes.enumerated() {
      let alphanumeric =
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte)
        || (0x61...0x7A).contains(byte)
      let underscore =
        byte == 0x5F && i > 0 && i < bytes.count - 1 && bytes[i - 1] != 0x5F
      let plain = alphanumeric || byte == 0x2D || (byte == 0x2E && i > 0) || underscore
      out += plain ? String(UnicodeScalar(byte)) : String(format: "~%02X", byte)
    }
    return out
  }

  /// Results order: networks, then baselines; `all` features first; `all` activities first.
  public static func < (a: UnitKey, b: UnitKey) -> Bool {
    let ma = UnitKey.modelRank(a.model)
    let mb = UnitKey.modelRank(b.model)
    if ma != mb { return ma < mb }
    let fa = UnitKey.featureRank(a.features)
    let fb = UnitKey.featureRank(b.features)
    if fa != fb { return fa < fb }
    if a.activities != b.activities {
      if a.activities == "all" { return true }
      if b.activities == "all" { return false }
      return a.activities < b.activities
    }
    return a.subject < b.subject
  }

  static func modelRank(_ model: String) -> (Int, String) {
    let order = ["bilstm_mlp", "tcn"] + baselines
    return (order.firstIndex(of: model) ?? order.count, model)
  }

  static func featureRank(_ features: String) -> (Int, String) {
    let order = ["selected", "all", "no_kin", "no_grf", "no_emg"]
    return (order.firstIndex(of: features) ?? order.count, features)
  }
}

/// One member of a network unit: one model trained on `training`, stopped on `validation`.
public struct PlannedMember: Sendable, Equatable {
  public var training: [String]
  /// nil: no validation, the last epoch is kept.
  public var validation: String?
  /// The member's position in the unit: its seed is `SweepOptions.memberSeed(index)`.
  public var index: Int
}

/// A unit with the data it trains on, as the planner lays it out.
public struct PlannedUnit: Sendable, Equatable {
  public var key: UnitKey
  /// nil for `--all-subjects`.
  public var heldOut: String?
  /// Subjects whose sequences the networks train on (the validation subject excluded).
  public var trainingSubjects: [String]
  /// The subject for early stopping, or nil (`--patience 0`, baselines, inner validation).
  public var validationSubject: String?
  /// The members of a network unit (inner folds x seeds, or seeds); empty for baselines.
  public var members: [PlannedMember] = []
  /// Settings chosen for this fold by `kneeforce tune`, or nil.
  public var tuned: [String: Double]? = nil
  /// Sequences trained on (networks) or fitted (baselines).
  public var trainingSequences: Int
  /// The shard budget: the members' training sequences x max epochs; sequences for
  /// baselines.
  public var cost: Double

  /// The (model, feature set) group that fold-batches together and that sharding keeps
  /// together where it balances.
  public var group: String {
    "\(key.model)__\(key.features)" + (tuned.map { "__" + TunedChoice.label($0) } ?? "")
  }
}
