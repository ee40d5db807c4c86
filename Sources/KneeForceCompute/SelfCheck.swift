import Foundation

/// A quick proof that a backend computes what the CPU computes: one GEMM (odd sizes, both
/// transposes) and one custom kernel (the fused LSTM cell), compared with the CPU backend.
public struct SelfCheckResult: Sendable {
  public let gemmError: Float
  public let kernelError: Float
  public let seconds: Double
  public var passed: Bool { gemmError <= 1e-4 && kernelError <= 1e-4 }
}

public func selfCheck(_ backend: ComputeBackend) throws -> SelfCheckResult {
  let started = Date()
  let reference = CPUBackend()
  var rng = SplitMix64(seed: 42)
  let (m, n, k) = (37, 29, 53)
  let a = (0..<(k * m)).map { _ in rng.nextFloat(in: -1...1) }
  let b = (0..<(n * k)).map { _ in rng.nextFloat(in: -1...1) }
  func gemmOn(_ be: ComputeBackend) throws -> [Float] {
    let (ba, bb, bc) = (try be.makeBuffer(a), try be.makeBuffer(b), try be.makeBuffer(count: m * n))
    try be.gemm(
      Gemm(
        transA: true, transB: true, m: m, n: n, k: k, a: BufferSlice(ba), lda: m,
        b: BufferSlice(bb), ldb: k, c: BufferSlice(bc), ldc: n))
    return try be.download(bc)
  }
  let gemmError = relativeError(try gemmOn(backend), try gemmOn(reference))

  let shape = LSTMShape(batch: 3, steps: 2, hidden: 5)
  let gx = (0..<(shape.groups * 3 * 2 * 20)).map { _ in rng.nextFloat(in: -2...2) }
  let gh = (0..<(shape.groups * 3 * 20)).map { _ in rng.nextFloat(in: -2...2) }
  let bias = (0..<(shape.groups * 20)).map { _ in rng.nextFloat(in: -1...1) }
  func cellOn(_ be: ComputeBackend) throws -> [Float] {
    let bgx = try be.makeBuffer(gx)
    let cell = try be.makeBuffer(count: shape.groups * 3 * 2 * 5)
    let hprev = try be.makeBuffer(count: shape.groups * 3 * 2 * 5)
    let out = try be.makeBuffer(count: 3 * 2 * 10)
    let bgh = try be.makeBuffer(gh)
    let bb = try be.makeBuffer(bias)
    for s in 0..<2 {
      try be.lstmGatesForward(
        shape: shape, step: s, gx: BufferSlice(bgx), gh: BufferSlice(bgh),
        biasIH: BufferSlice(bb), biasHH: BufferSlice(bb), cell: BufferSlice(cell),
        hprev: BufferSlice(hprev), output: BufferSlice(out))
    }
    return try be.download(out) + be.download(cell) + be.download(bgx)
  }
  let kernelError = relativeError(try cellOn(backend), try cellOn(reference))
  return SelfCheckResult(
    gemmError: gemmError, kernelError: kernelError, seconds: Date().timeIntervalSince(started))
}

/// max |a - b| / max |b|: the agreement measure used throughout the tests.
public func relativeError(_ a: [Float], _ b: [Float]) -> Float {
  precondition(a.count == b.count, "relativeError: \(a.count) vs \(b.count) elements")
  var diff: Float = 0
  var scale: Float = 0
  for i in 0..<a.count {
    let d = abs(a[i] - b[i])
    // Swift's max drops a NaN argument, so NaNs are caught explicitly.
    if d.isNaN || b[i].isNaN { return .nan }
    diff = max(diff, d)
    scale = max(scale, abs(b[i]))
  }
  return scale > 0 ? diff / scale : diff
}
