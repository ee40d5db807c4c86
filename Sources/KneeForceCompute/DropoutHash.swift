/// The counter-based hash behind dropout masks. Both backends evaluate it per element
/// (Kernels/common.cl has the same lines), so a seed gives the same mask on CPU and OpenCL
/// without storing or transferring masks.
@inlinable
public func kneeforceHash(_ value: UInt32) -> UInt32 {
  var x = value
  x ^= x >> 16
  x = x &* 0x7feb_352d
  x ^= x >> 15
  x = x &* 0x846c_a68b
  x ^= x >> 16
  return x
}

/// Whether element `index` survives dropout with probability `p` under `seed`.
@inlinable
public func dropoutKeeps(index: UInt32, seed: UInt32, p: Float) -> Bool {
  let h = kneeforceHash(index ^ kneeforceHash(seed))
  return Float(h >> 8) * (1.0 / 16_777_216.0) >= p
}
