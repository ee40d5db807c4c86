/// Vectorised exp, sigmoid and tanh for the CPU backend's gate and activation loops: the
/// scalar libm calls cost more than the recurrent GEMM at the biLSTM's sizes. Eight lanes match
/// AVX2; the polynomial is Cephes' expf (relative error ~2e-7 over the clamped range).
public typealias Float8 = SIMD8<Float>

@inline(__always)
public func vexp(_ x: Float8) -> Float8 {
  let hi = Float8(repeating: 88.3)
  let lo = Float8(repeating: -87.3)
  let clamped = x.replacing(with: hi, where: x .> hi).replacing(with: lo, where: x .< lo)
  // exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n ln2 (ln2 split in two for accuracy).
  // Adding 1.5 * 2^23 rounds to the nearest integer and leaves it in the low mantissa bits;
  // this avoids rounding and float-to-int conversions that Swift does lane by lane without
  // SSE4.1.
  let magic = Float8(repeating: 12_582_912)
  let shifted = clamped * 1.442_695_04 + magic
  let n = shifted - magic
  var r = clamped - n * 0.693_359_375
  r = r + n * 2.121_944_4e-4
  var p = Float8(repeating: 1.987_569_15e-4)
  p = p * r + 1.398_199_95e-3
  p = p * r + 8.333_451_9e-3
  p = p * r + 4.166_579_6e-2
  p = p * r + 1.666_666_55e-1
  p = p * r + 5.000_000_1e-1
  p = p * r * r + r + 1
  let exponent = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
  return p * unsafeBitCast(exponent, to: Float8.self)
}

@inline(__always)
public func vsigmoid(_ x: Float8) -> Float8 { 1 / (1 + vexp(-x)) }

/// tanh(x) = 1 - 2 / (exp(2x) + 1): absolute error ~1e-7, exact limits at ±large x.
@inline(__always)
public func vtanh(_ x: Float8) -> Float8 { 1 - 2 / (vexp(x + x) + 1) }

extension UnsafeMutablePointer where Pointee == Float {
  /// Eight floats at `offset`, or the first `count` of them padded with zeros: lets loops over
  /// widths that are not multiples of 8 share the vector code.
  @inline(__always)
  func load8(_ offset: Int, _ count: Int) -> Float8 {
    if count >= 8 {
      return UnsafeRawPointer(self + offset).loadUnaligned(as: Float8.self)
    }
    var v = Float8()
    for i in 0..<count { v[i] = self[offset + i] }
    return v
  }

  @inline(__always)
  func store8(_ v: Float8, _ offset: Int, _ count: Int) {
    if count >= 8 {
      UnsafeMutableRawPointer(self + offset).storeBytes(of: v, as: Float8.self)
      return
    }
    for i in 0..<count { self[offset + i] = v[i] }
  }
}
