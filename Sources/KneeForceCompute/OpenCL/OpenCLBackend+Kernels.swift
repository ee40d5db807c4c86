import CKneeForce

// The custom kernels of Kernels/, launched with the layouts their files describe.

extension OpenCLBackend {
  public func addBias(_ y: BufferSlice, bias: BufferSlice, rows: Int, cols: Int, models: Int)
    throws
  {
    _ = try mem(y, models * rows * cols, "addBias y")
    _ = try mem(bias, models * cols, "addBias bias")
    try launch(
      "add_bias", global: models * rows * cols,
      [
        .int(models), .int(rows), .int(cols), .buffer(y), .buffer(bias), .int(y.offset),
        .int(bias.offset),
      ])
  }

  public func sumRows(
    _ dy: BufferSlice, into dbias: BufferSlice, rows: Int, cols: Int, models: Int,
    accumulate: Bool
  ) throws {
    _ = try mem(dy, models * rows * cols, "sumRows dy")
    _ = try mem(dbias, models * cols, "sumRows dbias")
    try launch(
      "sum_rows", global: models * cols,
      [
        .int(models), .int(rows), .int(cols), .buffer(dy), .buffer(dbias), .int(dy.offset),
        .int(dbias.offset), .int(accumulate ? 1 : 0),
      ])
  }

  public func reluDropoutForward(_ x: BufferSlice, count: Int, p: Float, seed: UInt32) throws {
    _ = try mem(x, count, "reluDropoutForward")
    try launch(
      "relu_dropout_forward", global: count,
      [.int(count), .buffer(x), .int(x.offset), .float(p), .uint(seed)])
  }

  public func reluDropoutBackward(_ dy: BufferSlice, output y: BufferSlice, count: Int, p: Float)
    throws
  {
    _ = try mem(dy, count, "reluDropoutBackward dy")
    _ = try mem(y, count, "reluDropoutBackward y")
    try launch(
      "relu_dropout_backward", global: count,
      [.int(count), .buffer(dy), .buffer(y), .int(dy.offset), .int(y.offset), .float(p)])
  }

  public func add(_ x: BufferSlice, into y: BufferSlice, count: Int) throws {
    _ = try mem(x, count, "add x")
    _ = try mem(y, count, "add y")
    try launch(
      "add_inplace", global: count,
      [.int(count), .buffer(x), .buffer(y), .int(x.offset), .int(y.offset)])
  }

  public func bidirectionalInput(
    _ x: BufferSlice, into xs: BufferSlice, models: Int, batch: Int, steps: Int, width: Int
  ) throws {
    let n = models * batch * steps * width
    _ = try mem(x, n, "bidirectionalInput x")
    _ = try mem(xs, 2 * n, "bidirectionalInput xs")
    try launch(
      "bidirectional_input", global: 2 * n,
      [
        .int(models), .int(batch), .int(steps), .int(width), .buffer(x), .buffer(xs),
        .int(x.offset), .int(xs.offset),
      ])
  }

  public func bidirectionalGradient(
    _ dxs: BufferSlice, into dx: BufferSlice, models: Int, batch: Int, steps: Int, width: Int
  ) throws {
    let n = models * batch * steps * width
    _ = try mem(dxs, 2 * n, "bidirectionalGradient dxs")
    _ = try mem(dx, n, "bidirectionalGradient dx")
    try launch(
      "bidirectional_gradient", global: n,
      [
        .int(models), .int(batch), .int(steps), .int(width), .buffer(dxs), .buffer(dx),
        .int(dxs.offset), .int(dx.offset),
      ])
  }

  public func lstmGatesForward(
    shape: LSTMShape, step: Int, gx: BufferSlice, gh: BufferSlice, biasIH: BufferSlice,
    biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice, output: BufferSlice
  ) throws {
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    let groups = shape.groups
    _ = try mem(gx, groups * B * T * G, "lstmGatesForward gx")
    _ = try mem(gh, groups * B * G, "lstmGatesForward gh")
    _ = try mem(biasIH, groups * G, "lstmGatesForward biasIH")
    _ = try mem(biasHH, groups * G, "lstmGatesForward biasHH")
    _ = try mem(cell, groups * B * T * H, "lstmGatesForward cell")
    _ = try mem(hprev, groups * B * T * H, "lstmGatesForward hprev")
    _ = try mem(output, shape.models * B * T * 2 * H, "lstmGatesForward output")
    try launch(
      "lstm_gates_forward", global: groups * B * H,
      [
        .int(B), .int(T), .int(H), .int(step), .buffer(gx), .buffer(gh), .buffer(biasIH),
        .buffer(biasHH), .buffer(cell), .buffer(hprev), .buffer(output), .int(gx.offset),
        .int(gh.offset), .int(biasIH.offset), .int(biasHH.offset), .int(cell.offset),
        .int(hprev.offset), .int(output.offset), .int(groups),
      ])
  }

