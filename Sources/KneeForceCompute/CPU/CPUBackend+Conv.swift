import Foundation

// CPU twins of Kernels/causal_conv_im2col.cl and Kernels/causal_conv_col2im.cl.

extension CPUBackend {
  public func causalIm2col(_ x: BufferSlice, into col: BufferSlice, shape: ConvShape) throws {
    let (T, C, K, D) = (shape.steps, shape.channels, shape.kernel, shape.dilation)
    let sequences = shape.models * shape.batch
    let px = try pointer(x, sequences * T * C, "causalIm2col x")
    let pc = try pointer(col, sequences * T * C * K, "causalIm2col col")
    // Rows are written front to back; each reads K source rows (nil before the sequence).
    parallelRanges(sequences * T, minimum: 1 << 14 / max(C * K, 1)) { rows in
      var sources = [UnsafeMutablePointer<Float>?](repeating: nil, count: K)
      for r in rows {
        let (n, t) = (r / T, r % T)
        for k in 0..<K {
          let source = t - (K - 1 - k) * D
          sources[k] = source >= 0 ? px + (n * T + source) * C : nil
        }
        let row = pc + r * C * K
        for k in 0..<K {
          if let src = sources[k] {
            for c in 0..<C { row[c * K + k] = src[c] }
          } else {
            for c in 0..<C { row[c * K + k] = 0 }
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
    parallelRanges(sequences * T, minimum: 1 << 14 / max(C * K, 1)) { rows in
      for r in rows {
        let (n, t) = (r / T, r % T)
        let xr = px + r * C
        xr.update(repeating: 0, count: C)
        for k in 0..<K {
          let target = t + (K - 1 - k) * D
          guard target < T else { continue }
          let row = pc + (n * T + target) * C * K
          for c in 0..<C { xr[c] += row[c * K + k] }
        }
      }
    }
  }
}
