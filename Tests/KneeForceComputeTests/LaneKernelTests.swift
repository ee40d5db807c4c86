import KneeForceCompute
import XCTest

/// The per-lane kernels of Kernels/lanes.cl and their CPU twins, against plain references,
/// and the property the lockstep trainer rests on: a lane's result does not depend on the
/// other lanes, on where it sits, or on the thread count.
final class LaneKernelTests: XCTestCase {
  func words(_ values: [UInt32], on backend: ComputeBackend) throws -> DeviceBuffer {
    let buffer = try backend.makeBuffer(count: values.count)
    try backend.uploadWords(values, to: BufferSlice(buffer))
    return buffer
  }

  func testGatherSequences() throws {
    let (N, T, C, O) = (5, 4, 6, 2)
    let channels: [UInt32] = [4, 0, 3]
    let shape = GatherShape(
      models: 3, batch: 2, steps: T, storeChannels: C, selected: channels.count, outputs: O)
    let inputs = randoms(N * T * C, seed: 1)
    let targets = randoms(N * T * O, seed: 2)
    let indices: [Int32] = [3, 0, -1, 4, 2, -1]
    let mean = randoms(3 * channels.count, seed: 3)
    let scale = randoms(3 * channels.count, seed: 4, in: 0.5...2)
    // Reference, straight from the formula.
    var x: [Float] = []
    var y: [Float] = []
    var mask: [Float] = []
    for r in 0..<6 {
      let (m, index) = (r / 2, Int(indices[r]))
      mask.append(index >= 0 ? 1 : 0)
      for t in 0..<T {
        for (c, channel) in channels.enumerated() {
          x.append(
            index < 0
              ? 0
              : (inputs[(index * T + t) * C + Int(channel)] - mean[m * 3 + c]) * scale[m * 3 + c])
        }
        for o in 0..<O { y.append(index < 0 ? 0 : targets[(index * T + t) * O + o]) }
      }
    }
    try forEachBackend { backend in
      let px = try Placed(Array(repeating: 7, count: x.count), on: backend)
      let py = try Placed(Array(repeating: 7, count: y.count), on: backend)
      let pm = try Placed(Array(repeating: 7, count: 6), on: backend)
      try backend.gatherSequences(
        shape, inputs: BufferSlice(try backend.makeBuffer(inputs)),
        targets: BufferSlice(try backend.makeBuffer(targets)),
        indices: BufferSlice(try words(indices.map { UInt32(bitPattern: $0) }, on: backend)),
        channels: BufferSlice(try words(channels, on: backend)),
        mean: BufferSlice(try backend.makeBuffer(mean)),
        scale: BufferSlice(try backend.makeBuffer(scale)), x: px.slice, y: py.slice,
        mask: pm.slice)
      assertSame(try px.read(), x, "\(backend.tag) gather x")
      assertSame(try py.read(), y, "\(backend.tag) gather y")
      assertSame(try pm.read(), mask, "\(backend.tag) gather mask")
    }
  }

