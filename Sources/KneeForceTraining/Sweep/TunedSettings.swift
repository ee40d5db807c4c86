import Foundation

/// Settings a nested-LOSO search (`kneeforce tune`) may choose per fold, by name, as they
/// are spelt in sweep.json and on the command line (with `-` for `_`). Values are numbers;
/// integer settings must be whole.
public enum TunableSetting {
  public static let names = [
    "hidden", "layers", "channels", "levels", "kernel_size", "dropout", "weight_decay", "lr",
    "epochs", "batch", "noise", "channel_offset", "channel_gain", "time_warp",
  ]

  /// The valid range of each setting, for `--grid` checks and help.
  public static func range(_ name: String) -> ClosedRange<Double>? {
    switch name {
    case "hidden", "channels": return 1...4096
    case "layers": return 1...16
    case "levels": return 1...24
    case "kernel_size": return 1...64
    case "dropout": return 0...0.95
    case "weight_decay": return 0...10
    case "lr": return 1e-7...10
    case "epochs": return 1...100_000
    case "batch": return 1...4096
    case "noise", "channel_offset", "channel_gain": return 0...10
    case "time_warp": return 0...0.9
    default: return nil
    }
  }

  static let integers: Set<String> = [
    "hidden", "layers", "channels", "levels", "kernel_size", "epochs", "batch",
  ]

  /// Why `value` is not usable for `name`, or nil.
  public static func problem(_ name: String, _ value: Double) -> String? {
    guard let range = range(name) else {
      return "unknown setting '\(name)' (\(names.joined(separator: ", ")))"
    }
    guard range.contains(value) else {
      return "\(name) \(formatNumber(value)) is outside \(formatNumber(range.lowerBound))..."
        + formatNumber(range.upperBound)
    }
    if integers.contains(name), value.rounded() != value {
      return "\(name) must be a whole number, not \(formatNumber(value))"
    }
    return nil
  }
}

/// One fold's chosen settings (`SweepOptions.tuned`).
public struct TunedChoice: Codable, Equatable, Sendable {
  public var model: String
  public var features: String
  public var activities: String
  public var subject: String
  public var settings: [String: Double]

  public init(
    model: String, features: String, activities: String, subject: String,
    settings: [String: Double]
  ) {
    self.model = model
    self.features = features
    self.activities = activities
    self.subject = subject
    self.settings = settings
  }

  /// `name=value;...` in name order (no comma, so that it is one CSV field): the settings'
  /// part of a lockstep group's name and of tune.csv.
  public var label: String { TunedChoice.label(settings) }

  public static func label(_ settings: [String: Double]) -> String {
    settings.keys.sorted().map { "\($0)=\(formatNumber(settings[$0]!))" }.joined(separator: ";")
  }
}

extension SweepOptions {
  /// These options with `settings` applied (names from `TunableSetting`).
  public func applying(_ settings: [String: Double]) throws -> SweepOptions {
    var o = self
    for (name, value) in settings {
      if let problem = TunableSetting.problem(name, value) { throw ExperimentError(problem) }
      switch name {
      case "hidden": o.hidden = Int(value)
      case "layers": o.layers = Int(value)
      case "channels": o.channels = Int(value)
      case "levels": o.levels = Int(value)
      case "kernel_size": o.kernelSize = Int(value)
      case "dropout": o.dropout = value
      case "weight_decay": o.weightDecay = Float(value)
      case "lr": o.learningRate = Float(value)
      case "epochs": o.epochs = Int(value)
      case "batch": o.batchSize = Int(value)
      case "noise": o.augmentation.noise = Float(value)
      case "channel_offset": o.augmentation.offset = Float(value)
      case "channel_gain": o.augmentation.gain = Float(value)
      case "time_warp": o.augmentation.timeWarp = Float(value)
      default: break
      }
    }
    return o
  }

  /// The tuned settings of a unit, or nil where the sweep has none for it.
  public func tunedSettings(for key: UnitKey) -> [String: Double]? {
    tuned?.first {
      $0.model == key.model && $0.features == key.features && $0.activities == key.activities
        && $0.subject == key.subject
    }?.settings
  }
}
