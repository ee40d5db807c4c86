import KneeForceCompute

/// `nn.Linear` applied to every row of `[models][rows][in]`: one strided-batched GEMM over the
/// models, weights `[models][out][in]` exactly as PyTorch stores them.
struct Linear {
  let inputs: Int
  let outputs: Int
  let weight: Int
  let bias: Int

  /// `pointwiseConv` names the weight `[out, in, 1]`, as `nn.Conv1d(in, out, 1)` stores it:
  /// the TCN's downsample is this same product.
  init(
    _ layout: inout ParameterLayout, name: String, inputs: Int, outputs: Int,
    pointwiseConv: Bool = false
  ) {
    self.inputs = inputs
    self.outputs = outputs
    let shape = pointwiseConv ? [outputs, inputs, 1] : [outputs, inputs]
    weight = layout.block([("\(name).weight", shape)])
    bias = layout.block([("\(name).bias", [outputs])])
  }

  /// y = x W^T + b.
  func forward(
    _ p: ParameterStore, x: BufferSlice, rows: Int, into y: BufferSlice
  ) throws {
    let models = p.layout.models
    try p.backend.gemm(
      Gemm(
        transB: true, m: rows, n: outputs, k: inputs, a: x, lda: inputs, strideA: rows * inputs,
        b: p.slice(weight), ldb: inputs, strideB: outputs * inputs, c: y, ldc: outputs,
        strideC: rows * outputs, batch: models))
    try p.backend.addBias(y, bias: p.slice(bias), rows: rows, cols: outputs, models: models)
  }

  /// dW = dy^T x, db = sum dy, and dx = dy W when `dx` is given.
  func backward(
    _ p: ParameterStore, x: BufferSlice, dy: BufferSlice, rows: Int, dx: BufferSlice?
  ) throws {
    let models = p.layout.models
    try p.backend.gemm(
      Gemm(
        transA: true, m: outputs, n: inputs, k: rows, a: dy, lda: outputs,
        strideA: rows * outputs, b: x, ldb: inputs, strideB: rows * inputs,
        c: p.gradient(weight), ldc: inputs, strideC: outputs * inputs, batch: models))
    try p.backend.sumRows(
      dy, into: p.gradient(bias), rows: rows, cols: outputs, models: models, accumulate: false)
    if let dx {
      try p.backend.gemm(
        Gemm(
          m: rows, n: inputs, k: outputs, a: dy, lda: outputs, strideA: rows * outputs,
          b: p.slice(weight), ldb: inputs, strideB: outputs * inputs, c: dx, ldc: inputs,
          strideC: rows * inputs, batch: models))
    }
  }
}
