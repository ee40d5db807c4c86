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

/// The CPU backend: CBLAS (OpenBLAS) for GEMM and SIMD Swift loops for the rest. It never
/// touches OpenCL, so it stays fast where the only OpenCL is PoCL.
///
/// It schedules its own threads and runs BLAS single-threaded: the biLSTM's per-step GEMMs are
/// too small for BLAS's threading to pay, while its two directions (and fold models) are
/// independent, so each thread takes whole batch items of a strided-batched GEMM and the gate
/// rows that follow. Large GEMMs are cut into row or column blocks fixed by their shape
/// (`GemmBlocking`), never by the thread count or the batch size, and the threads share the
/// blocks: a fold model's results are the same bits alone, among others, on any thread count.
public final class CPUBackend: ComputeBackend {
  public let kind = BackendKind.cpu
  public var gemmFLOPs: Double = 0
  /// Worker threads for GEMM blocks and elementwise loops.
  public let threads: Int

  /// How the LSTM's recurrent products run (CPUBackend+LSTM.swift). `.packed` (the default)
  /// packs W_hh once per walk and multiplies with `kf_gemm_packed` (AVX2/FMA); `.blas` calls
  /// cblas_sgemm at every step (which repacks W_hh each time); `.packedScalar` runs the packed
  /// kernel's scalar loop. The micro-benchmark and the tests compare them.
  public enum RecurrentKernel: String, Sendable, CaseIterable {
    case packed
    case blas
    case packedScalar = "packed-scalar"
  }

  public var recurrentKernel = RecurrentKernel.packed

  /// Where the LSTM cell of a row runs: `.avx2`, the C kernel in the shim
  /// (Sources/CKneeForce/lstm_cell.c; 16 lanes where the CPU has AVX-512, unless
  /// KNEEFORCE_AVX512=0), where the CPU has AVX2/FMA, else `.swift`, the SIMD8
  /// loops in CPUBackend+LSTM.swift. Same formulas, a few ulps apart (LSTMCellKernelTests).
  public enum CellKernel: String, Sendable, CaseIterable {
    case avx2
    case swift
  }

  public var cellKernel = CellKernel.avx2

  /// Whether `lstmForwardProjectedWalk` does the input projection inside the walk (one
  /// product per step with K = inputs + H) rather than as one GEMM before it. Needs the packed
  /// recurrent kernel and the AVX2 cell; KNEEFORCE_FUSED_PROJECTION=0 turns it off for A/B.
  public var fusedProjection = true

  /// Whether `gemm` runs products against a weight (K <= `packedGemmMaxK`) on the packed kernel
  /// (`packedGemm`) rather than OpenBLAS.
  public var usePackedGemm = true

  /// The longest inner dimension `packedGemm` takes: up to 256 the AVX2 tile measured faster
  /// than OpenBLAS on every product of the two models, and the AVX-512 tile up to 512 (the
  /// biLSTM's layer-1 input gradient, K = 4H = 512: 107 vs 94 GFLOP/s per core including the
  /// packing; benchmarks/RESULTS.md). KNEEFORCE_PACKED_MAX_K sets it for A/B measurements.
  public var packedGemmMaxK = kf_gemm_packed_rows() == 8 ? 512 : 256

  /// W_hh of every group packed for `kf_gemm_packed`, one buffer for forward walks and one for
  /// backward walks (each walk packs at its first step: s = 0 forward, s = T-1 backward), and
  /// one for the products of `packedGemm`.
  var packedRecurrent: [Int: HostBuffer] = [:]

  public init(threads: Int? = nil) {
    self.threads = max(1, threads ?? CPUThreads.defaultCount)
    kf_blas_set_threads(1)
    // Without AVX2/FMA the packed kernel runs its scalar loop: OpenBLAS is faster there.
    if kf_gemm_packed_vectorised() == 0 {
      recurrentKernel = .blas
      usePackedGemm = false
    }
    // A developer switch for A/B measurements of whole epochs (benchmarks/RESULTS.md).
    if let name = ProcessInfo.processInfo.environment["KNEEFORCE_RECURRENT_KERNEL"],
      let kernel = RecurrentKernel(rawValue: name)
    {
      recurrentKernel = kernel
    }
    if kf_lstm_cell_vectorised() == 0 { cellKernel = .swift }
    if let name = ProcessInfo.processInfo.environment["KNEEFORCE_CELL_KERNEL"],
      let kernel = CellKernel(rawValue: name), kernel == .swift || kf_lstm_cell_vectorised() != 0
    {
      cellKernel = kernel
    }
    if let text = ProcessInfo.processInfo.environment["KNEEFORCE_PACKED_MAX_K"], let k = Int(text) {
      packedGemmMaxK = k
    }
    if ProcessInfo.processInfo.environment["KNEEFORCE_FUSED_PROJECTION"] == "0" {
      fusedProjection = false
    }
    if ProcessInfo.processInfo.environment["KNEEFORCE_WEIGHT_GEMM"] == "blas" {
      usePackedGemm = false
    }
  }

