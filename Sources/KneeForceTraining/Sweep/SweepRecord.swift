import Foundation
import KneeForceData
import KneeForceFiles

/// `OUT/sweep.json` (docs/SWEEP_OUTPUTS.md): what was run, on what, where and how long.
public struct SweepRecord: Codable, Equatable, Sendable {
  public struct DataInfo: Codable, Equatable, Sendable {
    public var folder: String
    public var fingerprint: String
    public var synthetic: Bool
    public var subjects: [String]
    public var trialsPerActivity: [String: Int]
    public var sequences: Int

    enum CodingKeys: String, CodingKey {
      case folder, fingerprint, synthetic, subjects, sequences
      case trialsPerActivity = "trials_per_activity"
    }
  }

  public struct RunInfo: Codable, Equatable, Sendable {
    public var device: String
    public var foldBatch: Int
    public var plannedMemoryBytes: Int
    public var threads: Int

    enum CodingKeys: String, CodingKey {
      case device, threads
      case foldBatch = "fold_batch"
      case plannedMemoryBytes = "planned_memory_bytes"
    }
  }

  public struct Units: Codable, Equatable, Sendable {
    public var planned: Int
    public var finished: Int
    public var failed: Int
  }

  public struct Shard: Codable, Equatable, Sendable {
    public var index: Int
    public var count: Int
  }

  public struct Timings: Codable, Equatable, Sendable {
    public var started: String
    public var seconds: Double
    public var trainingSeconds: Double
    public var baselineSeconds: Double

    enum CodingKeys: String, CodingKey {
      case started, seconds
      case trainingSeconds = "training_seconds"
      case baselineSeconds = "baseline_seconds"
    }
  }

  public var format = 1
  public var command: String
  public var version = KneeForceVersion.current
  public var commit = BuildInfo.commit
  public var options: SweepOptions
  /// `--held-out` of `kneeforce train` (nil: every subject in turn; `none`: all subjects).
  public var heldOut: [String]?
  public var run: RunInfo
  public var data: DataInfo
  public var units: Units
  public var shard: Shard
  public var timings: Timings
  public var complete: Bool
  public var mergedFrom: [String]?

  enum CodingKeys: String, CodingKey {
    case format, command, version, commit, options, run, data, units, shard, timings, complete
    case heldOut = "held_out"
    case mergedFrom = "merged_from"
  }

  public static let fileName = "sweep.json"

  public func write(to out: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(try encoder.encode(self), to: out.appendingPathComponent(Self.fileName))
  }

  public static func read(from out: URL) throws -> SweepRecord? {
    let url = out.appendingPathComponent(fileName)
    guard FileKind(path: url.path) != .missing else { return nil }
    do {
      return try JSONDecoder().decode(SweepRecord.self, from: try RegularFile.read(url.path))
    } catch {
      throw ExperimentError("\(url.path) is not a readable sweep record: \(error)")
    }
  }

  /// Why `other` cannot continue or join this sweep (nil when it can): options, held-out
  /// selection and data must be the same.
  public func mismatch(with other: SweepRecord) -> String? {
    if data.fingerprint != other.data.fingerprint {
      return "the data differ (fingerprint \(data.fingerprint) in \(data.folder), "
        + "\(other.data.fingerprint) in \(other.data.folder))"
    }
    if command != other.command {
      return
        "one folder was written by `kneeforce \(command)`, the other by `kneeforce \(other.command)`"
    }
    if heldOut != other.heldOut {
      return "the held-out subjects differ"
    }
    if options != other.options {
      return "the options differ: " + SweepRecord.differences(options, other.options)
    }
    return nil
  }

  /// The option fields that differ, as `name: a vs b`.
  static func differences(_ a: SweepOptions, _ b: SweepOptions) -> String {
    func fields(_ o: SweepOptions) -> [String: String] {
      guard let data = try? JSONEncoder().encode(o),
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
      else { return [:] }
      // Nested objects (augmentation, tuned settings) as sorted JSON: a dictionary's own
      // description has no fixed key order.
      return object.mapValues { value in
        (try? JSONSerialization.data(
          withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]))
          .flatMap { String(data: $0, encoding: .utf8) } ?? "\(value)"
      }
    }
    let (x, y) = (fields(a), fields(b))
    let keys = Set(x.keys).union(y.keys).sorted().filter { x[$0] != y[$0] }
    return keys.map { "\($0) \(x[$0] ?? "unset") vs \(y[$0] ?? "unset")" }.joined(separator: "; ")
  }
}

extension SweepRecord.DataInfo {
  public init(dataset: Dataset, data: SweepData) {
    var trials: [String: Set<String>] = [:]
    for (i, id) in data.sequences.trialIDs.enumerated() {
      trials[data.sequences.activities[i], default: []].insert(id)
    }
    self.init(
      folder: dataset.folder, fingerprint: DataFingerprint.of(dataset),
      synthetic: DataFingerprint.isSynthetic(dataset), subjects: data.subjects,
      trialsPerActivity: trials.mapValues(\.count), sequences: data.sequences.count)
  }
}
