import ArgumentParser
import Foundation
import KneeForceCompute
import KneeForceFiles
import KneeForceModels
import KneeForceTraining

struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measure training and inference throughput of each model on each device.",
    discussion: """
      Trains on random data (x ~ N(0,1), targets ~ N(0,1)) with the real training step: forward, \
      MSE, backward, global-norm clipping (1.0), Adam (lr 1e-3); dropout --dropout (0.1, as \
      users train; 0 compares without dropout's cost). The first (warm-up) epoch includes \
      kernel compilation and is reported apart; steady state is the median over the timed \
      epochs. Inference runs the data in order, batch by batch, dropout off and nothing saved \
      for a backward (`SequenceModel.infer`), after one untimed pass, as the PyTorch baseline \
      does under no_grad.

      --folds K trains K models in lockstep (the leave-one-subject-out sweep): each step runs \
      one batch of every model through the same GEMMs. seq/s then counts the sequences of all \
      K models (what compares with PyTorch training the folds one after another); the epoch \
      time is that of all K models' epochs together.

      GFLOP/s counts the FLOPs issued through GEMM (2*m*n*k per product), counted by the \
      backend during the timed epochs; elementwise work (gates, activations, Adam) is not \
      counted, so the figure is a slight underestimate. Peak is measured for the CPU and for \
      PoCL, which runs on the same cores: an AVX2 FMA loop on every thread at once for 0.3 s, \
      its fastest ~2 ms bursts (the clock in /proc/cpuinfo is often the nominal one); it is \
      printed before the table. \
      KNEEFORCE_PEAK_GFLOPS overrides it and is the only way for a GPU.

      The PyTorch baseline (benchmarks/pytorch_baseline.py) uses the same defaults; \
      benchmarks/run.sh measures both in one run.
      """)

  @Option(help: "bilstm_mlp | tcn | all")
  var model: ModelChoice = .all

  @Option(help: "Comma-separated devices: cpu, opencl, opencl:INDEX, auto.")
  var devices = CommaList<DeviceSelection>([.cpu])

  @Option(help: "Sequences per epoch (1-\(Self.sequenceRange.upperBound)).")
  var sequences = 2048

  @Option(help: "Batch size (1-\(Self.batchRange.upperBound)).")
  var batch = 64

  @Option(help: "Time steps per sequence (1-\(Self.lengthRange.upperBound)).")
  var length = 101

  @Option(help: "Input channels (\(ModelConfig.Limits.inputs.helpText)).")
  var channels = 40

  @Option(help: "biLSTM hidden units per direction (\(ModelConfig.Limits.hidden.helpText)).")
  var hidden = 128

  @Option(help: "biLSTM layers (\(ModelConfig.Limits.layers.helpText)).")
  var layers = 2

  @Option(help: "MLP widths, two, comma-separated (each \(ModelConfig.Limits.mlpWidth.helpText)).")
  var mlp = CommaList<Int>([128, 64])

  @Option(help: "TCN channels (\(ModelConfig.Limits.channels.helpText)).")
  var tcnChannels = 64

  @Option(help: "TCN levels, residual blocks (\(ModelConfig.Limits.levels.helpText)).")
  var levels = 4

  @Option(help: "TCN kernel size (\(ModelConfig.Limits.kernelSize.helpText)).")
  var kernel = 3

  @Option(help: "Dropout probability in training (the models' default 0.1; 0 turns it off).")
  var dropout = 0.1

  @Option(help: "Models trained in lockstep, comma-separated counts (e.g. 1,3,6; each 1-64).")
  var folds = CommaList<Int>([1])

  @Option(help: "Timed training epochs after one warm-up epoch (1-1000).")
  var epochs = 3

  @Option(help: "Timed inference passes (1-1000).")
  var inferenceRepeats = 3

  @Option(help: "Threads for the CPU backend (1-1024; default: all cores).")
  var threads: Int?

  @Option(help: "Write the results as JSON to this file (replaced only with --force).")
  var json: String?

  @Flag(help: "Replace the --json file if it exists.")
  var force = false

  @Flag(
    help: "Time the single operations of a training step (GEMM paths and kernels) instead.")
  var micro = false

  @Flag(
    help: ArgumentHelp(
      "After one warm-up epoch, read 'train' / 'infer' / 'quit' lines on stdin and answer each "
        + "with the seconds of one epoch / inference pass (one model, the first device and fold "
        + "count; benchmarks/alternate.py alternates it with the PyTorch baseline)."))
  var serve = false

  enum ModelChoice: String, ExpressibleByArgument, CaseIterable {
    case bilstmMLP = "bilstm_mlp"
    case tcn
    case all
  }

  static let sequenceRange = 1...10_000_000
  static let batchRange = 1...65_536
  static let lengthRange = 1...1_000_000

  func validate() throws {
    try checkRange(sequences, Self.sequenceRange, "--sequences")
    try checkRange(batch, Self.batchRange, "--batch")
    try checkRange(length, Self.lengthRange, "--length")
    try checkRange(channels, ModelConfig.Limits.inputs, "--channels")
    try checkRange(hidden, ModelConfig.Limits.hidden, "--hidden")
    try checkRange(layers, ModelConfig.Limits.layers, "--layers")
    guard mlp.values.count == 2 else {
      throw ValidationError("--mlp: expected two widths, got \(mlp.values.count)")
    }
    for w in mlp.values { try checkRange(w, ModelConfig.Limits.mlpWidth, "--mlp width") }
    try checkRange(tcnChannels, ModelConfig.Limits.channels, "--tcn-channels")
    try checkRange(levels, ModelConfig.Limits.levels, "--levels")
    try checkRange(kernel, ModelConfig.Limits.kernelSize, "--kernel")
    try checkRange(epochs, 1...1000, "--epochs")
    try checkRange(inferenceRepeats, 1...1000, "--inference-repeats")
    if let threads { try checkRange(threads, 1...1024, "--threads") }
    for k in folds.values { try checkRange(k, 1...64, "--folds") }
    guard (0..<1).contains(dropout) else {
      throw ValidationError("--dropout \(dropout): expected 0 <= p < 1")
    }
    for config in configs {
      do {
        try config.validate()
      } catch {
        throw ValidationError("\(config.model.rawValue): \(error)")
      }
    }
    // The data set and the largest activation of one batch, before anything is allocated.
    try checkMemory("the random data set", floats: [sequences, length, channels + 3])
    let widest = max(8 * hidden, 2 * tcnChannels * kernel, mlp.values.max() ?? 0)
    try checkMemory(
      "one batch's activations",
      floats: [min(batch, sequences), length, widest, 4 * layers + levels])
    if let json {
      let kind = FileKind(path: json)
      if kind != .missing && !(kind == .regular && force) {
        throw ValidationError(
          kind == .regular
            ? "--json \(json) exists; nothing was changed. Choose another name or add --force"
            : "--json \(json) \(kind.words), expected a file to write")
      }
    }
  }

  var kinds: [ModelConfig.Kind] {
    switch model {
    case .all: return ModelConfig.Kind.allCases
    case .bilstmMLP: return [.bilstmMLP]
    case .tcn: return [.tcn]
    }
  }

  var configs: [ModelConfig] {
    kinds.map { kind in
      kind == .bilstmMLP
        ? .bilstmMLP(
          inputs: channels, hidden: hidden, layers: layers, mlp: mlp.values, dropout: dropout)
        : .tcn(
          inputs: channels, channels: tcnChannels, levels: levels, kernelSize: kernel,
          dropout: dropout)
    }
  }

  func run() throws {
    let widths = mlp.values
    let selections = devices.values
    if micro {
      for selection in selections {
        let backend: ComputeBackend =
          selection == .cpu && threads != nil
          ? CPUBackend(threads: threads) : try makeBackend(selection)
        print(
          "\(backend.deviceName): batch \(batch), \(length) steps, \(channels) inputs, "
            + "hidden \(hidden), TCN \(tcnChannels) channels, kernel \(kernel)")
        let rows = try MicroBench(
          backend: backend, batch: batch, steps: length, inputs: channels, hidden: hidden,
          channels: tcnChannels, kernel: kernel
        ).run()
        for row in rows {
          print(
            "  " + pad(row.name, 44) + pad(String(format: "%10.1f us", row.microseconds), 15)
              + row.rate)
        }
      }
      return
    }
    var rng = SplitMix64(seed: 1)
    let x = (0..<(sequences * length * channels)).map { _ in rng.nextGaussian() }
    let y = (0..<(sequences * length * 3)).map { _ in rng.nextGaussian() }
    if serve {
      let backend: ComputeBackend =
        selections[0] == .cpu && threads != nil
        ? CPUBackend(threads: threads) : try makeBackend(selections[0])
      let session = try BenchSession(
        self, configs[0], backend: backend, folds: folds.values[0], x: x, y: y)
      try session.epoch()
      try session.inferencePass()
      print("ready kneeforce \(configs[0].model.rawValue) \(backend.deviceName)")
      while let line = readLine() {
        switch line.trimmingCharacters(in: .whitespaces) {
        case "train": print(String(format: "%.6f", try session.timed { try session.epoch() }))
        case "infer":
          print(String(format: "%.6f", try session.timed { try session.inferencePass() }))
        case "quit": return
        default: print("error: unknown command \(line)")
        }
      }
      return
    }
    var results: [[String: Any]] = []
    print(
      "config: \(sequences) sequences x \(length) steps x \(channels) inputs, batch \(batch); "
        + "biLSTM \(layers)x\(hidden) + MLP \(widths); TCN \(levels) blocks x \(tcnChannels) ch, "
        + "kernel \(kernel); dropout \(dropout)")
    for selection in selections {
      let backend: ComputeBackend =
        selection == .cpu && threads != nil
        ? CPUBackend(threads: threads) : try makeBackend(selection)
      let peak = peakGFLOPS(backend)
      if let peak {
        print(
          "peak of \(backend.deviceName): \(String(format: "%.0f", peak.gflops)) GFLOP/s "
            + "(\(peak.source))")
      }
      print(
        pad("model", 11) + pad("folds", 6) + pad("device", 34) + pad("warm-up s", 10)
          + pad("epoch s", 9)
          + pad("train seq/s", 12) + pad("infer seq/s", 12) + pad("GFLOP/s", 9) + "of peak")
      for config in configs {
        for foldCount in folds.values {
          let kind = config.model
          let r = try measure(config, backend: backend, folds: foldCount, x: x, y: y)
          let fraction =
            peak.map { String(format: "%.0f%%", 100 * r.gflops / $0.gflops) } ?? "n/a"
          print(
            pad(kind.rawValue, 11) + pad("\(foldCount)", 6)
              + pad(String(backend.deviceName.prefix(32)), 34)
              + pad(String(format: "%.2f", r.warmup), 10) + pad(String(format: "%.3f", r.epoch), 9)
              + pad(String(format: "%.0f", r.trainRate), 12)
              + pad(String(format: "%.0f", r.inferRate), 12)
              + pad(String(format: "%.1f", r.gflops), 9) + fraction)
          results.append([
            "model": kind.rawValue, "folds": foldCount, "dropout": dropout,
            "device": selection.description,
            "device_name": backend.deviceName, "warmup_s": r.warmup, "epoch_s": r.epochs,
            "epoch_median_s": r.epoch, "train_sequences_per_s": r.trainRate,
            "inference_s": r.inference, "inference_sequences_per_s": r.inferRate,
            "train_gflops": r.gflops, "peak_gflops": peak?.gflops as Any,
            "peak_source": peak?.source as Any,
            "train_gflop_per_epoch": r.flopsPerEpoch / 1e9,
          ])
        }
      }
    }
    if let json {
      let object: [String: Any] = [
        "date": ISO8601DateFormatter().string(from: Date()),
        "config": [
          "sequences": sequences, "batch": batch, "length": length, "channels": channels,
          "hidden": hidden, "layers": layers, "mlp": widths, "tcn_channels": tcnChannels,
          "levels": levels, "kernel": kernel, "epochs": epochs, "dropout": dropout,
          "folds": folds.values,
        ],
        "results": results,
      ]
      let data = try JSONSerialization.data(
        withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
      try AtomicFile.write(String(decoding: data, as: UTF8.self), to: URL(fileURLWithPath: json))
    }
  }

  struct Measurement {
    var warmup: Double
    var epochs: [Double]
    var epoch: Double
    var trainRate: Double
    var inference: [Double]
    var inferRate: Double
    var gflops: Double
    var flopsPerEpoch: Double
  }

  func measure(
    _ config: ModelConfig, backend: ComputeBackend, folds: Int, x: [Float], y: [Float]
  ) throws -> Measurement {
    let session = try BenchSession(self, config, backend: backend, folds: folds, x: x, y: y)
    let warmup = try session.timed { try session.epoch() }
    backend.gemmFLOPs = 0
    let times = try (0..<epochs).map { _ in try session.timed { try session.epoch() } }
    let flopsPerEpoch = backend.gemmFLOPs / Double(max(epochs, 1))
    try session.inferencePass()  // untimed, as the PyTorch baseline's first eval pass
    let inference = try (0..<inferenceRepeats).map { _ in
      try session.timed { try session.inferencePass() }
    }
    let epoch = median(times)
    let infer = median(inference)
    return Measurement(
      warmup: warmup, epochs: times, epoch: epoch,
      trainRate: Double(folds * sequences) / epoch, inference: inference,
      inferRate: Double(folds * sequences) / infer,
      gflops: flopsPerEpoch / epoch / 1e9, flopsPerEpoch: flopsPerEpoch)
  }
}

