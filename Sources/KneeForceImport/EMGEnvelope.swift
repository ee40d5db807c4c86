import Foundation
import KneeForceData

/// The linear envelope of a raw EMG signal: band-pass (a zero-phase high-pass, the signal
/// minus its own low-pass, then a zero-phase low-pass), full-wave rectification and a
/// zero-phase low-pass. Normalisation to the subject's maximum is done by the importer over
/// all of that subject's imported trials.
public struct EMGEnvelope: Sendable {
  public var highPassHz = 20.0
  public var lowPassHz = 450.0
  public var envelopeHz = 6.0

  public init() {}

  /// The envelope at the signal's own rate. The band-pass upper edge is lowered to 0.45 of
  /// the rate when the signal is sampled too slowly for `lowPassHz`.
  public func envelope(_ raw: [Double], rate: Double) throws -> [Double] {
    guard raw.count > 2 else { return raw.map { abs($0) } }
    var x = raw
    Resampling.fillGaps(&x)
    let mean = x.reduce(0, +) / Double(x.count)
    x = x.map { $0 - mean }
    let high = try Butterworth(cutoffHz: highPassHz, sampleRateHz: rate).filtfilt(x)
    x = zip(x, high).map { $0 - $1 }
    let upper = min(lowPassHz, 0.45 * rate)
    x = try Butterworth(cutoffHz: upper, sampleRateHz: rate).filtfilt(x)
    x = x.map { abs($0) }
    x = try Butterworth(cutoffHz: envelopeHz, sampleRateHz: rate).filtfilt(x)
    return x.map { max($0, 0) }
  }
}

/// Standard EMG channel names for the muscle labels of the labs we import.
public enum MuscleNames {
  static let table: [String: String] = [
    "semimem": "semimembranosus", "bifem": "biceps_femoris", "bifeml": "biceps_femoris",
    "vasmed": "vastus_medialis", "vaslat": "vastus_lateralis", "rf": "rectus_femoris",
    "medgas": "medial_gastrocnemius", "latgas": "lateral_gastrocnemius",
    "tfl": "tensor_fasciae_latae", "tibant": "tibialis_anterior", "peronl": "peroneus_longus",
    "soleus": "soleus", "addmagnus": "adductor_magnus", "addmag": "adductor_magnus",
    "gmax": "gluteus_maximus", "gmed": "gluteus_medius", "sartorius": "sartorius",
    // CAMS-Knee (side letter and channel number removed first)
    "rectfem": "rectus_femoris", "vastusmed": "vastus_medialis", "vastuslat": "vastus_lateralis",
    "hammed": "medial_hamstrings", "hamlat": "lateral_hamstrings",
    "gastromed": "medial_gastrocnemius", "gastrolat": "lateral_gastrocnemius",
  ]

  /// The standard name of a lab label, or nil when it is not a known muscle.
  public static func standard(_ label: String) -> String? {
    table[label.trimmingCharacters(in: .whitespaces).lowercased()]
  }
}
