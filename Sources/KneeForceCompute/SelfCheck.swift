import Foundation

/// A quick proof that a backend computes what it should: one GEMM (odd sizes, both
/// transposes) and one custom kernel (the fused LSTM cell, two steps), each compared with a
/// plain scalar loop written here from the documented formulas (in Double), not with another
/// backend, so the CPU backend is checked as honestly as OpenCL.
public struct SelfCheckResult: Sendable {
  public let gemmError: Float
  public let kernelError: Float
  public let seconds: Double
  public var passed: Bool { gemmError <= 1e-4 && kernelError <= 1e-4 }
}

public func selfCheck(_ backend: ComputeBackend) throws -> SelfCheckResult {
  let started = Date()
  var rng = SplitMix64(seed: 42)
  let (m, n, k) = (37, 29, 53)
  // C = A^T B^T with A stored [k][m] and B stored [n][k].
  let a = (0..<(k * m)).map { _ in rng.nextFloat(in: -1...1) }
  let b = (0..<(n * k)).map { _ in rng.nextFloat(in: -1...1) }
  let (ba, bb, bc) = (
    try backend.makeBuffer(a), try backend.makeBuffer(b), try backend.makeBuffer(count: m * n)
  )
  try backend.gemm(
    Gemm(
      transA: true, transB: true, m: m, n: n, k: k, a: BufferSlice(ba), lda: m,
      b: BufferSlice(bb), ldb: k, c: BufferSlice(bc), ldc: n))
  var gemmReference = [Float](repeating: 0, count: m * n)
  for i in 0..<m {
    for j in 0..<n {
      var sum = 0.0
      for p in 0..<k { sum += Double(a[p * m + i]) * Double(b[j * k + p]) }
      gemmReference[i * n + j] = Float(sum)
    }
  }
  let gemmError = relativeError(try backend.download(bc), gemmReference)

  let (B, T, H) = (3, 2, 5)
  let G = 4 * H
  let shape = LSTMShape(batch: B, steps: T, hidden: H)
  let groups = shape.groups
  let gx = (0..<(groups * B * T * G)).map { _ in rng.nextFloat(in: -2...2) }
  let gh = (0..<(groups * B * G)).map { _ in rng.nextFloat(in: -2...2) }
  let bias = (0..<(groups * G)).map { _ in rng.nextFloat(in: -1...1) }
  let bgx = try backend.makeBuffer(gx)
  let cell = try backend.makeBuffer(count: groups * B * T * H)
  let hprev = try backend.makeBuffer(count: groups * B * T * H)
  let out = try backend.makeBuffer(count: B * T * 2 * H)
  let bgh = try backend.makeBuffer(gh)
  let bb2 = try backend.makeBuffer(bias)
  for s in 0..<T {
    try backend.lstmGatesForward(
      shape: shape, step: s, gx: BufferSlice(bgx), gh: BufferSlice(bgh),
      biasIH: BufferSlice(bb2), biasHH: BufferSlice(bb2), cell: BufferSlice(cell),
      hprev: BufferSlice(hprev), output: BufferSlice(out))
  }
  let got = try backend.download(out) + backend.download(cell) + backend.download(bgx)
  // The cell of Kernels/lstm_gates_forward.cl, one scalar at a time (layouts documented there).
  var outReference = [Float](repeating: 0, count: B * T * 2 * H)
  var cellReference = [Float](repeating: 0, count: groups * B * T * H)
  var gatesReference = gx
  func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
  for g in 0..<groups {
    for bi in 0..<B {
      var c = [Double](repeating: 0, count: H)
      for s in 0..<T {
        let t = g % 2 == 0 ? s : T - 1 - s
        let row = ((g * B + bi) * T + s) * G
        func pre(_ gate: Int, _ j: Int) -> Double {
          let q = gate * H + j
          return Double(gx[row + q]) + Double(gh[(g * B + bi) * G + q]) + 2
            * Double(bias[g * G + q])
        }
        for j in 0..<H {
          let (i, f, gg, o) = (
            sigmoid(pre(0, j)), sigmoid(pre(1, j)), tanh(pre(2, j)), sigmoid(pre(3, j))
          )
          c[j] = f * c[j] + i * gg
          let h = o * tanh(c[j])
          for (gate, value) in [i, f, gg, o].enumerated() {
            gatesReference[row + gate * H + j] = Float(value)
          }
          cellReference[((g * B + bi) * T + s) * H + j] = Float(c[j])
          outReference[(bi * T + t) * 2 * H + (g % 2) * H + j] = Float(h)
        }
      }
    }
  }
  let kernelError = relativeError(got, outReference + cellReference + gatesReference)
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