/// One model (or K fold models in lockstep) on one backend with its data: training epochs
/// through the real Trainer (K = 1) or `Lockstep`, and inference passes over the data in order,
/// each batch a slice of it, dropout off, nothing saved (`SequenceModel.infer`).
final class BenchSession {
  let backend: ComputeBackend
  let model: SequenceModel
  let data: DeviceSequences
  let trainer: Trainer
  let lockstep: Lockstep
  let xAll: DeviceBuffer
  let foldInput: DeviceBuffer
  let folds: Int
  let sequences: Int
  let length: Int
  let channels: Int
  let batch: Int

  init(
    _ bench: BenchCommand, _ config: ModelConfig, backend: ComputeBackend, folds: Int,
    x: [Float], y: [Float]
  ) throws {
    self.backend = backend
    self.folds = folds
    (sequences, length, channels, batch) = (
      bench.sequences, bench.length, bench.channels, bench.batch
    )
    model = try makeModel(config, backend: backend, models: folds, seed: 0)
    data = try DeviceSequences(
      backend: backend, x: x, y: y, count: sequences, steps: length, inputs: channels,
      outputs: 3)
    var options = TrainingOptions()
    options.batchSize = batch
    trainer = Trainer(model: model, options: options)
    lockstep = try Lockstep(
      model: model, backend: backend, x: x, y: y, count: sequences, steps: length,
      inputs: channels, batch: batch)
    xAll = try backend.makeBuffer(x)
    foldInput = try backend.makeBuffer(count: folds * batch * length * channels)
  }

