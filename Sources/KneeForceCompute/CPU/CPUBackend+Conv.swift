import Foundation

// CPU twins of Kernels/causal_conv_im2col.cl and Kernels/causal_conv_col2im.cl.
//
// Rows that fall before the start (im2col) or past the end (col2im) of a sequence read a row of
// zeros instead of branching, and the common kernel sizes 2 and 3 get unrolled loops whose
// interleaved stores and loads the compiler vectorises.

extension CPUBackend {
  public func causalIm2col(_ x: BufferSlice, into col: BufferSlice, shape: ConvShape) throws {
    let (T, C, K, D) = (shape.steps, shape.channels, shape.kernel, shape.dilation)
    let sequences = shape.models * shape.batch
    let px = try pointer(x, sequences * T * C, "causalIm2col x")
    let pc = try pointer(col, sequences * T * C * K, "causalIm2col col")
    let zeros = ZeroRow(count: C * K)
    parallelRanges(sequences * T, minimum: 1 << 14 / max(C * K, 1)) { rows in
      for r in rows {
        let (n, t) = (r / T, r % T)
        func source(_ k: Int) -> UnsafeMutablePointer<Float> {
          let s = t - (K - 1 - k) * D
          return s >= 0 ? px + (n * T + s) * C : zeros.pointer
        }
        let row = pc + r * C * K
        switch K {
        case 3:
          let (s0, s1, s2) = (source(0), source(1), source(2))
          for c in 0..<C {
            row[3 * c] = s0[c]
            row[3 * c + 1] = s1[c]
            row[3 * c + 2] = s2[c]
          }
        case 2:
          let (s0, s1) = (source(0), source(1))
          for c in 0..<C {
            row[2 * c] = s0[c]
            row[2 * c + 1] = s1[c]
          }
        default:
          for k in 0..<K {
            let src = source(k)
            for c in 0..<C { row[c * K + k] = src[c] }
          }
        }
      }
    }
  }

  public func causalCol2im(_ dcol: BufferSlice, into dx: BufferSlice, shape: ConvShape) throws {
    let (T, C, K, D) = (shape.steps, shape.channels, shape.kernel, shape.dilation)
    let sequences = shape.models * shape.batch
    let pc = try pointer(dcol, sequences * T * C * K, "causalCol2im dcol")
    let px = try pointer(dx, sequences * T * C, "causalCol2im dx")
    let zeros = ZeroRow(count: C * K)
    parallelRanges(sequences * T, minimum: 1 << 14 / max(C * K, 1)) { rows in
      for r in rows {
        let (n, t) = (r / T, r % T)
        func target(_ k: Int) -> UnsafeMutablePointer<Float> {
          let s = t + (K - 1 - k) * D
          return s < T ? pc + (n * T + s) * C * K : zeros.pointer
        }
        let xr = px + r * C
        switch K {
        case 3:
          let (r0, r1, r2) = (target(0), target(1), target(2))
          for c in 0..<C { xr[c] = r0[3 * c] + r1[3 * c + 1] + r2[3 * c + 2] }
        case 2:
          let (r0, r1) = (target(0), target(1))
          for c in 0..<C { xr[c] = r0[2 * c] + r1[2 * c + 1] }
        default:
          xr.update(repeating: 0, count: C)
          for k in 0..<K {
            let row = target(k)
            for c in 0..<C { xr[c] += row[c * K + k] }
          }
        }
      }
    }
  }
}

/// A row of zeros standing in for samples outside the sequence, freed with its owner.
final class ZeroRow {
  let pointer: UnsafeMutablePointer<Float>

  init(count: Int) {
    pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
    pointer.initialize(repeating: 0, count: max(count, 1))
  }

  deinit { pointer.deallocate() }
}
