import KneeForceCompute

/// `nn.Conv1d(c_in, c_out, k, dilation=d, padding=(k-1)*d)` with the last (k-1)*d outputs cut:
/// a dilated causal convolution on channels-last sequences `[models][B][T][C]`.
/// It runs as im2col (Kernels/causal_conv_im2col.cl) then one GEMM against PyTorch's weight
/// `[out][in][k]` read as `[out][in*k]`; backward is two GEMMs (dW = dy^T col, dcol = dy W) and
/// col2im (Kernels/causal_conv_col2im.cl). CPU twins: CPU/CPUBackend+Conv.swift.
struct CausalConv {
  let name: String
  let inputs: Int
  let outputs: Int
  let kernel: Int
  let dilation: Int
  let weight: Int
  let bias: Int

  init(
    _ layout: inout ParameterLayout, name: String, inputs: Int, outputs: Int, kernel: Int,
    dilation: Int
  ) {
    self.name = name
    self.inputs = inputs
    self.outputs = outputs
    self.kernel = kernel
    self.dilation = dilation
    weight = layout.block([("\(name).weight", [outputs, inputs, kernel])])
    bias = layout.block([("\(name).bias", [outputs])])
  }

  func shape(models: Int, batch: Int, steps: Int) -> ConvShape {
    ConvShape(
      models: models, batch: batch, steps: steps, channels: inputs, kernel: kernel,
      dilation: dilation)
  }

  /// y = conv(x) + b; returns the im2col matrix the backward pass reuses. `col` gives a
  /// (shared, large enough) buffer for it when no backward will follow.
  func forward(
    _ p: ParameterStore, _ ws: Workspace, x: BufferSlice, batch: Int, steps: Int,
    into y: BufferSlice, col shared: BufferSlice? = nil
  ) throws -> BufferSlice {
    let models = p.layout.models
    let rows = batch * steps
    let width = inputs * kernel
    let col = try shared ?? ws.slice("\(name).col", models * rows * width)
    try p.backend.causalIm2col(
      x, into: col, shape: shape(models: models, batch: batch, steps: steps))
    try p.backend.gemm(
      Gemm(
        transB: true, m: rows, n: outputs, k: width, a: col, lda: width, strideA: rows * width,
        b: p.slice(weight), ldb: width, strideB: outputs * width, c: y, ldc: outputs,
        strideC: rows * outputs, batch: models))
    try p.backend.addBias(y, bias: p.slice(bias), rows: rows, cols: outputs, models: models)
    return col
  }

  func backward(
    _ p: ParameterStore, _ ws: Workspace, col: BufferSlice, dy: BufferSlice, batch: Int,
    steps: Int, dx: BufferSlice?
  ) throws {
    let models = p.layout.models
    let rows = batch * steps
    let width = inputs * kernel
    try p.backend.gemm(
      Gemm(
        transA: true, m: outputs, n: width, k: rows, a: dy, lda: outputs,
        strideA: rows * outputs, b: col, ldb: width, strideB: rows * width,
        c: p.gradient(weight), ldc: width, strideC: outputs * width, batch: models))
    try p.backend.sumRows(
      dy, into: p.gradient(bias), rows: rows, cols: outputs, models: models, accumulate: false)
    guard let dx else { return }
    let dcol = try ws.slice("\(name).dcol", models * rows * width)
    try p.backend.gemm(
      Gemm(
        m: rows, n: width, k: outputs, a: dy, lda: outputs, strideA: rows * outputs,
        b: p.slice(weight), ldb: width, strideB: outputs * width, c: dcol, ldc: width,
        strideC: rows * width, batch: models))
    try p.backend.causalCol2im(
      dcol, into: dx, shape: shape(models: models, batch: batch, steps: steps))
  }
}
