import CKneeForce
import Foundation

/// Host memory for the CPU backend; 64-byte aligned so BLAS and SIMD loops get full lines.
public final class HostBuffer: DeviceBuffer {
  public let count: Int
  public let pointer: UnsafeMutablePointer<Float>

  init(count: Int) {
    self.count = count
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
    pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    pointer.initialize(repeating: 0, count: max(count, 1))
  }

  deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}

public enum ComputeError: Error, CustomStringConvertible {
  case outOfBounds(String)
  case wrongBuffer(String)

  public var description: String {
    switch self {
    case .outOfBounds(let what): return "buffer access out of bounds: \(what)"
    case .wrongBuffer(let what): return "buffer belongs to another backend: \(what)"
    }
  }
}

/// The CPU backend: CBLAS (OpenBLAS) for GEMM and plain Swift loops for the rest. It never
/// touches OpenCL, so it stays fast where the only OpenCL is PoCL.
public final class CPUBackend: ComputeBackend {
  public let kind = BackendKind.cpu

  public init(threads: Int? = nil) {
    if let threads { kf_blas_set_threads(Int32(threads)) }
  }

  public var deviceName: String { "cpu (\(CPUBackend.blasDescription))" }

  /// The BLAS library and its thread count, as OpenBLAS reports them.
  public static var blasDescription: String {
    let config = kf_blas_config().map { String(cString: $0) } ?? "unknown BLAS"
    return "\(config), \(kf_blas_threads()) threads"
  }

  public func makeBuffer(count: Int) throws -> DeviceBuffer { HostBuffer(count: count) }

  func pointer(_ slice: BufferSlice, _ count: Int, _ what: @autoclosure () -> String) throws
    -> UnsafeMutablePointer<Float>
  {
    guard let host = slice.buffer as? HostBuffer else { throw ComputeError.wrongBuffer(what()) }
    guard slice.offset >= 0, count >= 0, slice.offset + count <= host.count else {
      throw ComputeError.outOfBounds(
        "\(what()): offset \(slice.offset) + \(count) > \(host.count)")
    }
    return host.pointer + slice.offset
  }

  public func upload(_ values: [Float], to slice: BufferSlice) throws {
    let p = try pointer(slice, values.count, "upload")
    values.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: values.count) }
  }

  public func download(_ slice: BufferSlice, count: Int) throws -> [Float] {
    let p = try pointer(slice, count, "download")
    return Array(UnsafeBufferPointer(start: p, count: count))
  }

  public func fill(_ slice: BufferSlice, count: Int, value: Float) throws {
    let p = try pointer(slice, count, "fill")
    p.update(repeating: value, count: count)
  }

  public func copy(from source: BufferSlice, to destination: BufferSlice, count: Int) throws {
    let s = try pointer(source, count, "copy source")
    let d = try pointer(destination, count, "copy destination")
    d.update(from: s, count: count)
  }

  public func synchronize() throws {}

  public func gemm(_ g: Gemm) throws {
    let aRows = g.transA ? g.k : g.m
    let aCols = g.transA ? g.m : g.k
    let bRows = g.transB ? g.n : g.k
    let bCols = g.transB ? g.k : g.n
    func extent(_ rows: Int, _ cols: Int, _ ld: Int, _ stride: Int) -> Int {
      rows == 0 || cols == 0 ? 0 : (g.batch - 1) * stride + (rows - 1) * ld + cols
    }
    let a = try pointer(g.a, extent(aRows, aCols, g.lda, g.strideA), "gemm A")
    let b = try pointer(g.b, extent(bRows, bCols, g.ldb, g.strideB), "gemm B")
    let c = try pointer(g.c, extent(g.m, g.n, g.ldc, g.strideC), "gemm C")
    for i in 0..<g.batch {
      cblas_sgemm(
        CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans,
        Int32(g.m), Int32(g.n), Int32(g.k), g.alpha, a + i * g.strideA, Int32(g.lda),
        b + i * g.strideB, Int32(g.ldb), g.beta, c + i * g.strideC, Int32(g.ldc))
    }
  }

  public func addBias(_ y: BufferSlice, bias: BufferSlice, rows: Int, cols: Int, models: Int)
    throws
  {
    let py = try pointer(y, models * rows * cols, "addBias y")
    let pb = try pointer(bias, models * cols, "addBias bias")
    for m in 0..<models {
      let bm = pb + m * cols
      for r in 0..<rows {
        let row = py + (m * rows + r) * cols
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
    for m in 0..<models {
      let bm = pb + m * cols
      if !accumulate { bm.update(repeating: 0, count: cols) }
      for r in 0..<rows {
        let row = pd + (m * rows + r) * cols
        for c in 0..<cols { bm[c] += row[c] }
      }
    }
  }

  public func reluDropoutForward(_ x: BufferSlice, count: Int, p: Float, seed: UInt32) throws {
    let px = try pointer(x, count, "reluDropoutForward")
    if p <= 0 {
      for i in 0..<count { px[i] = max(px[i], 0) }
      return
    }
    let scale = 1 / (1 - p)
    let mixed = kneeforceHash(seed)
    for i in 0..<count {
      let keep =
        Float(kneeforceHash(UInt32(truncatingIfNeeded: i) ^ mixed) >> 8)
        * (1.0 / 16_777_216.0) >= p
      px[i] = keep ? max(px[i], 0) * scale : 0
    }
  }

  public func reluDropoutBackward(_ dy: BufferSlice, output y: BufferSlice, count: Int, p: Float)
    throws
  {
    let pd = try pointer(dy, count, "reluDropoutBackward dy")
    let py = try pointer(y, count, "reluDropoutBackward y")
    let scale: Float = p > 0 ? 1 / (1 - p) : 1
    for i in 0..<count { pd[i] = py[i] > 0 ? pd[i] * scale : 0 }
  }

  public func add(_ x: BufferSlice, into y: BufferSlice, count: Int) throws {
    let px = try pointer(x, count, "add x")
    let py = try pointer(y, count, "add y")
    for i in 0..<count { py[i] += px[i] }
  }

  public func sumSquares(_ x: BufferSlice, count: Int, into out: BufferSlice) throws {
    let px = try pointer(x, count, "sumSquares x")
    let po = try pointer(out, 1, "sumSquares out")
    // Accumulate in Double: the global gradient norm spans every parameter.
    var total = 0.0
    for i in 0..<count { total += Double(px[i]) * Double(px[i]) }
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
    for i in 0..<count {
      var grad = pg[i] * clip
      var param = pp[i]
      if step.decoupled {
        param *= c.decay
      } else {
        grad += step.weightDecay * param
      }
      pm[i] = step.beta1 * pm[i] + (1 - step.beta1) * grad
      pv[i] = step.beta2 * pv[i] + (1 - step.beta2) * grad * grad
      pp[i] = param - c.stepSize * pm[i] / (pv[i].squareRoot() / c.sqrtCorrection2 + step.eps)
    }
  }
}

/// The scalar factors of one Adam step, computed once on the host in Double exactly as
/// PyTorch does (`bias_correction = 1 - beta^step`), then handed to both backends.
public struct AdamCoefficients {
  public let stepSize: Float
  public let sqrtCorrection2: Float
  public let decay: Float

  public init(_ step: AdamStep) {
    let bc1 = 1 - pow(Double(step.beta1), Double(step.step))
    let bc2 = 1 - pow(Double(step.beta2), Double(step.step))
    stepSize = Float(Double(step.lr) / bc1)
    sqrtCorrection2 = Float(bc2.squareRoot())
    decay = step.decoupled ? 1 - step.lr * step.weightDecay : 1
  }
}
