import CKneeForce

// The per-lane kernels of Kernels/lanes.cl, launched with the layouts that file describes.

extension OpenCLBackend {
  public func uploadWords(_ values: [UInt32], to slice: BufferSlice) throws {
    let m = try mem(slice, values.count, "uploadWords")
    guard !values.isEmpty else { return }
    try clCheck(
      kf_clEnqueueWriteBuffer(
        queue, m, cl_bool(CL_TRUE), slice.offset * 4, values.count * 4, values, 0, nil, nil),
      "clEnqueueWriteBuffer(words)")
  }

  public func gatherSequences(
    _ shape: GatherShape, inputs: BufferSlice, targets: BufferSlice, indices: BufferSlice,
    channels: BufferSlice, mean: BufferSlice, scale: BufferSlice, residual: GatherResidual?,
    augmentation: GatherAugmentation?, x: BufferSlice, y: BufferSlice, mask: BufferSlice
  ) throws {
    let (K, B, T) = (shape.models, shape.batch, shape.steps)
    let (S, O) = (shape.selected, shape.outputs)
    _ = try mem(inputs, 0, "gatherSequences inputs")
    _ = try mem(targets, 0, "gatherSequences targets")
    _ = try mem(indices, K * B, "gatherSequences indices")
    _ = try mem(channels, S, "gatherSequences channels")
    _ = try mem(mean, K * S, "gatherSequences mean")
    _ = try mem(scale, K * S, "gatherSequences scale")
    _ = try mem(x, K * B * T * S, "gatherSequences x")
    _ = try mem(y, K * B * T * O, "gatherSequences y")
    _ = try mem(mask, K * B, "gatherSequences mask")
    // Unused buffer arguments still need a valid buffer: the targets stand in.
    let bases = residual?.bases ?? targets
    let laneBases = residual?.laneBases ?? indices
    if let residual {
      _ = try mem(bases, residual.tables * residual.storeCount * T * O, "gatherSequences bases")
      _ = try mem(laneBases, K, "gatherSequences laneBases")
    }
    let settings = augmentation?.settings ?? .off
    let augment = !settings.isOff
    let keys = augmentation?.keys ?? indices
    if augment { _ = try mem(keys, K, "gatherSequences keys") }
    try launch(
      "gather_sequences", global: shape.elements,
      [
        .int(K), .int(B), .int(T), .int(shape.storeChannels), .int(S), .int(O),
        .buffer(inputs), .buffer(targets), .buffer(indices), .buffer(channels), .buffer(mean),
        .buffer(scale), .buffer(x), .buffer(y), .buffer(mask), .long(inputs.offset),
        .long(targets.offset), .int(indices.offset), .int(channels.offset), .int(mean.offset),
        .int(scale.offset), .long(x.offset), .long(y.offset), .int(mask.offset),
        .int(residual?.tables ?? 0), .int(residual?.storeCount ?? 0), .buffer(bases),
        .long(bases.offset), .buffer(laneBases), .int(laneBases.offset), .int(augment ? 1 : 0),
        .buffer(keys), .int(keys.offset), .float(settings.noise), .float(settings.offset),
        .float(settings.gain), .float(settings.timeWarp),
      ])
  }

  public func laneReluDropoutForward(
    _ x: BufferSlice, models: Int, count: Int, p: Float, keys: BufferSlice, site: UInt32
  ) throws {
    _ = try mem(x, models * count, "laneReluDropoutForward x")
    _ = try mem(keys, models, "laneReluDropoutForward keys")
    try launch(
      "lane_relu_dropout_forward", global: models * count,
      [
        .int(models), .long(count), .buffer(x), .long(x.offset), .float(p), .buffer(keys),
        .int(keys.offset), .uint(site),
      ])
  }

  public func laneMSELoss(
    prediction y: BufferSlice, target: BufferSlice, mask: BufferSlice, models: Int, rows: Int,
    rowWidth: Int, laneSteps: BufferSlice, gradient dy: BufferSlice, loss: BufferSlice
  ) throws {
    let n = models * rows * rowWidth
    _ = try mem(y, n, "laneMSELoss prediction")
    _ = try mem(target, n, "laneMSELoss target")
    _ = try mem(mask, models * rows, "laneMSELoss mask")
    _ = try mem(laneSteps, models * LaneStep.width, "laneMSELoss laneSteps")
    _ = try mem(dy, n, "laneMSELoss gradient")
    _ = try mem(loss, models, "laneMSELoss loss")
    try launch(
      "lane_mse", global: models * Self.reductionLocal, local: Self.reductionLocal,
      [
        .int(rows), .int(rowWidth), .buffer(y), .buffer(target), .buffer(mask),
        .buffer(laneSteps), .buffer(dy), .buffer(loss), .long(y.offset), .long(target.offset),
        .int(mask.offset), .int(laneSteps.offset), .long(dy.offset), .int(loss.offset),
        .local(floats: Self.reductionLocal),
      ])
  }

  public func laneSumSquares(
    _ x: BufferSlice, chunks: BufferSlice, models: Int, chunksPerLane: Int,
    partials: BufferSlice, into norms: BufferSlice
  ) throws {
    let d = models * chunksPerLane
    _ = try mem(x, 0, "laneSumSquares x")
    _ = try mem(chunks, 2 * d, "laneSumSquares chunks")
    _ = try mem(partials, d, "laneSumSquares partials")
    _ = try mem(norms, models, "laneSumSquares norms")
    try launch(
      "lane_sum_squares_partial", global: d * Self.reductionLocal, local: Self.reductionLocal,
      [
        .buffer(x), .long(x.offset), .buffer(chunks), .int(chunks.offset), .buffer(partials),
        .int(partials.offset), .local(floats: Self.reductionLocal),
      ])
    try launch(
      "lane_finalize_sum", global: models * Self.reductionLocal, local: Self.reductionLocal,
      [
        .int(chunksPerLane), .buffer(partials), .int(partials.offset), .buffer(norms),
        .int(norms.offset), .local(floats: Self.reductionLocal),
      ])
  }

  public func laneAdam(
    parameters p: BufferSlice, gradients g: BufferSlice, m: BufferSlice, v: BufferSlice,
    count: Int, models: Int, lanes: BufferSlice, laneSteps: BufferSlice, norms: BufferSlice,
    step: AdamStep, maxNorm: Float
  ) throws {
    _ = try mem(p, count, "laneAdam parameters")
    _ = try mem(g, count, "laneAdam gradients")
    _ = try mem(m, count, "laneAdam m")
    _ = try mem(v, count, "laneAdam v")
    _ = try mem(lanes, count, "laneAdam lanes")
    _ = try mem(laneSteps, models * LaneStep.width, "laneAdam laneSteps")
    _ = try mem(norms, models, "laneAdam norms")
    let decay = step.decoupled ? 1 - step.lr * step.weightDecay : 1
    try launch(
      "lane_adam", global: count,
      [
        .long(count), .int(models), .buffer(p), .buffer(g), .buffer(m), .buffer(v), .long(p.offset),
        .long(g.offset), .long(m.offset), .long(v.offset), .buffer(lanes), .long(lanes.offset),
        .buffer(laneSteps), .int(laneSteps.offset), .buffer(norms), .int(norms.offset),
        .float(step.beta1), .float(step.beta2), .float(step.eps), .float(step.weightDecay),
        .int(step.decoupled ? 1 : 0), .float(decay), .float(maxNorm),
      ])
  }
}
