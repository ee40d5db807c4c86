import Foundation
import KneeForceCompute
import SafeTensors

/// Checkpoints are safetensors files holding exactly PyTorch's `state_dict()` of the
/// definitions in scripts/kneeforce_torch.py, plus `__metadata__["kneeforce"]`: a JSON object
/// (as a string) with the architecture and whatever training adds for prediction (channel
/// names, normalisation, ...). So a checkpoint moves between PyTorch and KneeForce unchanged.
public enum Checkpoint {
  public static let metadataKey = "kneeforce"

  public struct Loaded {
    /// Every member of the checkpoint, member k as model index k.
    public let model: SequenceModel
    /// The whole `kneeforce` metadata object, architecture fields included.
    public let metadata: [String: Any]
    /// The same object, typed: what training wrote for prediction.
    public let info: CheckpointMetadata
  }

  public struct LoadError: Error, CustomStringConvertible {
    public let description: String
  }

  /// Reads a checkpoint, checks every tensor name, shape and dtype against the architecture
  /// its metadata describes, and builds the model on `backend`.
  public static func load(from url: URL, backend: ComputeBackend) throws -> Loaded {
    let file = try SafeTensorsFile.read(from: url)
    let path = url.path
    guard let json = file.metadata[metadataKey] else {
      throw LoadError(
        description: "\(path): no '\(metadataKey)' entry in __metadata__; a KneeForce checkpoint "
          + "carries the model's architecture there")
    }
    guard let data = json.data(using: .utf8),
      let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    else {
      throw LoadError(description: "\(path): __metadata__['\(metadataKey)'] is not a JSON object")
    }
    let config: ModelConfig
    do {
      config = try parseConfig(object)
      try config.validate()
    } catch {
      throw LoadError(description: "\(path): \(error)")
    }
    let info: CheckpointMetadata
    do {
      info = try JSONDecoder().decode(CheckpointMetadata.self, from: data)
    } catch {
      throw LoadError(description: "\(path): __metadata__['\(metadataKey)']: \(error)")
    }
    let members = max(info.members ?? 1, 1)
    let model = try makeModel(config, backend: backend, models: members)
    let layout = model.parameters.layout
    let expected = Set(
      layout.tensors.flatMap { t in
        (0..<members).map { tensorName(t.name, member: $0, of: members) }
      })
    if let extra = file.tensors.keys.sorted().first(where: { !expected.contains($0) }) {
      throw LoadError(
        description: "\(path): unexpected tensor '\(extra)' for a \(config.model.rawValue) "
          + "with this configuration")
    }
    for member in 0..<members {
      for t in layout.tensors {
        let name = tensorName(t.name, member: member, of: members)
        guard let tensor = file.tensors[name] else {
          throw LoadError(description: "\(path): missing tensor '\(name)' (shape \(t.shape))")
        }
        guard tensor.shape == t.shape else {
          throw LoadError(
            description: "\(path): tensor '\(name)' has shape \(tensor.shape), expected \(t.shape)")
        }
        try model.parameters.write(t.name, try file.floats(name, file: path), model: member)
      }
    }
    return Loaded(model: model, metadata: object, info: info)
  }

  /// A member's tensor name: PyTorch's own with one member, `member<k>.<name>` with several.
  static func tensorName(_ name: String, member: Int, of members: Int) -> String {
    members == 1 ? name : "member\(member).\(name)"
  }

  /// Writes the models at `members` (indices into `model`'s fold-batched parameters) as one
  /// checkpoint, atomically; `metadata.config` and `members` are set from the model.
  public static func save(
    _ model: SequenceModel, members: [Int], metadata: CheckpointMetadata, to url: URL
  ) throws {
    precondition(!members.isEmpty)
    var info = metadata
    info.config = model.config
    info.members = members.count
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let json = try encoder.encode(info)
    var tensors: [String: Tensor] = [:]
    for (k, index) in members.enumerated() {
      for t in model.parameters.layout.tensors {
        tensors[tensorName(t.name, member: k, of: members.count)] = Tensor(
          floats: try model.parameters.read(t.name, model: index), shape: t.shape)
      }
    }
    let file = SafeTensorsFile(
      tensors: tensors, metadata: [metadataKey: String(decoding: json, as: UTF8.self)])
    try file.write(to: url)
  }