  /// Residual targets and augmentation against a plain loop over the documented formula:
  /// lanes with their own base table (one shared, one none), keys and rows, time warp on.
  /// The CPU twin matches bit for bit on 1 and 2 threads; OpenCL to rounding (its sin and
  /// exp, and contracted multiply-adds, may differ in the last bits).
  func testGatherWithBasesAndAugmentationMatchesPlainLoop() throws {
    let (N, T, C, O) = (5, 9, 6, 2)
    let channels: [UInt32] = [4, 0, 3]
    let S = channels.count
    let (K, B) = (4, 2)
    let shape = GatherShape(
      models: K, batch: B, steps: T, storeChannels: C, selected: S, outputs: O)
    let inputs = randoms(N * T * C, seed: 1)
    let targets = randoms(N * T * O, seed: 2)
    let bases = randoms(2 * N * T * O, seed: 5)
    let laneBases: [Int32] = [1, -1, 0, 1]
    let keys: [UInt32] = [7, 0xCAFE_F00D, 7, 12345]
    let indices: [Int32] = [3, 0, -1, 4, 2, 1, 3, 0]
    let mean = randoms(K * S, seed: 3)
    let scale = randoms(K * S, seed: 4, in: 0.5...2)
    let settings = Augmentation(noise: 0.1, offset: 0.2, gain: 0.15, timeWarp: 0.4)
    var x: [Float] = []
    var y: [Float] = []
    for r in 0..<(K * B) {
      let (m, b, index) = (r / B, UInt32(r % B), Int(indices[r]))
      let key = keys[m]
      let w =
        settings.timeWarp * (2 * augmentationUniform(key: key, draw: .warp, row: b, index: 0) - 1)
      for t in 0..<T {
        let p = augmentationWarp(t, steps: T, w: w)
        let i0 = Int(p.rounded(.down))
        let (i1, f) = (min(i0 + 1, T - 1), p - p.rounded(.down))
        for (c, channel) in channels.enumerated() {
          guard index >= 0 else {
            x.append(0)
            continue
          }
          let v0 = inputs[(index * T + i0) * C + Int(channel)]
          let v1 = inputs[(index * T + i1) * C + Int(channel)]
          let z = (v0 + f * (v1 - v0) - mean[m * S + c]) * scale[m * S + c]
          let gain = expf(
            settings.gain * augmentationNormal(key: key, draw: .gain, row: b, index: UInt32(c)))
          let offset =
            settings.offset * augmentationNormal(key: key, draw: .offset, row: b, index: UInt32(c))
          let noise = augmentationNormal(key: key, draw: .noise, row: b, index: UInt32(t * S + c))
          x.append(z * gain + offset + settings.noise * noise)
        }
        for o in 0..<O {
          guard index >= 0 else {
            y.append(0)
            continue
          }
          func residual(_ step: Int) -> Float {
            let target = targets[(index * T + step) * O + o]
            let table = Int(laneBases[m])
            return table < 0 ? target : target - bases[((table * N + index) * T + step) * O + o]
          }
          y.append(residual(i0) + f * (residual(i1) - residual(i0)))
        }
      }
    }
    let mask: [Float] = indices.map { $0 >= 0 ? 1 : 0 }
    // Lanes 0 and 2 share a key but not the rows or base; the draws must still show.
    XCTAssertNotEqual(Array(x[0..<(T * S)]), Array(x[(2 * B * T * S)..<((2 * B + 1) * T * S)]))
    var backends: [ComputeBackend] = [CPUBackend(threads: 1), CPUBackend(threads: 2)]
    if let opencl = try? TestBackends.requireOpenCL() { backends.append(opencl) }
    if TestBackends.openCLRequired { XCTAssertEqual(backends.count, 3, "OpenCL required") }
    for backend in backends {
      let (px, py, pm) = try gather(
        backend, shape, inputs, targets, indices, channels, mean, scale,
        residual: (bases, laneBases, 2, N), augmentation: (settings, keys))
      if backend.kind == .cpu {
        assertSame(px, x, "\(backend.deviceName) augmented x")
        assertSame(py, y, "\(backend.deviceName) residual y")
      } else {
        assertClose(px, x, tolerance: 1e-5, "\(backend.tag) augmented x")
        assertClose(py, y, tolerance: 1e-5, "\(backend.tag) residual y")
      }
      assertSame(pm, mask, "\(backend.tag) mask")
      // Settings all zero: the plain gather's bits, keys or not.
      let plain = try gather(backend, shape, inputs, targets, indices, channels, mean, scale)
      let off = try gather(
        backend, shape, inputs, targets, indices, channels, mean, scale,
        residual: (bases, [-1, -1, -1, -1], 2, N), augmentation: (.off, keys))
      assertSame(off.x, plain.x, "\(backend.tag): augmentation off changed x")
      assertSame(off.y, plain.y, "\(backend.tag): no base changed y")
      XCTAssertNotEqual(plain.x, px, "\(backend.tag): augmentation had no effect")
    }
  }

