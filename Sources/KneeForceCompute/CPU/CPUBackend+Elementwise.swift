import Foundation

// CPU twins of Kernels/elementwise.cl, Kernels/reduce.cl and Kernels/adam.cl.

extension CPUBackend {
  public func addBias(_ y: BufferSlice, bias: BufferSlice, rows: Int, cols: Int, models: Int)
    throws
  {
    let py = try pointer(y, models * rows * cols, "addBias y")
    let pb = try pointer(bias, models * cols, "addBias bias")
    parallelRanges(models * rows, minimum: 1 << 15 / max(cols, 1)) { range in
      for r in range {
        let row = py + r * cols
        let bm = pb + (r / rows) * cols
        for c in 0..<cols { row[c] += bm[c] }
      }
    }
  }

  public func sumRows(
    _ dy: BufferSlice, into dbias: BufferSlice, rows: Int, cols: Int, models: Int,
    accumulate: Bool
  ) throws {
    let pd = try pointer(dy, models * rows * cols, "sumRows dy")
    let pb = try pointer(dbias, models * cols, "sumRows dbias")
    // Per model, threads sum disjoint column blocks, so no partial results need merging.
    let colChunk = max(8, ((cols + threads - 1) / threads + 7) / 8 * 8)
    let colParts = rows * cols >= 1 << 15 ? (cols + colChunk - 1) / colChunk : 1
    for m in 0..<models {
      let bm = pb + m * cols
      let dm = pd + m * rows * cols
      parallel(colParts) { part in
        let c0 = colParts == 1 ? 0 : part * colChunk
        let c1 = colParts == 1 ? cols : min(c0 + colChunk, cols)
        if !accumulate { (bm + c0).update(repeating: 0, count: c1 - c0) }
        for r in 0..<rows {
          let row = dm + r * cols
          for c in c0..<c1 { bm[c] += row[c] }
        }
      }
    }
  }

  public func reluDropoutForward(_ x: BufferSlice, count: Int, p: Float, seed: UInt32) throws {
    let px = try pointer(x, count, "reluDropoutForward")
    if p <= 0 {
      parallelRanges(count) { range in
        for i in range { px[i] = max(px[i], 0) }
      }
      return
    }
    let scale = 1 / (1 - p)
    let mixed = kneeforceHash(seed)
    parallelRanges(count) { range in
      var i = range.lowerBound
      while i + 8 <= range.upperBound {
        let v = px.load8(i, 8)
        let kept = dropoutKeeps8(index: i, mixed: mixed, p: p) .& (v .> 0)
        px.store8(Float8(repeating: 0).replacing(with: v * scale, where: kept), i, 8)
        i += 8
      }
      while i < range.upperBound {
        let keep =
          Float(kneeforceHash(UInt32(truncatingIfNeeded: i) ^ mixed) >> 8) * (1.0 / 16_777_216.0)
          >= p
        px[i] = keep ? max(px[i], 0) * scale : 0
        i += 1
      }
    }
  }

  public func reluDropoutBackward(_ dy: BufferSlice, output y: BufferSlice, count: Int, p: Float)
    throws
  {
    let pd = try pointer(dy, count, "reluDropoutBackward dy")
    let py = try pointer(y, count, "reluDropoutBackward y")
    let scale: Float = p > 0 ? 1 / (1 - p) : 1
    parallelRanges(count) { range in
      var i = range.lowerBound
      while i + 8 <= range.upperBound {
        let yv = py.load8(i, 8)
        let dv = pd.load8(i, 8) * scale
        pd.store8(Float8(repeating: 0).replacing(with: dv, where: yv .> 0), i, 8)
        i += 8
      }
      while i < range.upperBound {
        pd[i] = py[i] > 0 ? pd[i] * scale : 0
        i += 1
      }
    }
  }

  public func add(_ x: BufferSlice, into y: BufferSlice, count: Int) throws {
    let px = try pointer(x, count, "add x")
    let py = try pointer(y, count, "add y")
    parallelRanges(count) { range in
      for i in range { py[i] += px[i] }
    }
  }

  public func sumSquares(_ x: BufferSlice, count: Int, into out: BufferSlice) throws {
    let px = try pointer(x, count, "sumSquares x")
    let po = try pointer(out, 1, "sumSquares out")
    // Accumulate in Double: the global gradient norm spans every parameter.
    var total = 0.0
    var i = 0
    while i + 8 <= count {
      let v = px.load8(i, 8)
      total += Double((v * v).sum())
      i += 8
    }
    while i < count {
      total += Double(px[i]) * Double(px[i])
      i += 1
    }
    po[0] = Float(total)
  }

