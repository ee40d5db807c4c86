import Foundation

// CPU twins of Kernels/lanes.cl: the per-lane operations of models trained in lockstep.
// Every lane is computed by one thread in a fixed order, so a lane's result depends neither
// on the other lanes nor on the thread count.

extension CPUBackend {
  func words(_ slice: BufferSlice, _ count: Int, _ what: @autoclosure () -> String) throws
    -> UnsafeMutablePointer<UInt32>
  {
    let p = try pointer(slice, count, what())
    return UnsafeMutableRawPointer(p).assumingMemoryBound(to: UInt32.self)
  }

  public func uploadWords(_ values: [UInt32], to slice: BufferSlice) throws {
    let p = try words(slice, values.count, "uploadWords")
    values.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: values.count) }
  }

  public func gatherSequences(
    _ shape: GatherShape, inputs: BufferSlice, targets: BufferSlice, indices: BufferSlice,
    channels: BufferSlice, mean: BufferSlice, scale: BufferSlice, residual: GatherResidual?,
    augmentation: GatherAugmentation?, x: BufferSlice, y: BufferSlice, mask: BufferSlice
  ) throws {
    let (K, B, T) = (shape.models, shape.batch, shape.steps)
    let (C, S, O) = (shape.storeChannels, shape.selected, shape.outputs)
    let pi = try pointer(inputs, 0, "gatherSequences inputs")
    let pt = try pointer(targets, 0, "gatherSequences targets")
    let inputCount = inputs.buffer.count - inputs.offset
    let targetCount = targets.buffer.count - targets.offset
    let pIndex = try words(indices, K * B, "gatherSequences indices")
    let pChannel = try words(channels, S, "gatherSequences channels")
    let pMean = try pointer(mean, K * S, "gatherSequences mean")
    let pScale = try pointer(scale, K * S, "gatherSequences scale")
    let px = try pointer(x, K * B * T * S, "gatherSequences x")
    let py = try pointer(y, K * B * T * O, "gatherSequences y")
    let pm = try pointer(mask, K * B, "gatherSequences mask")
    // Every index, channel and base table is checked against its buffer before any read.
    let storeCount = residual?.storeCount ?? Int.max
    for r in 0..<(K * B) {
      let index = Int(Int32(bitPattern: pIndex[r]))
      guard
        index < 0
          || ((index + 1) * T * C <= inputCount && (index + 1) * T * O <= targetCount
            && index < storeCount)
      else {
        throw ComputeError.outOfBounds("gatherSequences: sequence \(index) outside the store")
      }
    }
    for c in 0..<S where Int(pChannel[c]) >= C {
      throw ComputeError.outOfBounds("gatherSequences: channel \(pChannel[c]) of \(C)")
    }
    var pBases: UnsafeMutablePointer<Float>?
    var pLaneBases: UnsafeMutablePointer<UInt32>?
    if let residual {
      let n = residual.storeCount
      pBases = try pointer(residual.bases, residual.tables * n * T * O, "gatherSequences bases")
      pLaneBases = try words(residual.laneBases, K, "gatherSequences laneBases")
      for m in 0..<K {
        let table = Int(Int32(bitPattern: pLaneBases![m]))
        guard table < residual.tables else {
          throw ComputeError.outOfBounds(
            "gatherSequences: lane \(m) names base table \(table) of \(residual.tables)")
        }
      }
    }
    let settings = augmentation?.settings ?? .off
    let augment = !settings.isOff
    let pKeys = try augmentation.map { try words($0.keys, K, "gatherSequences keys") }
    parallel(min(threads, K * B)) { part in
      var gains = [Float](repeating: 1, count: S)
      var offsets = [Float](repeating: 0, count: S)
      var noise = [Float](repeating: 0, count: augment ? T * S : 0)
      for r in stride(from: part, to: K * B, by: max(1, min(threads, K * B))) {
        let (m, b) = (r / B, UInt32(r % B))
        let index = Int(Int32(bitPattern: pIndex[r]))
        let xr = px + r * T * S
        let yr = py + r * T * O
        guard index >= 0 else {
          xr.update(repeating: 0, count: T * S)
          yr.update(repeating: 0, count: T * O)
          pm[r] = 0
          continue
        }
        let source = pi + index * T * C
        let target = pt + index * T * O
        let table = pLaneBases.map { Int(Int32(bitPattern: $0[m])) } ?? -1
        let base = table >= 0 ? pBases! + (table * storeCount + index) * T * O : nil
        let mu = pMean + m * S
        let sc = pScale + m * S
        let key = augment ? pKeys![m] : 0
        let warping = augment && settings.timeWarp > 0
        let w =
          warping
          ? settings.timeWarp
            * (2 * augmentationUniform(key: key, draw: .warp, row: b, index: 0) - 1) : 0
        if augment {
          let noiseSeed = augmentationRowSeed(key: key, draw: .noise, row: b)
          noise.withUnsafeMutableBufferPointer { fillNormals($0, rowSeed: noiseSeed) }
          let gainSeed = augmentationRowSeed(key: key, draw: .gain, row: b)
          let offsetSeed = augmentationRowSeed(key: key, draw: .offset, row: b)
          for c in 0..<S {
            gains[c] = expf(settings.gain * augmentationNormal(rowSeed: gainSeed, index: UInt32(c)))
            offsets[c] = settings.offset * augmentationNormal(rowSeed: offsetSeed, index: UInt32(c))
          }
        }
        for t in 0..<T {
          var (i0, i1, f) = (t, t, Float(0))
          if warping {
            let p = augmentationWarp(t, steps: T, w: w)
            i0 = Int(p)
            i1 = min(i0 + 1, T - 1)
            f = p - Float(i0)
          }
          for c in 0..<S {
            let channel = Int(pChannel[c])
            var raw = source[i0 * C + channel]
            if warping { raw = raw + f * (source[i1 * C + channel] - raw) }
            var v = (raw - mu[c]) * sc[c]
            if augment {
              v = v * gains[c] + offsets[c] + settings.noise * noise[t * S + c]
            }
            xr[t * S + c] = v
          }
          for o in 0..<O {
            var r0 = target[i0 * O + o]
            if let base { r0 -= base[i0 * O + o] }
            if warping {
              var r1 = target[i1 * O + o]
              if let base { r1 -= base[i1 * O + o] }
              r0 = r0 + f * (r1 - r0)
            }
            yr[t * O + o] = r0
          }
        }
        pm[r] = 1
      }
    }
  }

  public func laneReluDropoutForward(
    _ x: BufferSlice, models: Int, count: Int, p: Float, keys: BufferSlice, site: UInt32
  ) throws {
    let px = try pointer(x, models * count, "laneReluDropoutForward x")
    let pk = try words(keys, models, "laneReluDropoutForward keys")
    guard p > 0 else {
      parallelRanges(models * count) { range in
        for i in range { px[i] = max(px[i], 0) }
      }
      return
    }
    let scale = 1 / (1 - p)
    // Lane m's share in `parts` pieces each; the mask depends on the lane-local index only.
    let parts = models * count >= 1 << 15 ? max(1, threads) : 1
    let chunk = ((count + parts - 1) / parts + 7) / 8 * 8
    parallel(models * parts) { task in
      let (m, part) = (task / parts, task % parts)
      let lane = px + m * count
      let mixed = kneeforceHash(laneDropoutSeed(pk[m], site: site))
      let lo = min(part * chunk, count)
      let hi = min(lo + chunk, count)
      var i = lo
      while i + 8 <= hi {
        let v = lane.load8(i, 8)
        let kept = dropoutKeeps8(index: i, mixed: mixed, p: p) .& (v .> 0)
        lane.store8(Float8(repeating: 0).replacing(with: v * scale, where: kept), i, 8)
        i += 8
      }
      while i < hi {
        let h = kneeforceHash(UInt32(truncatingIfNeeded: i) ^ mixed)
        let keep = Float(h >> 8) * (1.0 / 16_777_216.0) >= p
        lane[i] = keep ? max(lane[i], 0) * scale : 0
        i += 1
      }
    }
  }

  public func laneMSELoss(
    prediction y: BufferSlice, target: BufferSlice, mask: BufferSlice, models: Int, rows: Int,
    rowWidth: Int, laneSteps: BufferSlice, gradient dy: BufferSlice, loss: BufferSlice
  ) throws {
    let n = rows * rowWidth
    let py = try pointer(y, models * n, "laneMSELoss prediction")
    let pt = try pointer(target, models * n, "laneMSELoss target")
    let pm = try pointer(mask, models * rows, "laneMSELoss mask")
    let ps = try pointer(laneSteps, models * LaneStep.width, "laneMSELoss laneSteps")
    let pd = try pointer(dy, models * n, "laneMSELoss gradient")
    let pl = try pointer(loss, models, "laneMSELoss loss")
    parallel(min(threads, models)) { part in
      for m in stride(from: part, to: models, by: max(1, min(threads, models))) {
        let count = ps[m * LaneStep.width]
        let base = m * n
        guard count > 0 else {
          (pd + base).update(repeating: 0, count: n)
          pl[m] = 0
          continue
        }
        let scale = 2 / count
        var total = 0.0
        for r in 0..<rows {
          let keep = pm[m * rows + r]
          for c in 0..<rowWidth {
            let i = base + r * rowWidth + c
            let diff = (py[i] - pt[i]) * keep
            total += Double(diff) * Double(diff)
            pd[i] = scale * diff
          }
        }
        pl[m] = Float(total)
      }
    }
  }

  public func laneSumSquares(
    _ x: BufferSlice, chunks: BufferSlice, models: Int, chunksPerLane: Int,
    partials: BufferSlice, into norms: BufferSlice
  ) throws {
    let table = try words(chunks, models * chunksPerLane * 2, "laneSumSquares chunks")
    let pn = try pointer(norms, models, "laneSumSquares norms")
    _ = try pointer(partials, models * chunksPerLane, "laneSumSquares partials")
    var end = 0
    for d in 0..<(models * chunksPerLane) {
      end = max(end, Int(table[2 * d]) + Int(table[2 * d + 1]))
    }
    let px = try pointer(x, end, "laneSumSquares x")
    parallel(min(threads, models)) { part in
      for m in stride(from: part, to: models, by: max(1, min(threads, models))) {
        var total = 0.0
        for c in 0..<chunksPerLane {
          let d = m * chunksPerLane + c
          let start = px + Int(table[2 * d])
          let length = Int(table[2 * d + 1])
          var i = 0
          while i + 8 <= length {
            let v = start.load8(i, 8)
            total += Double((v * v).sum())
            i += 8
          }
          while i < length {
            total += Double(start[i]) * Double(start[i])
            i += 1
          }
        }
        pn[m] = Float(total)
      }
    }
  }

  public func laneAdam(
    parameters p: BufferSlice, gradients g: BufferSlice, m: BufferSlice, v: BufferSlice,
    count: Int, models: Int, lanes: BufferSlice, laneSteps: BufferSlice, norms: BufferSlice,
    step: AdamStep, maxNorm: Float
  ) throws {
    let pp = try pointer(p, count, "laneAdam parameters")
    let pg = try pointer(g, count, "laneAdam gradients")
    let pm = try pointer(m, count, "laneAdam m")
    let pv = try pointer(v, count, "laneAdam v")
    let pl = try words(lanes, count, "laneAdam lanes")
    let ps = try pointer(laneSteps, models * LaneStep.width, "laneAdam laneSteps")
    let pn = try pointer(norms, models, "laneAdam norms")
    // Per-lane factors first, so the loop below only looks them up.
    var clip = [Float](repeating: 1, count: models)
    for lane in 0..<models where maxNorm > 0 {
      clip[lane] = min(1, maxNorm / (pn[lane].squareRoot() + 1e-6))
    }
    let (b1, b2, eps, wd) = (step.beta1, step.beta2, step.eps, step.weightDecay)
    let decoupled = step.decoupled
    let decay = decoupled ? 1 - step.lr * step.weightDecay : 1
    clip.withUnsafeBufferPointer { clip in
      parallelRanges(count) { range in
        for i in stride(from: range.lowerBound, to: range.upperBound, by: 8) {
          let n = min(8, range.upperBound - i)
          var laneClip = Float8(repeating: 1)
          var stepSize = Float8()
          var sqrtBC2 = Float8(repeating: 1)
          var active = SIMDMask<SIMD8<Int32>>()
          for k in 0..<n {
            let lane = min(Int(pl[i + k]), models - 1)
            let s = ps + lane * LaneStep.width
            laneClip[k] = clip[lane]
            stepSize[k] = s[1]
            sqrtBC2[k] = s[2]
            active[k] = s[3] != 0
          }
          let old = pp.load8(i, n)
          let oldM = pm.load8(i, n)
          let oldV = pv.load8(i, n)
          let (updated, mi, vi) = adamUpdate8(
            param: old, grad: pg.load8(i, n) * laneClip, m: oldM, v: oldV, beta1: b1, beta2: b2,
            eps: eps, weightDecay: wd, decoupled: decoupled, decay: decay, stepSize: stepSize,
            sqrtBC2: sqrtBC2)
          pm.store8(oldM.replacing(with: mi, where: active), i, n)
          pv.store8(oldV.replacing(with: vi, where: active), i, n)
          pp.store8(old.replacing(with: updated, where: active), i, n)
        }
      }
    }
  }
}