  func gather(
    _ backend: ComputeBackend, _ shape: GatherShape, _ inputs: [Float], _ targets: [Float],
    _ indices: [Int32], _ channels: [UInt32], _ mean: [Float], _ scale: [Float],
    residual: (bases: [Float], lanes: [Int32], tables: Int, count: Int)? = nil,
    augmentation: (settings: Augmentation, keys: [UInt32])? = nil
  ) throws -> (x: [Float], y: [Float], mask: [Float]) {
    let (K, B, T) = (shape.models, shape.batch, shape.steps)
    let px = try Placed(Array(repeating: 7, count: K * B * T * shape.selected), on: backend)
    let py = try Placed(Array(repeating: 7, count: K * B * T * shape.outputs), on: backend)
    let pm = try Placed(Array(repeating: 7, count: K * B), on: backend)
    try backend.gatherSequences(
      shape, inputs: BufferSlice(try backend.makeBuffer(inputs)),
      targets: BufferSlice(try backend.makeBuffer(targets)),
      indices: BufferSlice(try words(indices.map { UInt32(bitPattern: $0) }, on: backend)),
      channels: BufferSlice(try words(channels, on: backend)),
      mean: BufferSlice(try backend.makeBuffer(mean)),
      scale: BufferSlice(try backend.makeBuffer(scale)),
      residual: try residual.map {
        GatherResidual(
          bases: BufferSlice(try backend.makeBuffer($0.bases)),
          laneBases: BufferSlice(
            try words($0.lanes.map { UInt32(bitPattern: $0) }, on: backend)),
          tables: $0.tables, storeCount: $0.count)
      },
      augmentation: try augmentation.map {
        GatherAugmentation($0.settings, keys: BufferSlice(try words($0.keys, on: backend)))
      }, x: px.slice, y: py.slice, mask: pm.slice)
    return (try px.read(), try py.read(), try pm.read())
  }