  public func mseLoss(
    prediction y: BufferSlice, target: BufferSlice, count: Int, gradient dy: BufferSlice,
    loss: BufferSlice
  ) throws {
    let py = try pointer(y, count, "mseLoss prediction")
    let pt = try pointer(target, count, "mseLoss target")
    let pd = try pointer(dy, count, "mseLoss gradient")
    let pl = try pointer(loss, 1, "mseLoss loss")
    var total = 0.0
    let scale = 2 / Float(count)
    for i in 0..<count {
      let diff = py[i] - pt[i]
      total += Double(diff) * Double(diff)
      pd[i] = scale * diff
    }
    pl[0] = Float(total / Double(count))
  }

  public func adam(
    parameters p: BufferSlice, gradients g: BufferSlice, m: BufferSlice, v: BufferSlice,
    count: Int, step: AdamStep, maxNorm: Float, normSquared: BufferSlice
  ) throws {
    let pp = try pointer(p, count, "adam parameters")
    let pg = try pointer(g, count, "adam gradients")
    let pm = try pointer(m, count, "adam m")
    let pv = try pointer(v, count, "adam v")
    var clip: Float = 1
    if maxNorm > 0 {
      let norm = try pointer(normSquared, 1, "adam norm")[0].squareRoot()
      clip = min(1, maxNorm / (norm + 1e-6))
    }
    let c = AdamCoefficients(step)
    let (b1, b2, eps, wd) = (step.beta1, step.beta2, step.eps, step.weightDecay)
    let decoupled = step.decoupled
    let (stepSize, sqrtBC2, decay) = (c.stepSize, c.sqrtCorrection2, c.decay)
    parallelRanges(count) { range in
      // Eight lanes at a time (the tail padded), same operation order as the kernel.
      for i in stride(from: range.lowerBound, to: range.upperBound, by: 8) {
        let n = min(8, range.upperBound - i)
        let (param, mi, vi) = adamUpdate8(
          param: pp.load8(i, n), grad: pg.load8(i, n) * clip, m: pm.load8(i, n),
          v: pv.load8(i, n), beta1: b1, beta2: b2, eps: eps, weightDecay: wd,
          decoupled: decoupled, decay: decay, stepSize: Float8(repeating: stepSize),
          sqrtBC2: Float8(repeating: sqrtBC2))
        pm.store8(mi, i, n)
        pv.store8(vi, i, n)
        pp.store8(param, i, n)
      }
    }
  }
}

/// One Adam/AdamW update of eight parameters with PyTorch's semantics, the clip factor already
/// applied to `grad`; the twin of kf_adam_update (Kernels/common.cl), shared by `adam` and
/// `laneAdam` (whose step size and bias correction differ per lane). Returns the new
/// parameters and moments.
@inline(__always)
func adamUpdate8(
  param: Float8, grad: Float8, m: Float8, v: Float8, beta1: Float, beta2: Float, eps: Float,
  weightDecay: Float, decoupled: Bool, decay: Float, stepSize: Float8, sqrtBC2: Float8
) -> (param: Float8, m: Float8, v: Float8) {
  var grad = grad
  var param = param
  if decoupled {
    param *= decay
  } else {
    grad += weightDecay * param
  }
  let mi = beta1 * m + (1 - beta1) * grad
  let vi = beta2 * v + (1 - beta2) * grad * grad
  return (param - stepSize * mi / (vi.squareRoot() / sqrtBC2 + eps), mi, vi)
}

/// The dropout hash of DropoutHash.swift (kf_dropout_keeps in Kernels/common.cl) for the
/// eight elements from `index`, `mixed` being the site's hashed seed: whether each is kept.
/// Shared by the plain and the per-lane ReLU + dropout loops.
@inline(__always)
func dropoutKeeps8(index: Int, mixed: UInt32, p: Float) -> SIMDMask<SIMD8<Int32>> {
  let offsets = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
  var h = (SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: index)) &+ offsets) ^ mixed
  h ^= h &>> 16
  h = h &* 0x7feb_352d
  h ^= h &>> 15
  h = h &* 0x846c_a68b
  h ^= h &>> 16
  let u = Float8(SIMD8<Int32>(truncatingIfNeeded: h &>> 8)) * (1.0 / 16_777_216.0)
  return u .>= p
}
