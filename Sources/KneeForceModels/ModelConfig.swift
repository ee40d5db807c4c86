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

  /// The largest architecture accepted anywhere (CLI options, checkpoints): far beyond what
  /// gait data needs, small enough that no size computation overflows and that a TCN's
  /// dilation 2^(levels-1) stays a sane integer. The CLI's help quotes these ranges.
  public enum Limits {
    public static let inputs = 1...4096
    public static let outputs = 1...64
    public static let hidden = 1...4096
    public static let layers = 1...16
    public static let mlpWidth = 1...8192
    public static let channels = 1...4096
    public static let levels = 1...24
    public static let kernelSize = 1...64
    /// Parameters per model: 2^31 floats (8 GiB) is beyond any device's memory here.
    public static let parameters = 1...(1 << 31)
  }

  /// Checks the fields the architecture needs, naming the first one missing or out of range.
  public func validate() throws {
    func positive(_ value: Int?, _ field: String, _ range: ClosedRange<Int>) throws {
      guard let value else { throw ModelError.invalidConfig("missing required field '\(field)'") }
      guard range.contains(value) else {
        throw ModelError.invalidConfig(
          "field '\(field)' must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
      }
    }
    try positive(inputs, "inputs", Limits.inputs)
    try positive(outputs, "outputs", Limits.outputs)
    guard dropout >= 0, dropout < 1 else {
      throw ModelError.invalidConfig("field 'dropout' must be in [0, 1), got \(dropout)")
    }
    switch model {
    case .bilstmMLP:
      try positive(hidden, "hidden", Limits.hidden)
      try positive(layers, "layers", Limits.layers)
      guard let mlp else { throw ModelError.invalidConfig("missing required field 'mlp'") }
      guard mlp.count == 2, mlp.allSatisfy({ Limits.mlpWidth.contains($0) }) else {
        throw ModelError.invalidConfig(
          "field 'mlp' must be two widths in 1...\(Limits.mlpWidth.upperBound), got \(mlp)")
      }
    case .tcn:
      try positive(channels, "channels", Limits.channels)
      try positive(levels, "levels", Limits.levels)
      try positive(kernelSize, "kernel_size", Limits.kernelSize)
    }
    let count = parameterCountEstimate
    guard Limits.parameters.contains(count) else {
      throw ModelError.invalidConfig(
        "the architecture has about \(count) parameters per model, more than the "
          + "\(Limits.parameters.upperBound) this build accepts")
    }
  }

  /// Parameter count from the fields (within the limits above no product overflows).
  public var parameterCountEstimate: Int {
    switch model {
    case .bilstmMLP:
      let h = hidden ?? 0
      let widths = mlp ?? []
      var total = 0
      for layer in 0..<(layers ?? 0) {
        let input = layer == 0 ? inputs : 2 * h
        total += 2 * (4 * h * input + 4 * h * h + 8 * h)
      }
      var previous = 2 * h
      for w in widths + [outputs] {
        total += previous * w + w
        previous = w
      }
      return total
    case .tcn:
      let c = channels ?? 0
      let k = kernelSize ?? 0
      var total = 0
      var previous = inputs
      for _ in 0..<(levels ?? 0) {
        total += previous * c * k + c + c * c * k + c
        if previous != c { total += previous * c + c }
        previous = c
      }
      return total + c * outputs + outputs
    }
  }
}