  /// The warp keeps both ends, is strictly increasing up to the strongest allowed warp, and
  /// moves the middle by w (T-1)/pi; the draws are uniform in [0, 1) and unit-variance.
  func testAugmentationWarpAndDraws() {
    let T = 101
    for w: Float in [-0.99, -0.3, 0.3, 0.99] {
      let p = (0..<T).map { augmentationWarp($0, steps: T, w: w) }
      XCTAssertEqual(p.first, 0)
      XCTAssertEqual(p.last, Float(T - 1))
      XCTAssertTrue(zip(p, p.dropFirst()).allSatisfy { $0 < $1 }, "warp \(w) not monotone")
      XCTAssertEqual(p[50] - 50, w * 100 / Float.pi, accuracy: 1e-3)
    }
    let u = (0..<20_000).map {
      augmentationUniform(key: 3, draw: .warp, row: UInt32($0 % 7), index: UInt32($0))
    }
    XCTAssertTrue(u.allSatisfy { (0..<1).contains($0) })
    XCTAssertEqual(Double(u.reduce(0, +)) / Double(u.count), 0.5, accuracy: 0.01)
    let n = (0..<20_000).map {
      Double(augmentationNormal(key: 9, draw: .noise, row: 1, index: UInt32($0)))
    }
    let mean = n.reduce(0, +) / Double(n.count)
    let variance = n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n.count)
    XCTAssertEqual(mean, 0, accuracy: 0.03)
    XCTAssertEqual(variance, 1, accuracy: 0.05)
    XCTAssertLessThanOrEqual(n.map(abs).max()!, 2 * 3.0.squareRoot() + 1e-6)
  }

  func testAugmentationSettingsAreChecked() {
    XCTAssertNil(Augmentation(noise: 0.1, offset: 0.1, gain: 0.1, timeWarp: 0.5).problem)
    XCTAssertNotNil(Augmentation(noise: -0.1).problem)
    XCTAssertNotNil(Augmentation(gain: .nan).problem)
    XCTAssertNotNil(Augmentation(timeWarp: 1).problem)
    XCTAssertTrue(Augmentation().isOff)
  }

  func testGatherRejectsIndicesOutsideTheStore() throws {
    let backend = CPUBackend()
    let shape = GatherShape(
      models: 1, batch: 1, steps: 2, storeChannels: 1, selected: 1, outputs: 1)
    let buffers = try (0..<5).map { _ in try backend.makeBuffer(count: 4) }
    XCTAssertThrowsError(
      try backend.gatherSequences(
        shape, inputs: BufferSlice(buffers[0]), targets: BufferSlice(buffers[1]),
        indices: BufferSlice(try words([2], on: backend)),
        channels: BufferSlice(try words([0], on: backend)), mean: BufferSlice(buffers[2]),
        scale: BufferSlice(buffers[3]), x: BufferSlice(buffers[4]),
        y: BufferSlice(buffers[4], offset: 2), mask: BufferSlice(buffers[4], offset: 3)))
  }

  /// Lane m's mask is the hash of (its key, the site, the lane-local index); lanes with equal
  /// keys drop the same elements, wherever they sit.
  func testLaneDropoutIsKeyedPerLane() throws {
    let (models, count, p) = (3, 1037, Float(0.3))
    let keys: [UInt32] = [11, 0xDEAD_BEEF, 11]
    let site: UInt32 = 2
    let x = randoms(models * count, seed: 9)
    var expected = x
    for m in 0..<models {
      let seed = laneDropoutSeed(keys[m], site: site)
      for i in 0..<count {
        let keep = dropoutKeeps(index: UInt32(i), seed: seed, p: p)
        expected[m * count + i] = keep ? max(x[m * count + i], 0) * (1 / (1 - p)) : 0
      }
    }
    var runs: [[Float]] = []
    for backend in [CPUBackend(threads: 1), CPUBackend(threads: 2)] as [ComputeBackend] {
      runs.append(try runDropout(backend, x, models, count, p, keys, site))
    }
    try forEachBackend { runs.append(try runDropout($0, x, models, count, p, keys, site)) }
    for run in runs {
      assertClose(run, expected, tolerance: 1e-6, "lane dropout vs reference")
      assertSame(Array(run[0..<count]), Array(expected[0..<count]), "lane 0 exact")
    }
    XCTAssertNotEqual(
      Array(expected[0..<count]).map { $0 == 0 },
      Array(expected[count..<(2 * count)]).map {
        $0 == 0
      })
  }

  func runDropout(
    _ backend: ComputeBackend, _ x: [Float], _ models: Int, _ count: Int, _ p: Float,
    _ keys: [UInt32], _ site: UInt32
  ) throws -> [Float] {
    let px = try Placed(x, on: backend)
    try backend.laneReluDropoutForward(
      px.slice, models: models, count: count, p: p, keys: BufferSlice(try words(keys, on: backend)),
      site: site)
    return try px.read()
  }

  func testLaneMSELoss() throws {
    let (models, rows, width) = (3, 4, 5)
    let n = models * rows * width
    let y = randoms(n, seed: 20)
    let t = randoms(n, seed: 21)
    let mask: [Float] = [1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0]
    let counts: [Float] = [2 * 5, 4 * 5, 0]
    let steps = counts.flatMap {
      LaneStep(count: $0, stepSize: 0, sqrtCorrection2: 1, active: $0 > 0).floats
    }
    var dy = [Float](repeating: 0, count: n)
    var loss = [Float](repeating: 0, count: models)
    for m in 0..<models where counts[m] > 0 {
      var total = 0.0
      for r in 0..<rows {
        for c in 0..<width {
          let i = (m * rows + r) * width + c
          let d = Double(y[i] - t[i]) * Double(mask[m * rows + r])
          total += d * d
          dy[i] = Float(2 * d / Double(counts[m]))
        }
      }
      loss[m] = Float(total)
    }
    try forEachBackend { backend in
      let pd = try Placed(randoms(n, seed: 5), on: backend)
      let pl = try Placed([42, 42, 42], on: backend)
      try backend.laneMSELoss(
        prediction: BufferSlice(try backend.makeBuffer(y)),
        target: BufferSlice(try backend.makeBuffer(t)),
        mask: BufferSlice(try backend.makeBuffer(mask)), models: models, rows: rows,
        rowWidth: width, laneSteps: BufferSlice(try backend.makeBuffer(steps)),
        gradient: pd.slice, loss: pl.slice)
      assertClose(try pd.read(), dy, tolerance: 1e-6, "\(backend.tag) lane mse gradient")
      assertClose(try pl.read(), loss, tolerance: 1e-6, "\(backend.tag) lane mse loss")
      XCTAssertEqual(try pl.read()[2], 0, "\(backend.tag): an idle lane has loss 0")
    }
  }

  /// Chunks of different lanes and blocks, including lengths above the OpenCL group size.
  func testLaneSumSquares() throws {
    let x = randoms(3000, seed: 30)
    // Lane 0: [0, 700) and [1500, 1510); lane 1: [700, 1500) and [1510, 2800).
    let chunks: [UInt32] = [0, 700, 1500, 10, 700, 800, 1510, 1290]
    let expected = [0..<700, 1500..<1510, 700..<1500, 1510..<2800].map { r in
      r.reduce(0.0) { $0 + Double(x[$1]) * Double(x[$1]) }
    }
    let norms = [Float(expected[0] + expected[1]), Float(expected[2] + expected[3])]
    try forEachBackend { backend in
      let out = try Placed([42, 42], on: backend)
      let chunkWords = try backend.makeBuffer(count: chunks.count)
      try backend.uploadWords(chunks, to: BufferSlice(chunkWords))
      try backend.laneSumSquares(
        BufferSlice(try backend.makeBuffer(x)), chunks: BufferSlice(chunkWords), models: 2,
        chunksPerLane: 2, partials: BufferSlice(try backend.makeBuffer(count: 4)),
        into: out.slice)
      assertClose(try out.read(), norms, tolerance: 1e-5, "\(backend.tag) lane sum squares")
    }
  }

  /// Per-lane clipped Adam, with L2 weight decay and decoupled (AdamW), against a plain
  /// loop: lane 0 clipped, lane 1 not clipped at a later step, lane 2 inactive (untouched).
  func testLaneAdamMatchesReferenceLoop() throws {
    let count = 300
    let laneOf: [UInt32] = (0..<count).map { UInt32(($0 / 37) % 3) }
    let p = randoms(count, seed: 40)
    let g = randoms(count, seed: 41)
    let m0 = randoms(count, seed: 42, in: -0.1...0.1)
    let v0 = randoms(count, seed: 43, in: 0...0.1)
    let norms: [Float] = [9, 0.25, 4]
    let maxNorm: Float = 1
    let laneSteps = [3, 10, 5].map { t -> LaneStep in
      let c = AdamCoefficients(AdamStep(lr: 1e-2, step: t))
      return LaneStep(
        count: 1, stepSize: c.stepSize, sqrtCorrection2: c.sqrtCorrection2, active: t != 5)
    }
    var updated: [Bool: [Float]] = [:]
    for decoupled in [false, true] {
      // A large decay, so that where it enters shows in the result.
      let adam = AdamStep(lr: 1e-2, eps: 1e-3, weightDecay: 5, decoupled: decoupled, step: 1)
      var (pe, me, ve) = (p, m0, v0)
      for i in 0..<count {
        let lane = Int(laneOf[i])
        guard laneSteps[lane].active else { continue }
        let clip = min(1, maxNorm / (norms[lane].squareRoot() + 1e-6))
        let decayed = decoupled ? p[i] * (1 - adam.lr * adam.weightDecay) : p[i]
        let grad = g[i] * clip + (decoupled ? 0 : adam.weightDecay * p[i])
        me[i] = adam.beta1 * m0[i] + (1 - adam.beta1) * grad
        ve[i] = adam.beta2 * v0[i] + (1 - adam.beta2) * grad * grad
        pe[i] =
          decayed - laneSteps[lane].stepSize * me[i]
          / (ve[i].squareRoot() / laneSteps[lane].sqrtCorrection2 + adam.eps)
      }
      updated[decoupled] = pe
      try forEachBackend { backend in
        let (pp, pm, pv) = (
          try Placed(p, on: backend), try Placed(m0, on: backend), try Placed(v0, on: backend)
        )
        let lanes = try backend.makeBuffer(count: count)
        try backend.uploadWords(laneOf, to: BufferSlice(lanes))
        try backend.laneAdam(
          parameters: pp.slice, gradients: BufferSlice(try backend.makeBuffer(g)), m: pm.slice,
          v: pv.slice, count: count, models: 3, lanes: BufferSlice(lanes),
          laneSteps: BufferSlice(try backend.makeBuffer(laneSteps.flatMap(\.floats))),
          norms: BufferSlice(try backend.makeBuffer(norms)), step: adam, maxNorm: maxNorm)
        let what = "\(backend.tag) lane adam decoupled=\(decoupled)"
        assertClose(try pp.read(), pe, tolerance: 1e-6, "\(what) parameters")
        assertClose(try pm.read(), me, tolerance: 1e-6, "\(what) m")
        assertClose(try pv.read(), ve, tolerance: 1e-6, "\(what) v")
        let inactive = (0..<count).filter { laneOf[$0] == 2 }
        let got = try pp.read()
        assertSame(inactive.map { got[$0] }, inactive.map { p[$0] }, "\(what): idle lane moved")
      }
    }
    let differing = zip(updated[false]!, updated[true]!).filter { abs($0 - $1) > 1e-4 }.count
    XCTAssertGreaterThan(differing, count / 2, "AdamW and Adam with L2 must differ")
  }

  /// A batch item's product is the same bits whatever the batch size, its place in the
  /// batch and the thread count (the CPU backend's blocking is a function of the shape).
  func testGemmItemIsIndependentOfBatchAndThreads() throws {
    let (m, n, k) = (1200, 64, 300)
    let a = randoms(3 * m * k, seed: 50)
    let b = randoms(3 * n * k, seed: 51)
    func run(_ backend: ComputeBackend, batch: Int, item: Int) throws -> [Float] {
      let c = try backend.makeBuffer(count: batch * m * n)
      let first = batch == 1 ? item : 0
      try backend.gemm(
        Gemm(
          transB: true, m: m, n: n, k: k,
          a: BufferSlice(try backend.makeBuffer(a), offset: first * m * k), lda: k,
          strideA: m * k, b: BufferSlice(try backend.makeBuffer(b), offset: first * n * k),
          ldb: k, strideB: n * k, c: BufferSlice(c), ldc: n, strideC: m * n, batch: batch))
      let all = try backend.download(c)
      let at = batch == 1 ? 0 : item
      return Array(all[(at * m * n)..<((at + 1) * m * n)])
    }
    XCTAssertGreaterThan(GemmBlocking(m: m, n: n, k: k).parts, 1, "the test must split")
    let backends: [ComputeBackend] = [CPUBackend(threads: 1), CPUBackend(threads: 2)]
    var openCL: [ComputeBackend] = []
    try forEachBackend { if $0.kind == .opencl { openCL.append($0) } }
    for backend in backends + openCL {
      let alone = try run(backend, batch: 1, item: 1)
      assertSame(try run(backend, batch: 3, item: 1), alone, "\(backend.deviceName) batch 3")
      if backend.kind == .cpu {
        assertSame(
          try run(CPUBackend(threads: 1), batch: 1, item: 1), alone, "\(backend.deviceName)")
      }
    }
  }

  func testGemmBlockingDependsOnTheShapeOnly() {
    XCTAssertEqual(GemmBlocking(m: 8, n: 8, k: 8).parts, 1)
    let big = GemmBlocking(m: 3232, n: 256, k: 64)
    XCTAssertTrue(big.splitRows)
    XCTAssertEqual(big.chunk % 16, 0)
    XCTAssertEqual(big.parts, (3232 + big.chunk - 1) / big.chunk)
    XCTAssertFalse(GemmBlocking(m: 64, n: 3000, k: 500).splitRows)
    XCTAssertEqual(GemmBlocking(m: 512, n: 256, k: 6464).parts, GemmBlocking.maxParts)
    XCTAssertEqual(GemmBlocking(m: 512, n: 256, k: 6464).chunk, 128)
  }

  /// The guard that keeps 32-bit kernel indices from wrapping: counts past 2^31 are split
  /// into lane ranges that fit, never truncated.
  func testIndexGuard() {
    XCTAssertTrue(IndexGuard.fits32(Int(Int32.max)))
    XCTAssertFalse(IndexGuard.fits32(Int(Int32.max) + 1))
    XCTAssertFalse(IndexGuard.fits32(-1))
    let perLane = 700_000_000
    XCTAssertEqual(IndexGuard.lanesPerLaunch(perLane: perLane, lanes: 6), 3)
    XCTAssertEqual(IndexGuard.split(lanes: 6, perLane: perLane), [0..<3, 3..<6])
    XCTAssertEqual(IndexGuard.split(lanes: 7, perLane: perLane), [0..<3, 3..<6, 6..<7])
    XCTAssertEqual(IndexGuard.split(lanes: 4, perLane: 10), [0..<4])
    for range in IndexGuard.split(lanes: 11, perLane: 1 << 30) {
      XCTAssertTrue(IndexGuard.fits32(range.count * (1 << 30)))
    }
    XCTAssertEqual(IndexGuard.lanesPerLaunch(perLane: Int(Int32.max) * 2, lanes: 3), 1)
  }
}