  /// Seconds `body` takes, the device's queue drained.
  func timed(_ body: () throws -> Void) throws -> Double {
    let start = Date()
    try body()
    try backend.synchronize()
    return Date().timeIntervalSince(start)
  }

  func epoch() throws {
    if folds == 1 {
      try trainer.epoch(data)
    } else {
      try lockstep.epoch()
    }
  }

  /// The sequences in order, each batch a slice of the data (every fold model sees the same
  /// batch), dropout off, nothing saved.
  func inferencePass() throws {
    for start in stride(from: 0, to: sequences, by: batch) {
      let rows = min(batch, sequences - start)
      let input: BufferSlice
      if folds == 1 {
        input = BufferSlice(xAll, offset: start * length * channels)
      } else {
        for m in 0..<folds {
          try backend.copy(
            from: BufferSlice(xAll, offset: start * length * channels),
            to: BufferSlice(foldInput, offset: m * rows * length * channels),
            count: rows * length * channels)
        }
        input = BufferSlice(foldInput)
      }
      _ = try model.infer(input, batch: rows, steps: length)
    }
    try backend.synchronize()
  }
}

/// K fold models trained in lockstep for the benchmark: every step gathers one shuffled batch
/// per model into `[K][B][T][C]`, then forward, MSE (over all K models' outputs), backward and
/// Adam with per-model clipping, as the sweep's lockstep trainer runs them. Throughput only:
/// each model sees its own order of the same random data.
final class Lockstep {
  let model: SequenceModel
  let backend: ComputeBackend
  let x: DeviceBuffer
  let y: DeviceBuffer
  let count: Int
  let steps: Int
  let inputs: Int
  let batch: Int
  var rng = SplitMix64(seed: 7)
  var step: UInt32 = 0
  var buffers: [Int: (x: DeviceBuffer, y: DeviceBuffer, dy: DeviceBuffer, loss: DeviceBuffer)] =
    [:]