  /// Writes model `index`'s weights atomically (temp file + rename). `extra` is merged into the
  /// metadata object next to the architecture fields.
  public static func save(
    _ model: SequenceModel, index: Int = 0, extra: [String: Any] = [:], to url: URL
  ) throws {
    let reserved = Set(
      [
        "model", "inputs", "outputs", "hidden", "layers", "mlp", "channels", "levels",
        "kernel_size", "dropout",
      ])
    if let clash = extra.keys.sorted().first(where: reserved.contains) {
      throw LoadError(
        description: "checkpoint metadata key '\(clash)' is reserved for the architecture")
    }
    var object = extra
    let configData = try JSONEncoder().encode(model.config)
    if let fields = try JSONSerialization.jsonObject(with: configData) as? [String: Any] {
      for (key, value) in fields { object[key] = value }
    }
    let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    var tensors: [String: Tensor] = [:]
    for t in model.parameters.layout.tensors {
      tensors[t.name] = Tensor(
        floats: try model.parameters.read(t.name, model: index), shape: t.shape)
    }
    let file = SafeTensorsFile(
      tensors: tensors, metadata: [metadataKey: String(decoding: json, as: UTF8.self)])
    try file.write(to: url)
  }

  /// Reads the architecture with messages that name the offending field.
  static func parseConfig(_ o: [String: Any]) throws -> ModelConfig {
    guard let name = o["model"] else {
      throw ModelError.invalidConfig("missing required field 'model'")
    }
    guard let text = name as? String, let kind = ModelConfig.Kind(rawValue: text) else {
      throw ModelError.invalidConfig(
        "unknown model '\(name)' in field 'model' (expected bilstm_mlp or tcn)")
    }
    func int(_ key: String, required: Bool) throws -> Int? {
      guard let value = o[key] else {
        if required { throw ModelError.invalidConfig("missing required field '\(key)'") }
        return nil
      }
      guard let number = value as? NSNumber, let exact = Int(exactly: number.doubleValue) else {
        throw ModelError.invalidConfig("field '\(key)' must be an integer, got \(value)")
      }
      return exact
    }
    let lstm = kind == .bilstmMLP
    var mlp: [Int]?
    if lstm {
      guard let raw = o["mlp"] else {
        throw ModelError.invalidConfig("missing required field 'mlp'")
      }
      guard let list = raw as? [NSNumber] else {
        throw ModelError.invalidConfig("field 'mlp' must be an array of two integers, got \(raw)")
      }
      mlp = list.map { $0.intValue }
    }
    var dropout = 0.1
    if let raw = o["dropout"] {
      guard let number = raw as? NSNumber else {
        throw ModelError.invalidConfig("field 'dropout' must be a number, got \(raw)")
      }
      dropout = number.doubleValue
    }
    return ModelConfig(
      model: kind, inputs: try int("inputs", required: true)!,
      outputs: try int("outputs", required: true)!, hidden: try int("hidden", required: lstm),
      layers: try int("layers", required: lstm), mlp: mlp,
      channels: try int("channels", required: !lstm), levels: try int("levels", required: !lstm),
      kernelSize: try int("kernel_size", required: !lstm), dropout: dropout)
  }
}

/// The `kneeforce` metadata of a checkpoint, one JSON object: the architecture's fields
/// (`ModelConfig`, flat) and what training records for prediction. Every field beyond the
/// architecture is optional, so a checkpoint written by PyTorch with only the architecture
/// loads. docs/SWEEP_OUTPUTS.md lists the fields.
public struct CheckpointMetadata: Codable, Equatable, Sendable {
  /// z-score statistics of the inputs, the JSON of KneeForceData's `Normalizer`.
  public struct ZScores: Codable, Equatable, Sendable {
    public var channels: [String]
    public var mean: [Float]
    public var std: [Float]
    public var stdFloor: Float

    public init(channels: [String], mean: [Float], std: [Float], stdFloor: Float) {
      self.channels = channels
      self.mean = mean
      self.std = std
      self.stdFloor = stdFloor
    }
  }

  public var config: ModelConfig
  public var members: Int?
  public var seeds: [UInt64]?
  public var inputChannels: [String]?
  public var targetChannels: [String]?
  public var normalizer: ZScores?
  /// The feature pipeline's settings (KneeForceData's `FeatureOptions` as JSON).
  public var features: JSONValue?
  public var heldOutSubject: String?
  public var trainingSubjects: [String]?
  public var validationSubject: String?
  public var bestEpochs: [Int]?
  /// Per member, with inner validation: the subjects it trained on and stopped on.
  public var memberTrainingSubjects: [[String]]?
  public var memberValidationSubjects: [String?]?
  /// `subject`: each subject's inputs are z-scored with its own statistics (a new patient's
  /// from its own trials), and `normalizer` is not applied; nil or `training`: `normalizer`.
  public var inputNormalization: String?
  /// Per member: the curve the network's output is added to (residual targets), as the JSON
  /// of the training module's base-curve type; nil: the output is the prediction.
  public var baseCurves: [JSONValue]?
  public var dataset: String?
  public var dataFingerprint: String?
  /// True only when every trial of the training data is marked `synthetic = yes`.
  public var synthetic: Bool?
  public var version: String?

  public init(config: ModelConfig) { self.config = config }