/// The dropout seed of one site for a lane: the lane's step key mixed with the site index,
/// as Kernels/lanes.cl (kf_lane_site_seed) computes it.
@inlinable
public func laneDropoutSeed(_ key: UInt32, site: UInt32) -> UInt32 {
  kneeforceHash(key &+ site &* 0x9E37_79B9)
}

/// `out[i] = augmentationNormal(rowSeed:index: i)`, eight at a time: the same integer
/// hashes and the same float operations in the same order per element, so the same bits.
func fillNormals(_ out: UnsafeMutableBufferPointer<Float>, rowSeed: UInt32) {
  let offsets = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
  var i = 0
  while i + 8 <= out.count {
    let index = (SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: i)) &+ offsets) &* 4
    var sum = Float8()
    for k in 0..<UInt32(4) {
      var h = (index &+ k) ^ rowSeed
      h ^= h &>> 16
      h = h &* 0x7feb_352d
      h ^= h &>> 15
      h = h &* 0x846c_a68b
      h ^= h &>> 16
      sum += Float8(SIMD8<Int32>(truncatingIfNeeded: h &>> 8)) * (1.0 / 16_777_216.0)
    }
    let normals = (sum - 2) * 1.732_050_8
    for j in 0..<8 { out[i + j] = normals[j] }
    i += 8
  }
  while i < out.count {
    out[i] = augmentationNormal(rowSeed: rowSeed, index: UInt32(truncatingIfNeeded: i))
    i += 1
  }
}