  public func lstmGatesBackward(
    shape: LSTMShape, step: Int, gates: BufferSlice, cell: BufferSlice, dOutput: BufferSlice,
    dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice
  ) throws {
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    let groups = shape.groups
    _ = try mem(gates, groups * B * T * G, "lstmGatesBackward gates")
    _ = try mem(cell, groups * B * T * H, "lstmGatesBackward cell")
    _ = try mem(dOutput, shape.models * B * T * 2 * H, "lstmGatesBackward dOutput")
    _ = try mem(dhRecurrent, groups * B * H, "lstmGatesBackward dhRecurrent")
    _ = try mem(dCell, groups * B * H, "lstmGatesBackward dCell")
    _ = try mem(dGates, groups * B * T * G, "lstmGatesBackward dGates")
    try launch(
      "lstm_gates_backward", global: groups * B * H,
      [
        .int(B), .int(T), .int(H), .int(step), .buffer(gates), .buffer(cell), .buffer(dOutput),
        .buffer(dhRecurrent), .buffer(dCell), .buffer(dGates), .int(gates.offset),
        .int(cell.offset), .int(dOutput.offset), .int(dhRecurrent.offset), .int(dCell.offset),
        .int(dGates.offset), .int(groups),
      ])
  }

  public func causalIm2col(_ x: BufferSlice, into col: BufferSlice, shape: ConvShape) throws {
    let n = shape.models * shape.batch
    let (T, C, K) = (shape.steps, shape.channels, shape.kernel)
    _ = try mem(x, n * T * C, "causalIm2col x")
    _ = try mem(col, n * T * C * K, "causalIm2col col")
    try launch(
      "causal_conv_im2col", global: n * T * C * K,
      [
        .int(n), .int(T), .int(C), .int(K), .int(shape.dilation), .buffer(x), .buffer(col),
        .int(x.offset), .int(col.offset),
      ])
  }

  public func causalCol2im(_ dcol: BufferSlice, into dx: BufferSlice, shape: ConvShape) throws {
    let n = shape.models * shape.batch
    let (T, C, K) = (shape.steps, shape.channels, shape.kernel)
    _ = try mem(dcol, n * T * C * K, "causalCol2im dcol")
    _ = try mem(dx, n * T * C, "causalCol2im dx")
    try launch(
      "causal_conv_col2im", global: n * T * C,
      [
        .int(n), .int(T), .int(C), .int(K), .int(shape.dilation), .buffer(dcol), .buffer(dx),
        .int(dcol.offset), .int(dx.offset),
      ])
  }

  private func finalize(into out: BufferSlice, scale: Float) throws {
    try launch(
      "finalize_sum", global: Self.reductionLocal, local: Self.reductionLocal,
      [
        .int(Self.reductionGroups), .buffer(BufferSlice(scratch)), .buffer(out), .int(out.offset),
        .float(scale), .local(floats: Self.reductionLocal),
      ])
  }

  public func sumSquares(_ x: BufferSlice, count: Int, into out: BufferSlice) throws {
    _ = try mem(x, count, "sumSquares x")
    _ = try mem(out, 1, "sumSquares out")
    try launch(
      "sum_squares_partial", global: Self.reductionGroups * Self.reductionLocal,
      local: Self.reductionLocal,
      [
        .int(count), .buffer(x), .int(x.offset), .buffer(BufferSlice(scratch)),
        .local(floats: Self.reductionLocal),
      ])
    try finalize(into: out, scale: 1)
  }

  public func mseLoss(
    prediction y: BufferSlice, target: BufferSlice, count: Int, gradient dy: BufferSlice,
    loss: BufferSlice
  ) throws {
    _ = try mem(y, count, "mseLoss prediction")
    _ = try mem(target, count, "mseLoss target")
    _ = try mem(dy, count, "mseLoss gradient")
    _ = try mem(loss, 1, "mseLoss loss")
    try launch(
      "mse_partial", global: Self.reductionGroups * Self.reductionLocal,
      local: Self.reductionLocal,
      [
        .int(count), .buffer(y), .buffer(target), .buffer(dy), .int(y.offset), .int(target.offset),
        .int(dy.offset), .buffer(BufferSlice(scratch)), .local(floats: Self.reductionLocal),
      ])
    try finalize(into: loss, scale: 1 / Float(count))
  }

  public func adam(
    parameters p: BufferSlice, gradients g: BufferSlice, m: BufferSlice, v: BufferSlice,
    count: Int, step: AdamStep, maxNorm: Float, normSquared: BufferSlice
  ) throws {
    _ = try mem(p, count, "adam parameters")
    _ = try mem(g, count, "adam gradients")
    _ = try mem(m, count, "adam m")
    _ = try mem(v, count, "adam v")
    _ = try mem(normSquared, 1, "adam norm")
    let c = AdamCoefficients(step)
    try launch(
      "adam_step", global: count,
      [
        .int(count), .buffer(p), .buffer(g), .buffer(m), .buffer(v), .int(p.offset),
        .int(g.offset), .int(m.offset), .int(v.offset), .float(step.beta1), .float(step.beta2),
        .float(step.eps), .float(step.weightDecay), .int(step.decoupled ? 1 : 0),
        .float(c.stepSize), .float(c.sqrtCorrection2), .float(c.decay), .float(maxNorm),
        .buffer(normSquared), .int(normSquared.offset),
      ])
  }
}