  public var deviceName: String { "cpu (\(threads) threads, \(CPUBackend.blasName))" }

  /// The BLAS library as OpenBLAS describes its build.
  public static var blasName: String {
    kf_blas_config().map { String(cString: $0) } ?? "unknown BLAS"
  }

  /// fp32 GFLOP/s of `threads` threads running AVX2 FMA chains at once for `seconds`
  /// (Sources/CKneeForce/fma_peak.c), or nil without AVX2/FMA: the peak `kneeforce bench`
  /// quotes, measured because the clock /proc/cpuinfo states is often the nominal one. At most
  /// one thread per processor: more would run one after another and each count a whole core.
  public static func measuredPeakGFLOPS(threads: Int, seconds: Double) -> Double? {
    let count = min(max(threads, 1), ProcessInfo.processInfo.activeProcessorCount)
    let rates = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
    defer { rates.deallocate() }
    DispatchQueue.concurrentPerform(iterations: count) {
      rates[$0] = kf_fma_peak_gflops(seconds)
    }
    let total = rates.reduce(0, +)
    return total > 0 ? total : nil
  }

  /// Chooses the AVX-512 (true) or AVX2 (false) variant of the C cell for the whole process,
  /// nil the default (`kneeforce bench --micro`); returns whether AVX-512 is now used (never
  /// without it).
  @discardableResult
  public static func useAVX512Cell(_ on: Bool?) -> Bool {
    kf_lstm_cell_use_avx512(on.map { $0 ? 1 : 0 } ?? -1) != 0
  }

  public static var blasDescription: String {
    "\(blasName); CPU backend threads: \(ProcessInfo.processInfo.activeProcessorCount)"
  }

  /// Runs `body(part)` for part in 0..<parts, on `threads` workers when worth it.
  @inline(__always)
  func parallel(_ parts: Int, _ body: (Int) -> Void) {
    if parts <= 1 || threads == 1 {
      for part in 0..<parts { body(part) }
    } else {
      DispatchQueue.concurrentPerform(iterations: parts, execute: body)
    }
  }

  /// Splits 0..<count into `threads` contiguous chunks (multiples of 8 where possible) when
  /// the loop is long enough to repay the hand-off; otherwise runs it in one piece.
  @inline(__always)
  func parallelRanges(_ count: Int, minimum: Int = 1 << 15, _ body: (Range<Int>) -> Void) {
    let parts = count >= minimum ? threads : 1
    if parts == 1 {
      body(0..<count)
      return
    }
    let chunk = ((count + parts - 1) / parts + 7) / 8 * 8
    parallel(parts) { part in
      let start = min(part * chunk, count)
      body(start..<min(start + chunk, count))
    }
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
    gemmFLOPs += g.flops
    let extents = g.extents
    let a = try pointer(g.a, extents.a, "gemm A")
    let b = try pointer(g.b, extents.b, "gemm B")
    let c = try pointer(g.c, extents.c, "gemm C")
    guard g.m > 0, g.n > 0 else { return }
    if try packedGemm(g, a, b, c) { return }
    /// C[m0..<m1, n0..<n1] of batch item i: every operand offset stays a plain pointer shift.
    func block(_ i: Int, _ m0: Int, _ m1: Int, _ n0: Int, _ n1: Int) {
      let ai = a + i * g.strideA + (g.transA ? m0 : m0 * g.lda)
      let bi = b + i * g.strideB + (g.transB ? n0 * g.ldb : n0)
      cblas_sgemm(
        CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans, g.transB ? CblasTrans : CblasNoTrans,
        Int32(m1 - m0), Int32(n1 - n0), Int32(g.k), g.alpha, ai, Int32(g.lda), bi, Int32(g.ldb),
        g.beta, c + i * g.strideC + m0 * g.ldc + n0, Int32(g.ldc))
    }
    // Each batch item is cut into blocks that depend on its shape alone, never on the thread
    // count or the batch size, so an item's result is the same bits however it is scheduled:
    // a fold model computes the same alone as among others (the lockstep trainer's guarantee).
    let plan = GemmBlocking(m: g.m, n: g.n, k: g.k)
    let tasks = g.batch * plan.parts
    let run = { (task: Int) in
      let (i, part) = (task / plan.parts, task % plan.parts)
      let lo = part * plan.chunk
      let hi = min(lo + plan.chunk, plan.splitRows ? g.m : g.n)
      if plan.splitRows { block(i, lo, hi, 0, g.n) } else { block(i, 0, g.m, lo, hi) }
    }
    let workers = 2 * g.m * g.n * g.k * g.batch < 1 << 21 ? 1 : min(threads, tasks)
    if workers <= 1 {
      for task in 0..<tasks { run(task) }
    } else {
      parallel(workers) { w in
        for task in stride(from: w, to: tasks, by: workers) { run(task) }
      }
    }
  }
}

