import KneeForceCompute

/// A network mapping `[models][B][T][inputs]` to `[models][B][T][outputs]`: a force at every
/// time step. `backward` overwrites (does not accumulate) the parameter gradients.
///
/// `training` switches dropout; `saveForBackward` says whether a backward will follow. The two
/// are separate: inference, validation and prediction run `training: false,
/// saveForBackward: false`; `kneeforce forward` with `dy` and the parity tests run
/// `training: false, saveForBackward: true`. Each saving forward allows exactly one backward
/// (the LSTM consumes its saved activations in place). `backward` throws `ModelUsageError`
/// when the last forward did not save, when backward already ran for it, or when two saving
/// forwards ran without a backward in between (the first one's activations are gone).
public protocol SequenceModel: AnyObject {
  var config: ModelConfig { get }
  var parameters: ParameterStore { get }
  /// `dropoutKeys` (words, one per model) keys each model's dropout masks by its own stream,
  /// site and model-local element index (models in lockstep); without them `seed` keys
  /// every site by the global element index. `saveForBackward: false` (inference,
  /// validation) keeps nothing for a backward, which then throws.
  func forward(
    _ x: BufferSlice, batch: Int, steps: Int, training: Bool, seed: UInt32,
    dropoutKeys: BufferSlice?, saveForBackward: Bool
  ) throws -> BufferSlice
  /// Returns the input gradient when `inputGradient` is true.
  func backward(_ dy: BufferSlice, inputGradient: Bool) throws -> BufferSlice?
}

extension SequenceModel {
  /// A forward that saves its activations for one backward.
  public func forward(_ x: BufferSlice, batch: Int, steps: Int, training: Bool, seed: UInt32)
    throws -> BufferSlice
  {
    try forward(
      x, batch: batch, steps: steps, training: training, seed: seed, dropoutKeys: nil,
      saveForBackward: true)
  }

  /// Models in lockstep: per-model dropout keys, activations saved.
  public func forward(
    _ x: BufferSlice, batch: Int, steps: Int, training: Bool, seed: UInt32,
    dropoutKeys: BufferSlice?
  ) throws -> BufferSlice {
    try forward(
      x, batch: batch, steps: steps, training: training, seed: seed, dropoutKeys: dropoutKeys,
      saveForBackward: true)
  }

  public func forward(
    _ x: BufferSlice, batch: Int, steps: Int, training: Bool, seed: UInt32,
    saveForBackward: Bool
  ) throws -> BufferSlice {
    try forward(
      x, batch: batch, steps: steps, training: training, seed: seed, dropoutKeys: nil,
      saveForBackward: saveForBackward)
  }

  /// Inference: dropout off, nothing saved for a backward.
  public func infer(_ x: BufferSlice, batch: Int, steps: Int) throws -> BufferSlice {
    try forward(
      x, batch: batch, steps: steps, training: false, seed: 0, dropoutKeys: nil,
      saveForBackward: false)
  }
}

/// ReLU and dropout at one site of a network: per-model keys when given, else the seed.
func reluDropout(
  _ be: ComputeBackend, _ x: BufferSlice, models: Int, perModel: Int, p: Float, seed: UInt32,
  keys: BufferSlice?, site: UInt32
) throws {
  if let keys, p > 0 {
    try be.laneReluDropoutForward(
      x, models: models, count: perModel, p: p, keys: keys, site: site)
  } else {
    try be.reluDropoutForward(
      x, count: models * perModel, p: p, seed: dropoutSeed(seed, site: site))
  }
}

/// A backward the model cannot run correctly: see `SequenceModel`.
public struct ModelUsageError: Error, CustomStringConvertible {
  public let description: String
}

/// Whether the activations in a model's workspace belong to a forward that a backward may use.
struct BackwardState {
  private enum State {
    case empty(String)
    case ready
    case superseded
  }
  private var state = State.empty("no forward has run")

  mutating func forward(saving: Bool) {
    switch (saving, state) {
    case (false, _):
      state = .empty("the last forward ran with saveForBackward: false")
    case (true, .ready), (true, .superseded):
      state = .superseded
    case (true, .empty):
      state = .ready
    }
  }

  /// Marks the saved activations consumed; throws unless exactly one saving forward is pending.
  mutating func consume() throws {
    defer {
      state = .empty(
        "backward already ran for the last saving forward (it consumes the activations)")
    }
    switch state {
    case .ready: return
    case .empty(let why):
      throw ModelUsageError(description: "backward needs a saving forward first: \(why)")
    case .superseded:
      throw ModelUsageError(
        description:
          "two saving forwards ran without a backward in between: the first one's activations "
          + "were overwritten, so its gradients cannot be computed (pass saveForBackward: false "
          + "to forwards that need no gradient)")
    }
  }
}

