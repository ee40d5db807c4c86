import ArgumentParser
import Foundation
import KneeForceCompute
import KneeForceFiles
import KneeForceModels
import SafeTensors

struct ForwardCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "forward",
    abstract: "Run a checkpoint on raw tensors: the interop and verification command.",
    discussion: """
      INPUT is a safetensors file with `x` [B, T, n_in] (F32). OUTPUT receives `y` [B, T, n_out]. \
      If INPUT also holds `dy` [B, T, n_out], OUTPUT also receives `dx` and `grad.<name>` for \
      every parameter: the gradients of sum(y * dy). No normalisation is applied and dropout is \
      off, so the numbers can be compared one to one with PyTorch \
      (scripts/torch_checkpoint.py runs the same checkpoint there).
      """)

  @Option(help: "Checkpoint (.safetensors) written by KneeForce or by PyTorch.")
  var checkpoint: String

  @Option(help: "Safetensors file holding `x` and optionally `dy`.")
  var input: String

  @Option(
    help: """
      Safetensors file to write (atomically). An existing file is replaced only with \
      --force, and never when it is the checkpoint or the input.
      """)
  var output: String

  @Flag(help: "Replace OUTPUT if it exists.")
  var force = false

  @Option(help: "auto | cpu | opencl[:INDEX] (see `kneeforce devices`).")
  var device: DeviceSelection = .auto

  func validate() throws {
    guard !output.isEmpty else { throw ValidationError("--output is empty: give a file name") }
    try asUsageError {
      try FileIdentity.refuseOverwriting(
        output: ("--output", output), inputs: [("--checkpoint", checkpoint), ("--input", input)])
    }
    let kind = FileKind(path: output)
    if kind != .missing {
      guard kind == .regular else {
        throw ValidationError("--output \(output) \(kind.words), expected a file to write")
      }
      guard force else {
        throw ValidationError(
          "--output \(output) exists; nothing was changed. Choose another name or add --force "
            + "to replace it")
      }
    }
  }

  func run() throws {
    let backend = try makeBackend(device)
    let model = try Checkpoint.load(
      from: URL(fileURLWithPath: checkpoint), backend: backend
    ).model
    let inputs = try SafeTensorsFile.read(from: URL(fileURLWithPath: input))
    let x = try inputs.tensor("x", file: input)
    guard x.shape.count == 3, x.shape[2] == model.config.inputs else {
      throw ValidationError(
        "\(input): tensor 'x' has shape \(x.shape), expected [B, T, \(model.config.inputs)]")
    }
    let (batch, steps) = (x.shape[0], x.shape[1])
    let outShape = [batch, steps, model.config.outputs]
    let xValues = try inputs.floats("x", file: input)
    warnIfNotFinite(xValues, "\(input): tensor 'x'")
    for t in model.parameters.layout.tensors {
      warnIfNotFinite(try model.parameters.read(t.name), "\(checkpoint): weight '\(t.name)'")
    }
    let xb = try backend.makeBuffer(xValues)
    let y = try model.forward(
      BufferSlice(xb), batch: batch, steps: steps, training: false, seed: 0)
    var tensors: [String: Tensor] = [
      "y": Tensor(floats: try backend.download(y, count: outShape.reduce(1, *)), shape: outShape)
    ]
    if let dyTensor = inputs.tensors["dy"] {
      guard dyTensor.shape == outShape else {
        throw ValidationError(
          "\(input): tensor 'dy' has shape \(dyTensor.shape), expected \(outShape)")
      }
      let dyValues = try inputs.floats("dy", file: input)
      warnIfNotFinite(dyValues, "\(input): tensor 'dy'")
      let dyb = try backend.makeBuffer(dyValues)
      let dx = try model.backward(BufferSlice(dyb), inputGradient: true)!
      tensors["dx"] = Tensor(
        floats: try backend.download(dx, count: x.elementCount), shape: x.shape)
      for t in model.parameters.layout.tensors {
        tensors["grad.\(t.name)"] = Tensor(
          floats: try model.parameters.read(t.name, gradient: true), shape: t.shape)
      }
    }
    for name in tensors.keys.sorted() {
      if let values = try? tensors[name]!.floats() { warnIfNotFinite(values, "output '\(name)'") }
    }
    try SafeTensorsFile(tensors: tensors).write(to: URL(fileURLWithPath: output))
    print(
      "wrote \(output): y \(outShape)\(tensors["dx"] != nil ? ", dx and parameter gradients" : "") on \(backend.deviceName)"
    )
  }
}

/// NaN or Inf would otherwise pass silently from a corrupt input or checkpoint into the
/// outputs; the first one is named with its flat index.
func warnIfNotFinite(_ values: [Float], _ what: String) {
  guard let index = values.firstIndex(where: { !$0.isFinite }) else { return }
  let count = values.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
  warn("\(what) has \(count) non-finite value(s) (the first, \(values[index]), at index \(index))")
}
