import Foundation
import KneeForceCompute
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
  /// Explicit feature sets (`all`, `no_<group>` or groups joined by `+`, e.g. `grf+kin`);
  /// nil: `all`, and the LOFO sets with `lofo`.
  public var featureSetList: [String]?
  /// With several feature sets: also score, per fold, the set whose members had the lowest
  /// mean inner-validation loss (the `selected` rows; docs/SWEEP_OUTPUTS.md).
  public var selectInputs = true
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
  /// `adamw`: decoupled weight decay (the decay does not pass through Adam's scaling, so
  /// large values regularise evenly); `adam`: L2 added to the gradient.
  public var optimizer: Optimizer = .adam
  public var maxGradNorm: Float = 1
  /// Perturbations of training batches (docs/SWEEP_OUTPUTS.md, "Training recipe").
  public var augmentation = Augmentation.off
  /// How each member's inputs are z-scored.
  public var normalization: InputNormalization = .training
  /// The curve the networks' output is added to: they learn the residual.
  public var residual: ResidualBase = .none
  /// How members are validated (early stopping, best epoch).
  public var validation: ValidationScheme = .next
  /// Members per fold unit (per inner fold with `.inner`), seeds `seed` ..< `seed + seeds`.
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
  /// Per-fold settings chosen by `kneeforce tune` (`sweep --tuned`); a unit without a choice
  /// uses the options as they are.
  public var tuned: [TunedChoice]?
  /// The gait events the `aligned_curve` baseline (and residual base) aligns on.
  public var alignedEvents = AlignedEvents.default

  public init() {}

  /// Older sweep.json files lack the newer keys: they decode to the values those sweeps ran
  /// with (`next` validation, no explicit feature sets, default aligned events).
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = SweepOptions()
    models = try c.decode([ModelConfig.Kind].self, forKey: .models)
    inputs = try c.decode([String].self, forKey: .inputs)
    lofo = try c.decode(Bool.self, forKey: .lofo)
    featureSetList = try c.decodeIfPresent([String].self, forKey: .featureSetList)
    selectInputs = try c.decodeIfPresent(Bool.self, forKey: .selectInputs) ?? d.selectInputs
    activities = try c.decodeIfPresent([String].self, forKey: .activities)
    perActivity = try c.decode(Bool.self, forKey: .perActivity)
    epochs = try c.decode(Int.self, forKey: .epochs)
    patience = try c.decode(Int.self, forKey: .patience)
    batchSize = try c.decode(Int.self, forKey: .batchSize)
    learningRate = try c.decode(Float.self, forKey: .learningRate)
    weightDecay = try c.decode(Float.self, forKey: .weightDecay)
    maxGradNorm = try c.decode(Float.self, forKey: .maxGradNorm)
    optimizer = try c.decodeIfPresent(Optimizer.self, forKey: .optimizer) ?? .adam
    augmentation = try c.decodeIfPresent(Augmentation.self, forKey: .augmentation) ?? .off
    normalization =
      try c.decodeIfPresent(InputNormalization.self, forKey: .normalization) ?? .training
    residual = try c.decodeIfPresent(ResidualBase.self, forKey: .residual) ?? .none
    validation = try c.decodeIfPresent(ValidationScheme.self, forKey: .validation) ?? .next
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
    tuned = try c.decodeIfPresent([TunedChoice].self, forKey: .tuned)
    alignedEvents =
      try c.decodeIfPresent(AlignedEvents.self, forKey: .alignedEvents) ?? .default
  }

  enum CodingKeys: String, CodingKey {
    case models, inputs, lofo, activities, epochs, patience, seeds, seed, hidden, layers, mlp
    case channels, levels, dropout, segmentation, backend, validation, tuned, optimizer
    case augmentation, normalization, residual
    case featureSetList = "feature_sets"
    case selectInputs = "select_inputs"
    case perActivity = "per_activity"
    case batchSize = "batch"
    case learningRate = "lr"
    case weightDecay = "weight_decay"
    case maxGradNorm = "max_grad_norm"
    case kernelSize = "kernel_size"
    case lowPassHz = "low_pass_hz"
    case alignedEvents = "aligned_events"
  }

  /// The feature sets of the sweep: the explicit list, or `all`, then `no_<group>` for each
  /// input group with `--lofo` (only where another group remains).
  public var featureSets: [String] {
    if let featureSetList { return featureSetList }
    guard lofo, inputs.count > 1 else { return ["all"] }
    return ["all"] + inputs.map { "no_\($0)" }
  }

  /// The candidates of the `selected` rows: the feature sets when selection is on and there
  /// is more than one; nil otherwise.
  public var selectionSets: [String]? {
    selectInputs && featureSets.count > 1 ? featureSets : nil
  }

  /// The input groups of a feature set: `all` = `inputs`; `no_<g>` = `inputs` without g;
  /// otherwise the `+`-joined groups, in `inputs` order.
  public func groups(of featureSet: String) -> [String] {
    if featureSet == "all" { return inputs }
    if featureSet.hasPrefix("no_") {
      let left = String(featureSet.dropFirst(3))
      return inputs.filter { $0 != left }
    }
    let named = Set(featureSet.split(separator: "+").map(String.init))
    return inputs.filter { named.contains($0) }
  }

  /// Why a feature-set name is not usable with `inputs`, or nil.
  public func problem(featureSet name: String) -> String? {
    if name == "all" { return nil }
    if name.hasPrefix("no_") {
      let left = String(name.dropFirst(3))
      guard inputs.contains(left) else { return "'\(name)': \(left) is not among --inputs" }
      return inputs.count > 1 ? nil : "'\(name)' leaves no input group"
    }
    let parts = name.split(separator: "+", omittingEmptySubsequences: false).map(String.init)
    for part in parts where !inputs.contains(part) {
      return "'\(name)': '\(part)' is not among --inputs (\(inputs.joined(separator: ", ")))"
    }
    return Set(parts).count == parts.count ? nil : "'\(name)' names a group twice"
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

public enum Optimizer: String, Codable, Sendable, CaseIterable {
  case adam
  case adamw
}

/// How a network's inputs are z-scored.
public enum InputNormalization: String, Codable, Sendable, CaseIterable {
  /// With the mean and SD of the unit's training subjects (a checkpoint keeps them).
  case training
  /// Each subject's inputs with that subject's own mean and SD over its sequences, which a
  /// new patient also has: offsets and gains that differ between subjects (marker placement,
  /// EMG normalisation) are removed before the network sees them. `predict` z-scores a new
  /// patient with the statistics of the trials it is given.
  case subject
}

/// The curve a network's output is added to (residual targets). The network's last layer
/// starts at zero, so every member starts exactly at the base curve.
public enum ResidualBase: String, Codable, Sendable, CaseIterable {
  case none
  /// The member's training subjects' mean curve per activity.
  case meanCurve = "mean_curve"
  /// That mean curve time-warped to each sequence's own events (`aligned_curve`, with the
  /// sweep's `aligned_events`).
  case alignedCurve = "aligned_curve"
}

/// How a network unit's members are validated, for early stopping and the best epoch.
public enum ValidationScheme: String, Codable, Sendable, CaseIterable {
  /// One validation subject per unit: the training subject after the held-out one in sorted
  /// order; it is not trained on. Members are the seeds.
  case next
  /// Inner leave-one-subject-out: for each training subject v, members train on the other
  /// training subjects and stop on v. The unit's prediction is the mean of all inner members,
  /// each at its own best epoch (an ensemble, not a refit), so every training subject is
  /// trained on by most members and the outer held-out subject is never seen.
  case inner
}

/// How a sweep is run; nothing here changes its results.
public struct SweepRunSettings: Sendable {
  /// Units trained together in lockstep; nil chooses from the device's memory.
  public var foldBatch: Int?
  /// `(index, count)`, index 1...count.
  public var shard: (index: Int, count: Int) = (1, 1)
  /// Whether to continue the units journalled in the output folder.
  public var resume = false
  /// The command that writes the folder (`sweep`, `train`, `tune`).
  public var command = "sweep"
  /// False for `kneeforce tune`'s trainings: no baselines, no held-out predictions or scores.
  public var scoresHeldOut = true

  public init() {}
}
