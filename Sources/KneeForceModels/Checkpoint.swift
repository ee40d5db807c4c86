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
    public let model: SequenceModel
    /// The whole `kneeforce` metadata object, architecture fields included.
    public let metadata: [String: Any]
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
    let model = try makeModel(config, backend: backend)
    let layout = model.parameters.layout
    let expected = Set(layout.tensors.map(\.name))
    if let extra = file.tensors.keys.sorted().first(where: { !expected.contains($0) }) {
      throw LoadError(
        description: "\(path): unexpected tensor '\(extra)' for a \(config.model.rawValue) "
          + "with this configuration")
    }
    var values = [Float](repeating: 0, count: layout.count)
    for t in layout.tensors {
      guard let tensor = file.tensors[t.name] else {
        throw LoadError(description: "\(path): missing tensor '\(t.name)' (shape \(t.shape))")
      }
      guard tensor.shape == t.shape else {
        throw LoadError(
          description: "\(path): tensor '\(t.name)' has shape \(tensor.shape), expected \(t.shape)")
      }
      let floats = try file.floats(t.name, file: path)
      values.replaceSubrange(t.offset..<(t.offset + t.count), with: floats)
    }
    try model.parameters.writeAll(values)
    return Loaded(model: model, metadata: object)
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
