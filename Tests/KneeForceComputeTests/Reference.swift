import Foundation
import KneeForceCompute

// Plain Swift references for every backend op, written from the documented index formulas
// (ComputeBackend.swift and the comments in Kernels/*.cl) as straightforward nested loops,
// independently of the CPU backend's code. Sums and transcendental functions run in Double.

enum Reference {
  /// The parameters of a (strided batched) row-major GEMM over whole flat arrays.
  struct GemmSpec {
    var transA = false
    var transB = false
    var m: Int
    var n: Int
    var k: Int
    var alpha: Float
    var beta: Float
    var lda: Int
    var ldb: Int
    var ldc: Int
    var offsetA = 0
    var offsetB = 0
    var offsetC = 0
    var strideA = 0
    var strideB = 0
    var strideC = 0
    var batch = 1

    var aRows: Int { transA ? k : m }
    var bRows: Int { transB ? n : k }
    var sizeA: Int { offsetA + (batch - 1) * strideA + aRows * lda }
    var sizeB: Int { offsetB + (batch - 1) * strideB + bRows * ldb }
    var sizeC: Int { offsetC + (batch - 1) * strideC + m * ldc }
  }

  /// `C = alpha op(A) op(B) + beta C` on each batch entry; elements outside the m x n block
  /// of each C are left alone.
  static func gemm(_ s: GemmSpec, a: [Float], b: [Float], c: inout [Float]) {
    for q in 0..<s.batch {
      let (oa, ob, oc) = (
        s.offsetA + q * s.strideA, s.offsetB + q * s.strideB, s.offsetC + q * s.strideC
      )
      for i in 0..<s.m {
        for j in 0..<s.n {
          var sum = 0.0
          for p in 0..<s.k {
            let av = s.transA ? a[oa + p * s.lda + i] : a[oa + i * s.lda + p]
            let bv = s.transB ? b[ob + j * s.ldb + p] : b[ob + p * s.ldb + j]
            sum += Double(av) * Double(bv)
          }
          let old = Double(c[oc + i * s.ldc + j])
          c[oc + i * s.ldc + j] = Float(Double(s.alpha) * sum + Double(s.beta) * old)
        }
      }
    }
  }

  /// `y[m][r][c] + bias[m][c]`.
  static func addBias(_ y: [Float], bias: [Float], rows: Int, cols: Int, models: Int) -> [Float] {
    var out = y
    for m in 0..<models {
      for r in 0..<rows {
        for c in 0..<cols { out[(m * rows + r) * cols + c] += bias[m * cols + c] }
      }
    }
    return out
  }

  /// `dbias[m][c] (+)= sum_r dy[m][r][c]`.
  static func sumRows(
    _ dy: [Float], dbias: [Float], rows: Int, cols: Int, models: Int, accumulate: Bool
  ) -> [Float] {
    var out = dbias
    for m in 0..<models {
      for c in 0..<cols {
        var sum = accumulate ? Double(dbias[m * cols + c]) : 0
        for r in 0..<rows { sum += Double(dy[(m * rows + r) * cols + c]) }
        out[m * cols + c] = Float(sum)
      }
    }
    return out
  }

  static func reluDropoutForward(_ x: [Float], p: Float, seed: UInt32) -> [Float] {
    x.indices.map { i in
      let relu = max(x[i], 0)
      if p <= 0 { return relu }
      return dropoutKeeps(index: UInt32(i), seed: seed, p: p)
        ? Float(Double(relu) / Double(1 - p)) : 0
    }
  }

  static func reluDropoutBackward(_ dy: [Float], output y: [Float], p: Float) -> [Float] {
    dy.indices.map { i in y[i] > 0 ? Float(Double(dy[i]) / Double(1 - max(p, 0))) : 0 }
  }

  /// `xs[m][d][b][s][i] = x[m][b][d == 0 ? s : T-1-s][i]`.
  static func bidirectionalInput(_ x: [Float], models: Int, batch: Int, steps: Int, width: Int)
    -> [Float]
  {
    var xs = [Float](repeating: .nan, count: 2 * x.count)
    for m in 0..<models {
      for d in 0..<2 {
        for b in 0..<batch {
          for s in 0..<steps {
            let t = d == 0 ? s : steps - 1 - s
            for i in 0..<width {
              xs[(((m * 2 + d) * batch + b) * steps + s) * width + i] =
                x[((m * batch + b) * steps + t) * width + i]
            }
          }
        }
      }
    }
    return xs
  }

