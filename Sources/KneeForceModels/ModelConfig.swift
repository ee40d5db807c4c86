import Foundation

/// The architecture of one network. Field names are the checkpoint metadata's JSON keys, so a
/// checkpoint written by PyTorch (scripts/kneeforce_torch.py) and one written here agree.
public struct ModelConfig: Codable, Equatable, Sendable {
  public enum Kind: String, Codable, CaseIterable, Sendable {
    case bilstmMLP = "bilstm_mlp"
    case tcn
  }

  public var model: Kind
  public var inputs: Int
  public var outputs: Int
  public var hidden: Int?
  public var layers: Int?
  public var mlp: [Int]?
  public var channels: Int?
  public var levels: Int?
  public var kernelSize: Int?
  public var dropout: Double

  enum CodingKeys: String, CodingKey {
    case model, inputs, outputs, hidden, layers, mlp, channels, levels, dropout
    case kernelSize = "kernel_size"
  }

  /// The defaults of Derungs et al.'s setup as this project trains it: biLSTM hidden 64,
  /// 2 layers, MLP [128, 64]; TCN 64 channels, 4 levels, kernel 3; dropout 0.1.
  public static func bilstmMLP(
    inputs: Int, outputs: Int = 3, hidden: Int = 64, layers: Int = 2, mlp: [Int] = [128, 64],
    dropout: Double = 0.1
  ) -> ModelConfig {
    ModelConfig(
      model: .bilstmMLP, inputs: inputs, outputs: outputs, hidden: hidden, layers: layers,
      mlp: mlp, channels: nil, levels: nil, kernelSize: nil, dropout: dropout)
  }

  public static func tcn(
    inputs: Int, outputs: Int = 3, channels: Int = 64, levels: Int = 4, kernelSize: Int = 3,
    dropout: Double = 0.1
  ) -> ModelConfig {
    ModelConfig(
      model: .tcn, inputs: inputs, outputs: outputs, hidden: nil, layers: nil, mlp: nil,
      channels: channels, levels: levels, kernelSize: kernelSize, dropout: dropout)
  }

  /// Checks the fields the architecture needs, naming the first one missing or out of range.
  public func validate() throws {
    func positive(_ value: Int?, _ field: String) throws {
      guard let value else { throw ModelError.invalidConfig("missing required field '\(field)'") }
      guard value > 0 else {
        throw ModelError.invalidConfig("field '\(field)' must be positive, got \(value)")
      }
    }
    try positive(inputs, "inputs")
    try positive(outputs, "outputs")
    guard dropout >= 0, dropout < 1 else {
      throw ModelError.invalidConfig("field 'dropout' must be in [0, 1), got \(dropout)")
    }
    switch model {
    case .bilstmMLP:
      try positive(hidden, "hidden")
      try positive(layers, "layers")
      guard let mlp else { throw ModelError.invalidConfig("missing required field 'mlp'") }
      guard mlp.count == 2, mlp.allSatisfy({ $0 > 0 }) else {
        throw ModelError.invalidConfig("field 'mlp' must be two positive widths, got \(mlp)")
      }
    case .tcn:
      try positive(channels, "channels")
      try positive(levels, "levels")
      try positive(kernelSize, "kernel_size")
    }
  }
}