/// Builds the network a configuration describes, initialised as PyTorch would (uniform in
/// ±1/sqrt(fan_in), with the LSTM's ±1/sqrt(hidden)) from `seed`, or model m from its own
/// stream `seeds[m]` when given (then `models` is `seeds.count`).
public func makeModel(
  _ config: ModelConfig, backend: ComputeBackend, models: Int = 1, seed: UInt64 = 0,
  seeds: [UInt64]? = nil
) throws -> SequenceModel {
  let models = seeds?.count ?? models
  try config.validate()
  let model: SequenceModel
  switch config.model {
  case .bilstmMLP: model = try BiLSTMMLP(config, backend: backend, models: models)
  case .tcn: model = try TCN(config, backend: backend, models: models)
  }
  try model.parameters.initialize(seed: seed, seeds: seeds) { tensor in
    if tensor.name.hasPrefix("lstm.") { return 1 / Float(config.hidden!).squareRoot() }
    // Linear and Conv1d: kaiming_uniform(a=sqrt(5)) gives the same bound as their bias.
    let fanIn = tensor.name.hasSuffix(".bias") ? nil : tensor.shape.dropFirst().reduce(1, *)
    let weightFanIn = fanIn ?? biasFanIn(tensor.name, model.parameters.layout)
    return 1 / Float(weightFanIn).squareRoot()
  }
  return model
}

/// The weight and bias of the layer that produces the model's outputs: the MLP head's last
/// Linear for the biLSTM-MLP, the output projection for the TCN.
func outputLayerTensors(_ model: SequenceModel) -> [String] {
  let layer: String
  switch model.config.model {
  case .bilstmMLP: layer = "mlp.6"
  case .tcn: layer = "head"
  }
  return ["\(layer).weight", "\(layer).bias"]
}

/// A bias's bound comes from the fan-in of the weight beside it.
private func biasFanIn(_ biasName: String, _ layout: ParameterLayout) -> Int {
  let weightName = String(biasName.dropLast(".bias".count)) + ".weight"
  return layout.tensor(named: weightName)?.shape.dropFirst().reduce(1, *) ?? 1
}

/// Distinct dropout streams per layer and step: the caller's seed mixed with the site index.
@inline(__always) func dropoutSeed(_ seed: UInt32, site: UInt32) -> UInt32 {
  kneeforceHash(seed &+ site &* 0x9E37_79B9)
}

/// biLSTM followed by an MLP head at every step (Derungs et al.'s biLSTM-MLP):
/// `mlp(lstm(x)[0])` with mlp = Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear.
public final class BiLSTMMLP: SequenceModel {
  public let config: ModelConfig
  public let parameters: ParameterStore
  let lstm: [BidirectionalLSTM]
  let mlp: [Linear]
  let ws: Workspace
  private var saved: [BidirectionalLSTM.Saved] = []
  private var activations: [BufferSlice] = []  // layer inputs: lstm outputs, mlp hidden
  private var batch = 0
  private var steps = 0
  private var p: Float = 0
  private var state = BackwardState()

  init(_ config: ModelConfig, backend: ComputeBackend, models: Int) throws {
    self.config = config
    let hidden = config.hidden!
    var layout = ParameterLayout(models: models)
    var lstm: [BidirectionalLSTM] = []
    for l in 0..<config.layers! {
      lstm.append(
        BidirectionalLSTM(
          &layout, index: l, inputs: l == 0 ? config.inputs : 2 * hidden,
          hidden: hidden))
    }
    let widths = [2 * hidden] + config.mlp! + [config.outputs]
    mlp = (0..<3).map { i in
      Linear(&layout, name: "mlp.\(3 * i)", inputs: widths[i], outputs: widths[i + 1])
    }
    self.lstm = lstm
    parameters = try ParameterStore(layout: layout, backend: backend)
    ws = Workspace(backend: backend)
  }