  /// `dx[m][b][t][i] = dxs[m][0][b][t][i] + dxs[m][1][b][T-1-t][i]`.
  static func bidirectionalGradient(
    _ dxs: [Float], models: Int, batch: Int, steps: Int, width: Int
  ) -> [Float] {
    var dx = [Float](repeating: .nan, count: dxs.count / 2)
    for m in 0..<models {
      for b in 0..<batch {
        for t in 0..<steps {
          for i in 0..<width {
            let forward = dxs[(((m * 2) * batch + b) * steps + t) * width + i]
            let reverse = dxs[(((m * 2 + 1) * batch + b) * steps + (steps - 1 - t)) * width + i]
            dx[((m * batch + b) * steps + t) * width + i] = forward + reverse
          }
        }
      }
    }
    return dx
  }

  static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

  /// The tensors of one fused LSTM cell step (Kernels/lstm_gates_forward.cl layouts).
  struct LSTMForwardState: Equatable {
    var gx: [Float]
    var gh: [Float]
    var biasIH: [Float]
    var biasHH: [Float]
    var cell: [Float]
    var hprev: [Float]
    var output: [Float]
  }

  /// Step `s` of every (model, direction, sequence, unit), PyTorch gate order i, f, g, o.
  static func lstmGatesForward(_ shape: LSTMShape, step s: Int, _ state: LSTMForwardState)
    -> LSTMForwardState
  {
    let (B, T, H) = (shape.batch, shape.steps, shape.hidden)
    let G = 4 * H
    var out = state
    for g in 0..<shape.groups {
      let (m, d) = (g / 2, g % 2)
      let t = d == 0 ? s : T - 1 - s
      for b in 0..<B {
        for j in 0..<H {
          func pre(_ q: Int) -> Double {
            let input = Double(state.gx[((g * B + b) * T + s) * G + q * H + j])
            let recurrent = Double(state.gh[(g * B + b) * G + q * H + j])
            let biases =
              Double(state.biasIH[g * G + q * H + j]) + Double(state.biasHH[g * G + q * H + j])
            return input + recurrent + biases
          }
          let i = sigmoid(pre(0))
          let f = sigmoid(pre(1))
          let gg = tanh(pre(2))
          let o = sigmoid(pre(3))
          let cPrev = s > 0 ? Double(state.cell[((g * B + b) * T + s - 1) * H + j]) : 0
          let c = f * cPrev + i * gg
          let h = o * tanh(c)
          for (q, value) in [i, f, gg, o].enumerated() {
            out.gx[((g * B + b) * T + s) * G + q * H + j] = Float(value)
          }
          out.cell[((g * B + b) * T + s) * H + j] = Float(c)
          if s + 1 < T { out.hprev[((g * B + b) * T + s + 1) * H + j] = Float(h) }
          out.output[((m * B + b) * T + t) * 2 * H + d * H + j] = Float(h)
        }
      }
    }
    return out
  }

  /// The tensors of one backward cell step (Kernels/lstm_gates_backward.cl layouts).
  struct LSTMBackwardState: Equatable {
    var gates: [Float]
    var cell: [Float]
    var dOutput: [Float]
    var dhRecurrent: [Float]
    var dCell: [Float]
    var dGates: [Float]
  }

  static func lstmGatesBackward(_ shape: LSTMShape, step s: Int, _ state: LSTMBackwardState)
    -> LSTMBackwardState
  {
    let (B, T, H) = (shape.batch, shape.steps, shape.hidden)
    let G = 4 * H
    var out = state
    for g in 0..<shape.groups {
      let (m, d) = (g / 2, g % 2)
      let t = d == 0 ? s : T - 1 - s
      for b in 0..<B {
        for j in 0..<H {
          let row = ((g * B + b) * T + s) * G
          let i = Double(state.gates[row + j])
          let f = Double(state.gates[row + H + j])
          let gg = Double(state.gates[row + 2 * H + j])
          let o = Double(state.gates[row + 3 * H + j])
          let cPrev = s > 0 ? Double(state.cell[((g * B + b) * T + s - 1) * H + j]) : 0
          let tc = tanh(Double(state.cell[((g * B + b) * T + s) * H + j]))
          let dh =
            Double(state.dOutput[((m * B + b) * T + t) * 2 * H + d * H + j])
            + Double(state.dhRecurrent[(g * B + b) * H + j])
          let dc = Double(state.dCell[(g * B + b) * H + j]) + dh * o * (1 - tc * tc)
          out.dCell[(g * B + b) * H + j] = Float(dc * f)
          out.dGates[row + j] = Float(dc * gg * i * (1 - i))
          out.dGates[row + H + j] = Float(dc * cPrev * f * (1 - f))
          out.dGates[row + 2 * H + j] = Float(dc * i * (1 - gg * gg))
          out.dGates[row + 3 * H + j] = Float(dh * tc * o * (1 - o))
        }
      }
    }
    return out
  }