  init(
    model: SequenceModel, backend: ComputeBackend, x: [Float], y: [Float], count: Int,
    steps: Int, inputs: Int, batch: Int
  ) throws {
    self.model = model
    self.backend = backend
    let folds = model.parameters.layout.models
    self.x = try backend.makeBuffer(folds > 1 ? x : [])
    self.y = try backend.makeBuffer(folds > 1 ? y : [])
    self.count = count
    self.steps = steps
    self.inputs = inputs
    self.batch = batch
  }

  func epoch() throws {
    let folds = model.parameters.layout.models
    let orders = (0..<folds).map { _ in Array(0..<count).shuffled(using: &rng) }
    let (xw, yw) = (steps * inputs, steps * 3)
    for start in stride(from: 0, to: count, by: batch) {
      let rows = min(batch, count - start)
      if buffers[rows] == nil {
        buffers[rows] = (
          try backend.makeBuffer(count: folds * rows * xw),
          try backend.makeBuffer(count: folds * rows * yw),
          try backend.makeBuffer(count: folds * rows * yw), try backend.makeBuffer(count: 1)
        )
      }
      let b = buffers[rows]!
      for m in 0..<folds {
        for r in 0..<rows {
          let index = orders[m][start + r]
          try backend.copy(
            from: BufferSlice(x, offset: index * xw),
            to: BufferSlice(b.x, offset: (m * rows + r) * xw), count: xw)
          try backend.copy(
            from: BufferSlice(y, offset: index * yw),
            to: BufferSlice(b.y, offset: (m * rows + r) * yw), count: yw)
        }
      }
      step &+= 1
      let out = try model.forward(
        BufferSlice(b.x), batch: rows, steps: steps, training: true, seed: step)
      try backend.mseLoss(
        prediction: out, target: BufferSlice(b.y), count: folds * rows * yw,
        gradient: BufferSlice(b.dy), loss: BufferSlice(b.loss))
      _ = try model.backward(BufferSlice(b.dy), inputGradient: false)
      try model.parameters.adamStep(lr: 1e-3, maxNorm: 1)
    }
  }
}

