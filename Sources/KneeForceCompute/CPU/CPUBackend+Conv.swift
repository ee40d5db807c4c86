import Foundation

// CPU twins of Kernels/causal_conv_im2col.cl and Kernels/causal_conv_col2im.cl.

extension CPUBackend {
  public func causalIm2col(_ x: BufferSlice, into col: BufferSlice, shape: ConvShape) throws {
    let (T, C, K, D) = (shape.steps, shape.channels, shape.kernel, shape.dilation)
    let sequences = shape.models * shape.batch
    let px = try pointer(x, sequences * T * C, "causalIm2col x")
    let pc = try pointer(col, sequences * T * C * K, "causalIm2col col")
    for n in 0..<sequences {
      for t in 0..<T {
        let row = pc + (n * T + t) * C * K
        for k in 0..<K {
          let source = t - (K - 1 - k) * D
          if source < 0 {
            for c in 0..<C { row[c * K + k] = 0 }
          } else {
            let xr = px + (n * T + source) * C
            for c in 0..<C { row[c * K + k] = xr[c] }
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
    for n in 0..<sequences {
      for t in 0..<T {
        let xr = px + (n * T + t) * C
        for c in 0..<C { xr[c] = 0 }
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