/// How the CPU backend cuts one GEMM (one batch item): the larger of M and N in at most
/// `maxParts` blocks (a multiple of 16 wide), one per ~2^24 multiply-adds, so large products
/// spread over the threads while the blocking stays a function of the shape. Blocks are
/// coarse because OpenBLAS re-packs the shared operand for each one: on the weight gradients
/// (dy^T x, K = B*T in the thousands) 16-row blocks ran at 59 GFLOP/s per core and 128-row
/// blocks at 88 (benchmarks/RESULTS.md).
public struct GemmBlocking: Equatable {
  /// 4 by default; KNEEFORCE_GEMM_PARTS sets it for A/B measurements (benchmarks/RESULTS.md).
  public static let maxParts: Int = {
    let text = ProcessInfo.processInfo.environment["KNEEFORCE_GEMM_PARTS"] ?? ""
    return Int(text).map { min(max($0, 1), 64) } ?? 4
  }()
  public let splitRows: Bool
  public let chunk: Int
  public let parts: Int

  public init(m: Int, n: Int, k: Int) {
    splitRows = m >= n
    let extent = max(splitRows ? m : n, 1)
    let work = m * n * k
    let wanted = min(Self.maxParts, max(1, (work + (1 << 24) - 1) >> 24), max(1, extent / 16))
    let width = (extent + wanted - 1) / wanted
    chunk = min(extent, (width + 15) / 16 * 16)
    parts = (extent + chunk - 1) / chunk
  }
}

extension CPUBackend {
  /// Products against a weight with a modest inner dimension, `x W^T` or `dy W` with
  /// K <= `packedGemmMaxK` (the LSTM input projections, the TCN convolutions and dcol = dy W,
  /// the MLP layers and input gradients): W packs in microseconds, and the shim's 6 x 16
  /// kernel beats OpenBLAS on these shapes (most at K = 40, where OpenBLAS reaches ~60
  /// GFLOP/s). Row blocks go to the threads. Returns false where it does not apply (the
  /// weight gradients dy^T x stay on OpenBLAS).
  func packedGemm(
    _ g: Gemm, _ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
    _ c: UnsafeMutablePointer<Float>
  ) throws -> Bool {
    guard usePackedGemm, !g.transA, g.k <= packedGemmMaxK, g.n >= 32, g.m >= 256,
      g.alpha == 1, g.beta == 0 || g.beta == 1
    else { return false }
    let perItem = kf_packed_floats(Int32(g.k), Int32(g.n))
    let packed = packedScratch(2, floats: g.batch * perItem)
    for i in 0..<g.batch {
      kf_pack_b(
        b + i * g.strideB, Int32(g.ldb), g.transB ? 1 : 0, Int32(g.k), Int32(g.n),
        packed + i * perItem)
    }
    // Whole register tiles (6 or 8 rows), one contiguous range per thread and item.
    let parts = threads
    let tile = Int(kf_gemm_packed_rows())
    let chunk = ((g.m + parts - 1) / parts + tile - 1) / tile * tile
    parallel(parts * g.batch) { job in
      let (i, part) = (job / parts, job % parts)
      let lo = min(part * chunk, g.m)
      let hi = min(lo + chunk, g.m)
      guard hi > lo else { return }
      kf_gemm_packed(
        Int32(hi - lo), Int32(g.n), Int32(g.k), a + i * g.strideA + lo * g.lda, Int32(g.lda),
        packed + i * perItem, c + i * g.strideC + lo * g.ldc, Int32(g.ldc), g.beta == 1 ? 1 : 0,
        0)
    }
    return true
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