  public func forward(
    _ x: BufferSlice, batch: Int, steps: Int, training: Bool, seed: UInt32,
    dropoutKeys: BufferSlice?, saveForBackward: Bool
  ) throws -> BufferSlice {
    state.forward(saving: saveForBackward)
    let models = parameters.layout.models
    let hidden = config.hidden!
    let shape = LSTMShape(models: models, batch: batch, steps: steps, hidden: hidden)
    let rows = batch * steps
    self.batch = batch
    self.steps = steps
    p = training ? Float(config.dropout) : 0
    saved = []
    activations = []
    var current = x
    for layer in lstm {
      let out = try ws.slice("lstm\(layer.index).out", models * rows * 2 * hidden)
      saved.append(
        try layer.forward(
          parameters, ws, x: current, shape: shape, output: out, save: saveForBackward))
      activations.append(out)
      current = out
    }
    for (i, layer) in mlp.enumerated() {
      let y = try ws.slice("mlp\(i).out", models * rows * layer.outputs)
      try layer.forward(parameters, x: current, rows: rows, into: y)
      if i < 2 {
        try reluDropout(
          parameters.backend, y, models: models, perModel: rows * layer.outputs, p: p,
          seed: seed, keys: dropoutKeys, site: UInt32(i))
      }
      activations.append(y)
      current = y
    }
    return current
  }

  public func backward(_ dy: BufferSlice, inputGradient: Bool) throws -> BufferSlice? {
    try state.consume()
    let models = parameters.layout.models
    let rows = batch * steps
    let hidden = config.hidden!
    let be = parameters.backend
    var grad = dy
    // activations: [lstm outs..., mlp0 out, mlp1 out, mlp2 out]
    let lstmCount = lstm.count
    for i in stride(from: 2, through: 0, by: -1) {
      let layer = mlp[i]
      let x = activations[lstmCount + i - 1]
      let dx = try ws.slice("mlp\(i).dx", models * rows * layer.inputs)
      try layer.backward(parameters, x: x, dy: grad, rows: rows, dx: dx)
      if i > 0 {
        try be.reluDropoutBackward(
          dx, output: activations[lstmCount + i - 1], count: models * rows * layer.inputs, p: p)
      }
      grad = dx
    }
    for l in stride(from: lstmCount - 1, through: 0, by: -1) {
      let needDx = l > 0 || inputGradient
      let width = l == 0 ? config.inputs : 2 * hidden
      let dx = needDx ? try ws.slice("lstm\(l).dx", models * rows * width) : nil
      try lstm[l].backward(parameters, ws, saved: saved[l], dOutput: grad, dx: dx)
      if let dx { grad = dx }
    }
    return inputGradient ? grad : nil
  }
}

/// Temporal convolutional network: residual blocks of two dilated causal convolutions
/// (dilation 2^i), ReLU and dropout, with a 1x1 downsample where the width changes, then a
/// linear head at every step (locuslab's TCN without weight norm).
public final class TCN: SequenceModel {
  struct Block {
    let conv1: CausalConv
    let conv2: CausalConv
    let downsample: Linear?
  }

  public let config: ModelConfig
  public let parameters: ParameterStore
  let blocks: [Block]
  let head: Linear
  let ws: Workspace
  private var batch = 0
  private var steps = 0
  private var p: Float = 0
  private var state = BackwardState()
  // Per block: input, conv1 col, h1, conv2 col, h2, out.
  private var saved:
    [(
      x: BufferSlice, col1: BufferSlice, h1: BufferSlice, col2: BufferSlice,
      h2: BufferSlice, out: BufferSlice
    )] = []

  init(_ config: ModelConfig, backend: ComputeBackend, models: Int) throws {
    self.config = config
    let channels = config.channels!
    var layout = ParameterLayout(models: models)
    var blocks: [Block] = []
    for i in 0..<config.levels! {
      let cin = i == 0 ? config.inputs : channels
      let dilation = 1 << i
      let conv1 = CausalConv(
        &layout, name: "tcn.\(i).conv1", inputs: cin, outputs: channels,
        kernel: config.kernelSize!, dilation: dilation)
      let conv2 = CausalConv(
        &layout, name: "tcn.\(i).conv2", inputs: channels, outputs: channels,
        kernel: config.kernelSize!, dilation: dilation)
      let downsample =
        cin != channels
        ? Linear(
          &layout, name: "tcn.\(i).downsample", inputs: cin, outputs: channels,
          pointwiseConv: true) : nil
      blocks.append(Block(conv1: conv1, conv2: conv2, downsample: downsample))
    }
    head = Linear(&layout, name: "head", inputs: channels, outputs: config.outputs)
    self.blocks = blocks
    parameters = try ParameterStore(layout: layout, backend: backend)
    ws = Workspace(backend: backend)
  }