func median(_ values: [Double]) -> Double {
  guard !values.isEmpty else { return .nan }
  let s = values.sorted()
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func pad(_ text: String, _ width: Int) -> String {
  text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

/// fp32 peak where it can be known, and how it was found: for the CPU backend (and CPU
/// OpenCL devices such as PoCL, which run on the same cores) an FMA loop run on every thread at
/// once for 0.3 s (`kf_fma_peak_gflops`): the clock /proc/cpuinfo states is often the nominal
/// one, not the one the cores run at. KNEEFORCE_PEAK_GFLOPS overrides it.
func peakGFLOPS(_ backend: ComputeBackend) -> (gflops: Double, source: String)? {
  if let text = ProcessInfo.processInfo.environment["KNEEFORCE_PEAK_GFLOPS"], let v = Double(text) {
    return (v, "KNEEFORCE_PEAK_GFLOPS")
  }
  let threads: Int
  if let cpu = backend as? CPUBackend {
    threads = cpu.threads
  } else if let cl = backend as? OpenCLBackend, cl.device.type == "CPU" {
    threads = ProcessInfo.processInfo.activeProcessorCount
  } else {
    return nil
  }
  guard let total = CPUBackend.measuredPeakGFLOPS(threads: threads, seconds: 0.3) else {
    return nil
  }
  return (total, "measured: AVX2 FMA loop on \(threads) threads")
}
