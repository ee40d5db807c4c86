import Foundation
import KneeForceData
import KneeForceModels

/// The settings of a sweep that change its results: data selection, models, inputs, training
/// and architecture. `--resume` and `merge` compare exactly these (plus the data fingerprint
/// and the backend kind); how the work is run (device index, fold batch, threads, shard) is
/// not part of them. Every default is documented in the README ("Sweeps").
public struct SweepOptions: Codable, Equatable, Sendable {
  /// Networks to train: `bilstm_mlp`, `tcn`.
  public var models: [ModelConfig.Kind] = ModelConfig.Kind.allCases
  /// Input groups (`kin`, `grf`, `emg`): the `all` feature set.
  public var inputs: [String] = ChannelConventions.inputGroups
  /// Leave-one-feature-group-out: `all` and every `no_<group>`.
  public var lofo = false
  /// Only trials of these activities, or all when nil.
  public var activities: [String]?
  /// One model per activity instead of one per fold on every activity.
  public var perActivity = false
  /// Maximum epochs per member.
  public var epochs = 60
  /// Epochs without a better validation loss before a member stops; 0: no validation
  /// subject, keep the last epoch.
  public var patience = 10
  public var batchSize = 32
  public var learningRate: Float = 3e-3
  public var weightDecay: Float = 0
  public var maxGradNorm: Float = 1
  /// Members per fold unit, seeds `seed` ..< `seed + seeds`.
  public var seeds = 1
  public var seed: UInt64 = 0
  /// Architecture overrides; nil keeps `ModelConfig`'s defaults.
  public var hidden: Int?
  public var layers: Int?
  public var mlp: [Int]?
  public var channels: Int?
  public var levels: Int?
  public var kernelSize: Int?
  public var dropout: Double?
  /// Segmentation and filtering of the feature pipeline (groups and activities are set from
  /// `inputs` and `activities`).
  public var segmentation: Segmentation = .default
  public var lowPassHz: Double?
  /// `cpu` or `opencl`: the backends agree to rounding, not bitwise.
  public var backend = "cpu"
  /// The gait events the `aligned_curve` baseline aligns on.
  public var alignedEvents = AlignedEvents.default

  public init() {}

  /// Every field is required except `aligned_events`, which sweeps written before it existed
  /// lack: they read as the default, so that `--resume` and `merge` still accept them.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    models = try c.decode([ModelConfig.Kind].self, forKey: .models)
    inputs = try c.decode([String].self, forKey: .inputs)
    lofo = try c.decode(Bool.self, forKey: .lofo)
    activities = try c.decodeIfPresent([String].self, forKey: .activities)
    perActivity = try c.decode(Bool.self, forKey: .perActivity)
    epochs = try c.decode(Int.self, forKey: .epochs)
    patience = try c.decode(Int.self, forKey: .patience)
    batchSize = try c.decode(Int.self, forKey: .batchSize)
    learningRate = try c.decode(Float.self, forKey: .learningRate)
    weightDecay = try c.decode(Float.self, forKey: .weightDecay)
    maxGradNorm = try c.decode(Float.self, forKey: .maxGradNorm)
    seeds = try c.decode(Int.self, forKey: .seeds)
    seed = try c.decode(UInt64.self, forKey: .seed)
    hidden = try c.decodeIfPresent(Int.self, forKey: .hidden)
    layers = try c.decodeIfPresent(Int.self, forKey: .layers)
    mlp = try c.decodeIfPresent([Int].self, forKey: .mlp)
    channels = try c.decodeIfPresent(Int.self, forKey: .channels)
    levels = try c.decodeIfPresent(Int.self, forKey: .levels)
    kernelSize = try c.decodeIfPresent(Int.self, forKey: .kernelSize)
    dropout = try c.decodeIfPresent(Double.self, forKey: .dropout)
    segmentation = try c.decode(Segmentation.self, forKey: .segmentation)
    lowPassHz = try c.decodeIfPresent(Double.self, forKey: .lowPassHz)
    backend = try c.decode(String.self, forKey: .backend)
    alignedEvents =
      try c.decodeIfPresent(AlignedEvents.self, forKey: .alignedEvents) ?? .default
  }

  enum CodingKeys: String, CodingKey {
    case models, inputs, lofo, activities, epochs, patience, seeds, seed, hidden, layers, mlp
    case channels, levels, dropout, segmentation, backend
    case perActivity = "per_activity"
    case batchSize = "batch"
    case learningRate = "lr"
    case weightDecay = "weight_decay"
    case maxGradNorm = "max_grad_norm"
    case kernelSize = "kernel_size"
    case lowPassHz = "low_pass_hz"
    case alignedEvents = "aligned_events"
  }

  /// The feature sets of the sweep: `all`, then `no_<group>` for each input group with
  /// `--lofo` (only where another group remains).
  public var featureSets: [String] {
    guard lofo, inputs.count > 1 else { return ["all"] }
    return ["all"] + inputs.map { "no_\($0)" }
  }

  /// The input groups of a feature set.
  public func groups(of featureSet: String) -> [String] {
    guard featureSet.hasPrefix("no_") else { return inputs }
    let left = String(featureSet.dropFirst(3))
    return inputs.filter { $0 != left }
  }

  /// The pipeline settings that produce the sequences of every channel of `inputs`.
  public var features: FeatureOptions {
    FeatureOptions(
      groups: inputs, segmentation: segmentation, lowPassHz: lowPassHz, filterTargets: false,
      activities: activities)
  }

  /// The architecture of `kind` on `inputs` channels, with the overrides applied.
  public func config(_ kind: ModelConfig.Kind, inputs: Int) -> ModelConfig {
    var c: ModelConfig =
      kind == .bilstmMLP ? .bilstmMLP(inputs: inputs) : .tcn(inputs: inputs)
    if kind == .bilstmMLP {
      c.hidden = hidden ?? c.hidden
      c.layers = layers ?? c.layers
      c.mlp = mlp ?? c.mlp
    } else {
      c.channels = channels ?? c.channels
      c.levels = levels ?? c.levels
      c.kernelSize = kernelSize ?? c.kernelSize
    }
    c.dropout = dropout ?? c.dropout
    return c
  }

  /// The seed of member `member` of every unit: `--seed X` plus the member index, mixed with
  /// nothing else, so that a unit gives the same result in any fold batch, shard or resume.
  public func memberSeed(_ member: Int) -> UInt64 { seed &+ UInt64(member) }
}

/// How a sweep is run; nothing here changes its results.
public struct SweepRunSettings: Sendable {
  /// Units trained together in lockstep; nil chooses from the device's memory.
  public var foldBatch: Int?
  /// `(index, count)`, index 1...count.
  public var shard: (index: Int, count: Int) = (1, 1)
  /// Whether to continue the units journalled in the output folder.
  public var resume = false
  /// The command that writes the folder (`sweep`, `train`).
  public var command = "sweep"

  public init() {}
}