  /// `col[n][t][c*K+k] = x[n][t-(K-1-k)*D][c]`, 0 before t = 0.
  static func causalIm2col(_ x: [Float], _ shape: ConvShape) -> [Float] {
    let (T, C, K, D) = (shape.steps, shape.channels, shape.kernel, shape.dilation)
    let sequences = shape.models * shape.batch
    var col = [Float](repeating: .nan, count: sequences * T * C * K)
    for n in 0..<sequences {
      for t in 0..<T {
        for c in 0..<C {
          for k in 0..<K {
            let source = t - (K - 1 - k) * D
            col[((n * T + t) * C + c) * K + k] = source >= 0 ? x[(n * T + source) * C + c] : 0
          }
        }
      }
    }
    return col
  }

  /// `dx[n][t][c] = sum_k dcol[n][t+(K-1-k)*D][c*K+k]` over targets inside the sequence.
  static func causalCol2im(_ dcol: [Float], _ shape: ConvShape) -> [Float] {
    let (T, C, K, D) = (shape.steps, shape.channels, shape.kernel, shape.dilation)
    let sequences = shape.models * shape.batch
    var dx = [Float](repeating: .nan, count: sequences * T * C)
    for n in 0..<sequences {
      for t in 0..<T {
        for c in 0..<C {
          var sum = 0.0
          for k in 0..<K {
            let target = t + (K - 1 - k) * D
            if target < T { sum += Double(dcol[((n * T + target) * C + c) * K + k]) }
          }
          dx[(n * T + t) * C + c] = Float(sum)
        }
      }
    }
    return dx
  }

  static func sumSquares(_ x: [Float]) -> Double {
    x.reduce(0.0) { $0 + Double($1) * Double($1) }
  }

  /// `(loss, gradient)` of the mean squared error over every element.
  static func mseLoss(_ y: [Float], _ target: [Float]) -> (loss: Float, gradient: [Float]) {
    let n = Double(y.count)
    var total = 0.0
    var gradient = [Float](repeating: 0, count: y.count)
    for i in y.indices {
      let diff = Double(y[i]) - Double(target[i])
      total += diff * diff
      gradient[i] = Float(2 * diff / n)
    }
    return (Float(total / n), gradient)
  }

  /// One Adam/AdamW step in Double with PyTorch's formula and global-norm clipping.
  static func adam(
    p: [Float], g: [Float], m: [Float], v: [Float], step: AdamStep, maxNorm: Float
  ) -> (p: [Float], m: [Float], v: [Float]) {
    let (lr, b1, b2, eps, wd) = (
      Double(step.lr), Double(step.beta1), Double(step.beta2), Double(step.eps),
      Double(step.weightDecay)
    )
    let t = Double(step.step)
    var clip = 1.0
    if maxNorm > 0 {
      clip = min(1, Double(maxNorm) / (sumSquares(g).squareRoot() + 1e-6))
    }
    var (pOut, mOut, vOut) = (p, m, v)
    for i in p.indices {
      var grad = Double(g[i]) * clip
      var param = Double(p[i])
      if step.decoupled {
        param *= 1 - lr * wd
      } else {
        grad += wd * param
      }
      let mi = b1 * Double(m[i]) + (1 - b1) * grad
      let vi = b2 * Double(v[i]) + (1 - b2) * grad * grad
      param -= lr / (1 - pow(b1, t)) * mi / (vi.squareRoot() / (1 - pow(b2, t)).squareRoot() + eps)
      pOut[i] = Float(param)
      mOut[i] = Float(mi)
      vOut[i] = Float(vi)
    }
    return (pOut, mOut, vOut)
  }
}
