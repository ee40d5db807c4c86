import Foundation

// CPU twins of Kernels/lstm_gates_forward.cl, Kernels/lstm_gates_backward.cl and
// Kernels/bidirectional.cl. Same layouts, same arithmetic; see those files for the why.

@inline(__always) private func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

extension CPUBackend {
  public func bidirectionalInput(
    _ x: BufferSlice, into xs: BufferSlice, models: Int, batch: Int, steps: Int, width: Int
  ) throws {
    let sequence = steps * width
    let px = try pointer(x, models * batch * sequence, "bidirectionalInput x")
    let ps = try pointer(xs, models * 2 * batch * sequence, "bidirectionalInput xs")
    for m in 0..<models {
      for b in 0..<batch {
        let source = px + (m * batch + b) * sequence
        let forward = ps + ((m * 2) * batch + b) * sequence
        let reverse = ps + ((m * 2 + 1) * batch + b) * sequence
        forward.update(from: source, count: sequence)
        for s in 0..<steps {
          (reverse + s * width).update(from: source + (steps - 1 - s) * width, count: width)
        }
      }
    }
  }

  public func bidirectionalGradient(
    _ dxs: BufferSlice, into dx: BufferSlice, models: Int, batch: Int, steps: Int, width: Int
  ) throws {
    let sequence = steps * width
    let ps = try pointer(dxs, models * 2 * batch * sequence, "bidirectionalGradient dxs")
    let px = try pointer(dx, models * batch * sequence, "bidirectionalGradient dx")
    for m in 0..<models {
      for b in 0..<batch {
        let target = px + (m * batch + b) * sequence
        let forward = ps + ((m * 2) * batch + b) * sequence
        let reverse = ps + ((m * 2 + 1) * batch + b) * sequence
        for t in 0..<steps {
          let row = target + t * width
          let f = forward + t * width
          let r = reverse + (steps - 1 - t) * width
          for i in 0..<width { row[i] = f[i] + r[i] }
        }
      }
    }
  }

  public func lstmGatesForward(
    shape: LSTMShape, step s: Int, gx: BufferSlice, gh: BufferSlice, biasIH: BufferSlice,
    biasHH: BufferSlice, cell: BufferSlice, hprev: BufferSlice, output: BufferSlice
  ) throws {
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    let groups = shape.groups
    let pgx = try pointer(gx, groups * B * T * G, "lstmGatesForward gx")
    let pgh = try pointer(gh, groups * B * G, "lstmGatesForward gh")
    let pbi = try pointer(biasIH, groups * G, "lstmGatesForward biasIH")
    let pbh = try pointer(biasHH, groups * G, "lstmGatesForward biasHH")
    let pc = try pointer(cell, groups * B * T * H, "lstmGatesForward cell")
    let ph = try pointer(hprev, groups * B * T * H, "lstmGatesForward hprev")
    let py = try pointer(output, shape.models * B * T * 2 * H, "lstmGatesForward output")
    for g in 0..<groups {
      let (m, d) = (g / 2, g % 2)
      let t = d == 0 ? s : T - 1 - s
      for b in 0..<B {
        let gates = pgx + ((g * B + b) * T + s) * G
        let recurrent = pgh + (g * B + b) * G
        let bi = pbi + g * G
        let bh = pbh + g * G
        let c = pc + ((g * B + b) * T + s) * H
        let y = py + ((m * B + b) * T + t) * 2 * H + d * H
        for j in 0..<H {
          let i = sigmoid(gates[j] + recurrent[j] + bi[j] + bh[j])
          let f = sigmoid(gates[H + j] + recurrent[H + j] + bi[H + j] + bh[H + j])
          let gg = tanhf(gates[2 * H + j] + recurrent[2 * H + j] + bi[2 * H + j] + bh[2 * H + j])
          let o = sigmoid(gates[3 * H + j] + recurrent[3 * H + j] + bi[3 * H + j] + bh[3 * H + j])
          let cPrev: Float = s > 0 ? c[j - H] : 0
          let cNew = f * cPrev + i * gg
          let h = o * tanhf(cNew)
          gates[j] = i
          gates[H + j] = f
          gates[2 * H + j] = gg
          gates[3 * H + j] = o
          c[j] = cNew
          if s + 1 < T { ph[((g * B + b) * T + s + 1) * H + j] = h }
          y[j] = h
        }
      }
    }
  }

  public func lstmGatesBackward(
    shape: LSTMShape, step s: Int, gates: BufferSlice, cell: BufferSlice, dOutput: BufferSlice,
    dhRecurrent: BufferSlice, dCell: BufferSlice, dGates: BufferSlice
  ) throws {
    let (B, T, H, G) = (shape.batch, shape.steps, shape.hidden, shape.gates)
    let groups = shape.groups
    let pa = try pointer(gates, groups * B * T * G, "lstmGatesBackward gates")
    let pc = try pointer(cell, groups * B * T * H, "lstmGatesBackward cell")
    let pdy = try pointer(dOutput, shape.models * B * T * 2 * H, "lstmGatesBackward dOutput")
    let pdh = try pointer(dhRecurrent, groups * B * H, "lstmGatesBackward dhRecurrent")
    let pdc = try pointer(dCell, groups * B * H, "lstmGatesBackward dCell")
    let pdg = try pointer(dGates, groups * B * T * G, "lstmGatesBackward dGates")
    for g in 0..<groups {
      let (m, d) = (g / 2, g % 2)
      let t = d == 0 ? s : T - 1 - s
      for b in 0..<B {
        let act = pa + ((g * B + b) * T + s) * G
        let dact = pdg + ((g * B + b) * T + s) * G
        let c = pc + ((g * B + b) * T + s) * H
        let dy = pdy + ((m * B + b) * T + t) * 2 * H + d * H
        let dhr = pdh + (g * B + b) * H
        let dcs = pdc + (g * B + b) * H
        for j in 0..<H {
          let (i, f, gg, o) = (act[j], act[H + j], act[2 * H + j], act[3 * H + j])
          let cPrev: Float = s > 0 ? c[j - H] : 0
          let tc = tanhf(c[j])
          let dh = dy[j] + dhr[j]
          let dc = dcs[j] + dh * o * (1 - tc * tc)
          dcs[j] = dc * f
          dact[j] = dc * gg * i * (1 - i)
          dact[H + j] = dc * cPrev * f * (1 - f)
          dact[2 * H + j] = dc * i * (1 - gg * gg)
          dact[3 * H + j] = dh * tc * o * (1 - o)
        }
      }
    }
  }
}