  public func forward(
    _ x: BufferSlice, batch: Int, steps: Int, training: Bool, seed: UInt32,
    dropoutKeys: BufferSlice?, saveForBackward: Bool
  ) throws -> BufferSlice {
    state.forward(saving: saveForBackward)
    let models = parameters.layout.models
    let channels = config.channels!
    let rows = batch * steps
    let n = models * rows * channels
    let be = parameters.backend
    self.batch = batch
    self.steps = steps
    p = training ? Float(config.dropout) : 0
    saved = []
    // Without a backward to follow, every convolution shares one im2col buffer (kept warm
    // in cache) instead of keeping its own for the weight gradient.
    let widest = blocks.map { max($0.conv1.inputs, $0.conv2.inputs) * $0.conv1.kernel }.max() ?? 0
    let sharedCol =
      saveForBackward ? nil : try ws.slice("tcn.infer.col.\(rows)", models * rows * widest)
    var current = x
    for (i, block) in blocks.enumerated() {
      let h1 = try ws.slice("tcn\(i).h1", n)
      let col1 = try block.conv1.forward(
        parameters, ws, x: current, batch: batch, steps: steps, into: h1, col: sharedCol)
      try reluDropout(
        be, h1, models: models, perModel: rows * channels, p: p, seed: seed, keys: dropoutKeys,
        site: UInt32(2 * i))
      let h2 = try ws.slice("tcn\(i).h2", n)
      let col2 = try block.conv2.forward(
        parameters, ws, x: h1, batch: batch, steps: steps, into: h2, col: sharedCol)
      try reluDropout(
        be, h2, models: models, perModel: rows * channels, p: p, seed: seed, keys: dropoutKeys,
        site: UInt32(2 * i + 1))
      let out = try ws.slice("tcn\(i).out", n)
      if let downsample = block.downsample {
        try downsample.forward(parameters, x: current, rows: rows, into: out)
      } else {
        try be.copy(from: current, to: out, count: n)
      }
      try be.add(h2, into: out, count: n)
      try be.reluDropoutForward(out, count: n, p: 0, seed: 0)
      saved.append((current, col1, h1, col2, h2, out))
      current = out
    }
    let y = try ws.slice("head.out", models * rows * config.outputs)
    try head.forward(parameters, x: current, rows: rows, into: y)
    return y
  }

  public func backward(_ dy: BufferSlice, inputGradient: Bool) throws -> BufferSlice? {
    try state.consume()
    let models = parameters.layout.models
    let channels = config.channels!
    let rows = batch * steps
    let n = models * rows * channels
    let be = parameters.backend
    var dOut = try ws.slice("head.dx", n)
    try head.backward(parameters, x: saved[saved.count - 1].out, dy: dy, rows: rows, dx: dOut)
    for i in stride(from: blocks.count - 1, through: 0, by: -1) {
      let block = blocks[i]
      let s = saved[i]
      let cin = block.conv1.inputs
      // Through the block's final ReLU: dOut becomes the gradient of (conv path + residual).
      try be.reluDropoutBackward(dOut, output: s.out, count: n, p: 0)
      let dh2 = try ws.slice("tcn\(i).dh2", n)
      try be.copy(from: dOut, to: dh2, count: n)
      try be.reluDropoutBackward(dh2, output: s.h2, count: n, p: p)
      let dh1 = try ws.slice("tcn\(i).dh1", n)
      try block.conv2.backward(
        parameters, ws, col: s.col2, dy: dh2, batch: batch, steps: steps, dx: dh1)
      try be.reluDropoutBackward(dh1, output: s.h1, count: n, p: p)
      let needDx = i > 0 || inputGradient
      guard needDx else {
        try block.conv1.backward(
          parameters, ws, col: s.col1, dy: dh1, batch: batch, steps: steps, dx: nil)
        if let downsample = block.downsample {
          try downsample.backward(parameters, x: s.x, dy: dOut, rows: rows, dx: nil)
        }
        break
      }
      let dx = try ws.slice("tcn\(i).dx", models * rows * cin)
      try block.conv1.backward(
        parameters, ws, col: s.col1, dy: dh1, batch: batch, steps: steps, dx: dx)
      if let downsample = block.downsample {
        let dres = try ws.slice("tcn\(i).dres", models * rows * cin)
        try downsample.backward(parameters, x: s.x, dy: dOut, rows: rows, dx: dres)
        try be.add(dres, into: dx, count: models * rows * cin)
      } else {
        try be.add(dOut, into: dx, count: n)
      }
      dOut = dx
    }
    return inputGradient ? dOut : nil
  }
}