  enum CodingKeys: String, CodingKey {
    case members, seeds, normalizer, features, dataset, synthetic, version
    case inputChannels = "input_channels"
    case targetChannels = "target_channels"
    case heldOutSubject = "held_out_subject"
    case trainingSubjects = "training_subjects"
    case validationSubject = "validation_subject"
    case bestEpochs = "best_epochs"
    case dataFingerprint = "data_fingerprint"
    case memberTrainingSubjects = "member_training_subjects"
    case memberValidationSubjects = "member_validation_subjects"
    case inputNormalization = "input_normalization"
    case baseCurves = "base_curves"
  }

  public init(from decoder: Decoder) throws {
    config = try ModelConfig(from: decoder)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    members = try c.decodeIfPresent(Int.self, forKey: .members)
    seeds = try c.decodeIfPresent([UInt64].self, forKey: .seeds)
    inputChannels = try c.decodeIfPresent([String].self, forKey: .inputChannels)
    targetChannels = try c.decodeIfPresent([String].self, forKey: .targetChannels)
    normalizer = try c.decodeIfPresent(ZScores.self, forKey: .normalizer)
    features = try c.decodeIfPresent(JSONValue.self, forKey: .features)
    heldOutSubject = try c.decodeIfPresent(String.self, forKey: .heldOutSubject)
    trainingSubjects = try c.decodeIfPresent([String].self, forKey: .trainingSubjects)
    validationSubject = try c.decodeIfPresent(String.self, forKey: .validationSubject)
    bestEpochs = try c.decodeIfPresent([Int].self, forKey: .bestEpochs)
    memberTrainingSubjects = try c.decodeIfPresent(
      [[String]].self, forKey: .memberTrainingSubjects)
    memberValidationSubjects = try c.decodeIfPresent(
      [String?].self, forKey: .memberValidationSubjects)
    inputNormalization = try c.decodeIfPresent(String.self, forKey: .inputNormalization)
    baseCurves = try c.decodeIfPresent([JSONValue].self, forKey: .baseCurves)
    dataset = try c.decodeIfPresent(String.self, forKey: .dataset)
    dataFingerprint = try c.decodeIfPresent(String.self, forKey: .dataFingerprint)
    synthetic = try c.decodeIfPresent(Bool.self, forKey: .synthetic)
    version = try c.decodeIfPresent(String.self, forKey: .version)
  }

  public func encode(to encoder: Encoder) throws {
    try config.encode(to: encoder)
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encodeIfPresent(members, forKey: .members)
    try c.encodeIfPresent(seeds, forKey: .seeds)
    try c.encodeIfPresent(inputChannels, forKey: .inputChannels)
    try c.encodeIfPresent(targetChannels, forKey: .targetChannels)
    try c.encodeIfPresent(normalizer, forKey: .normalizer)
    try c.encodeIfPresent(features, forKey: .features)
    try c.encodeIfPresent(heldOutSubject, forKey: .heldOutSubject)
    try c.encodeIfPresent(trainingSubjects, forKey: .trainingSubjects)
    try c.encodeIfPresent(validationSubject, forKey: .validationSubject)
    try c.encodeIfPresent(bestEpochs, forKey: .bestEpochs)
    try c.encodeIfPresent(memberTrainingSubjects, forKey: .memberTrainingSubjects)
    try c.encodeIfPresent(memberValidationSubjects, forKey: .memberValidationSubjects)
    try c.encodeIfPresent(inputNormalization, forKey: .inputNormalization)
    try c.encodeIfPresent(baseCurves, forKey: .baseCurves)
    try c.encodeIfPresent(dataset, forKey: .dataset)
    try c.encodeIfPresent(dataFingerprint, forKey: .dataFingerprint)
    try c.encodeIfPresent(synthetic, forKey: .synthetic)
    try c.encodeIfPresent(version, forKey: .version)
  }
}

/// Any JSON value, for metadata fields whose type lives in a module this one does not know.
public indirect enum JSONValue: Codable, Equatable, Sendable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() {
      self = .null
    } else if let b = try? c.decode(Bool.self) {
      self = .bool(b)
    } else if let n = try? c.decode(Double.self) {
      self = .number(n)
    } else if let s = try? c.decode(String.self) {
      self = .string(s)
    } else if let a = try? c.decode([JSONValue].self) {
      self = .array(a)
    } else {
      self = .object(try c.decode([String: JSONValue].self))
    }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .null: try c.encodeNil()
    case .bool(let b): try c.encode(b)
    case .number(let n): try c.encode(n)
    case .string(let s): try c.encode(s)
    case .array(let a): try c.encode(a)
    case .object(let o): try c.encode(o)
    }
  }

  /// `value` as JSON (through its Codable form).
  public init<T: Encodable>(encoding value: T) throws {
    self = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
  }

  /// This JSON decoded as `type`.
  public func decode<T: Decodable>(_ type: T.Type) throws -> T {
    try JSONDecoder().decode(type, from: JSONEncoder().encode(self))
  }
}
