import Foundation
import KneeForceCompute
import XCTest

final class LSTMKernelTests: XCTestCase {
  static let shapes = [
    LSTMShape(models: 1, batch: 3, steps: 7, hidden: 5),
    LSTMShape(models: 2, batch: 3, steps: 7, hidden: 5),
    LSTMShape(models: 2, batch: 3, steps: 1, hidden: 5),
  ]

  func testBidirectionalInputAndGradient() throws {
    try forEachBackend { backend in
      for (models, steps) in [(1, 7), (2, 7), (2, 1)] {
        let (batch, width) = (3, 9)
        let what = "\(backend.tag) models=\(models) steps=\(steps)"
        let x = randoms(models * batch * steps * width, seed: 11)
        let px = try Placed(x, on: backend)
        let pxs = try Placed(randoms(2 * x.count, seed: 12), on: backend)
        try backend.bidirectionalInput(
          px.slice, into: pxs.slice, models: models, batch: batch, steps: steps, width: width)
        assertSame(
          try pxs.read(),
          Reference.bidirectionalInput(x, models: models, batch: batch, steps: steps, width: width),
          "\(what) bidirectionalInput")

        let dxs = randoms(2 * x.count, seed: 13)
        let pdxs = try Placed(dxs, on: backend)
        let pdx = try Placed(randoms(x.count, seed: 14), on: backend)
        try backend.bidirectionalGradient(
          pdxs.slice, into: pdx.slice, models: models, batch: batch, steps: steps, width: width)
        assertSame(
          try pdx.read(),
          Reference.bidirectionalGradient(
            dxs, models: models, batch: batch, steps: steps, width: width),
          "\(what) bidirectionalGradient")
        assertSame(try pdxs.read(), dxs, "\(what): dxs modified")
      }
    }
  }

  static func randomForwardState(_ shape: LSTMShape, seed: UInt64) -> Reference.LSTMForwardState {
    let (B, T, H, G, groups) = (shape.batch, shape.steps, shape.hidden, shape.gates, shape.groups)
    return Reference.LSTMForwardState(
      gx: randoms(groups * B * T * G, seed: seed, in: -2...2),
      gh: randoms(groups * B * G, seed: seed + 1, in: -2...2),
      biasIH: randoms(groups * G, seed: seed + 2),
      biasHH: randoms(groups * G, seed: seed + 3),
      cell: randoms(groups * B * T * H, seed: seed + 4, in: -2...2),
      hprev: randoms(groups * B * T * H, seed: seed + 5),
      output: randoms(shape.models * B * T * 2 * H, seed: seed + 6))
  }

  /// Runs one forward step on `backend` over placed copies of `state`.
  static func forward(
    _ shape: LSTMShape, step: Int, _ state: Reference.LSTMForwardState, on backend: ComputeBackend
  )
    throws -> Reference.LSTMForwardState
  {
    let tensors = try [
      state.gx, state.gh, state.biasIH, state.biasHH, state.cell, state.hprev, state.output,
    ].map { try Placed($0, on: backend) }
    try backend.lstmGatesForward(
      shape: shape, step: step, gx: tensors[0].slice, gh: tensors[1].slice,
      biasIH: tensors[2].slice, biasHH: tensors[3].slice, cell: tensors[4].slice,
      hprev: tensors[5].slice, output: tensors[6].slice)
    let r = try tensors.map { try $0.read() }
    return Reference.LSTMForwardState(
      gx: r[0], gh: r[1], biasIH: r[2], biasHH: r[3], cell: r[4], hprev: r[5], output: r[6])
  }

  /// Steps 0, a middle one and the last: gx is overwritten by the activated gates of row s,
  /// cell row s is written (reading row s-1 for s > 0), hprev row s+1 is written except at
  /// s = T-1, and the output lands at time s (direction 0) and T-1-s (direction 1).
  func testLSTMGatesForward() throws {
    try forEachBackend { backend in
      for shape in Self.shapes {
        let (B, T, H, G, groups) = (
          shape.batch, shape.steps, shape.hidden, shape.gates, shape.groups
        )
        for step in Set([0, T / 2, T - 1]).sorted() {
          let what = "\(backend.tag) lstmGatesForward models=\(shape.models) T=\(T) s=\(step)"
          let before = Self.randomForwardState(shape, seed: 20 + UInt64(step))
          let expected = Reference.lstmGatesForward(shape, step: step, before)
          let got = try Self.forward(shape, step: step, before, on: backend)
          assertClose(got.gx, expected.gx, "\(what): gx (activated gates)")
          assertClose(got.cell, expected.cell, "\(what): cell")
          assertClose(got.hprev, expected.hprev, "\(what): hprev")
          assertClose(got.output, expected.output, "\(what): output")
          assertSame(got.gh, before.gh, "\(what): gh modified")
          assertSame(got.biasIH, before.biasIH, "\(what): biasIH modified")
          assertSame(got.biasHH, before.biasHH, "\(what): biasHH modified")
          // Exactly the documented rows change.
          XCTAssertEqual(changedCount(got.gx, before.gx), groups * B * G, "\(what): gx rows")
          XCTAssertEqual(changedCount(got.cell, before.cell), groups * B * H, "\(what): cell rows")
          XCTAssertEqual(
            changedCount(got.hprev, before.hprev), step + 1 < T ? groups * B * H : 0,
            "\(what): hprev rows (none at the last step)")
          XCTAssertEqual(
            changedCount(got.output, before.output), groups * B * H, "\(what): output rows")
          // Activated gates are in range: sigmoid in (0, 1), tanh in (-1, 1).
          for index in got.gx.indices where got.gx[index] != before.gx[index] {
            let q = (index % G) / H
            let value = got.gx[index]
            XCTAssert(q == 2 ? abs(value) <= 1 : (value >= 0 && value <= 1), "\(what): gate range")
          }
        }
      }
    }
  }

  /// A whole sequence s = 0 ..< T on the device equals the reference run step by step, and
  /// the output of each direction at time t is h after its step (t for direction 0).
  func testLSTMForwardWholeSequence() throws {
    try forEachBackend { backend in
      let shape = LSTMShape(models: 2, batch: 3, steps: 7, hidden: 5)
      var state = Self.randomForwardState(shape, seed: 40)
      state.cell = state.cell.map { _ in 0 }
      state.hprev = state.hprev.map { _ in 0 }
      let tensors = try [
        state.gx, state.gh, state.biasIH, state.biasHH, state.cell, state.hprev, state.output,
      ].map { try Placed($0, on: backend) }
      var expected = state
      for step in 0..<shape.steps {
        try backend.lstmGatesForward(
          shape: shape, step: step, gx: tensors[0].slice, gh: tensors[1].slice,
          biasIH: tensors[2].slice, biasHH: tensors[3].slice, cell: tensors[4].slice,
          hprev: tensors[5].slice, output: tensors[6].slice)
        expected = Reference.lstmGatesForward(shape, step: step, expected)
      }
      assertClose(try tensors[0].read(), expected.gx, "\(backend.tag) sequence gx")
      assertClose(try tensors[4].read(), expected.cell, "\(backend.tag) sequence cell")
      let hprev = try tensors[5].read()
      assertClose(hprev, expected.hprev, "\(backend.tag) sequence hprev")
      assertClose(try tensors[6].read(), expected.output, "\(backend.tag) sequence output")
      // Row 0 of hprev stays zero (h before the first step).
      let (B, T, H) = (shape.batch, shape.steps, shape.hidden)
      for g in 0..<shape.groups {
        for b in 0..<B {
          let row = Array(hprev[((g * B + b) * T) * H..<((g * B + b) * T) * H + H])
          XCTAssertEqual(row, [Float](repeating: 0, count: H), "\(backend.tag) hprev row 0")
        }
      }
    }
  }

  static func randomBackwardState(_ shape: LSTMShape, seed: UInt64) -> Reference.LSTMBackwardState {
    let (B, T, H, G, groups) = (shape.batch, shape.steps, shape.hidden, shape.gates, shape.groups)
    // Activated gates: i, f, o in (0, 1), g in (-1, 1).
    var rng = SplitMix64(seed: seed)
    let gates = (0..<(groups * B * T * G)).map { index -> Float in
      (index % G) / H == 2 ? rng.nextFloat(in: -0.95...0.95) : rng.nextFloat(in: 0.05...0.95)
    }
    return Reference.LSTMBackwardState(
      gates: gates,
      cell: randoms(groups * B * T * H, seed: seed + 1, in: -2...2),
      dOutput: randoms(shape.models * B * T * 2 * H, seed: seed + 2),
      dhRecurrent: randoms(groups * B * H, seed: seed + 3),
      dCell: randoms(groups * B * H, seed: seed + 4),
      dGates: randoms(groups * B * T * G, seed: seed + 5))
  }

  static func backward(
    _ shape: LSTMShape, steps: [Int], _ state: Reference.LSTMBackwardState,
    on backend: ComputeBackend
  )
    throws -> Reference.LSTMBackwardState
  {
    let tensors = try [
      state.gates, state.cell, state.dOutput, state.dhRecurrent, state.dCell, state.dGates,
    ].map { try Placed($0, on: backend) }
    for step in steps {
      try backend.lstmGatesBackward(
        shape: shape, step: step, gates: tensors[0].slice, cell: tensors[1].slice,
        dOutput: tensors[2].slice, dhRecurrent: tensors[3].slice, dCell: tensors[4].slice,
        dGates: tensors[5].slice)
    }
    let r = try tensors.map { try $0.read() }
    return Reference.LSTMBackwardState(
      gates: r[0], cell: r[1], dOutput: r[2], dhRecurrent: r[3], dCell: r[4], dGates: r[5])
  }

  /// One backward step: dGates row s and the carried dCell; nothing else changes.
  func testLSTMGatesBackwardStep() throws {
    try forEachBackend { backend in
      for shape in Self.shapes {
        let (B, T, G, groups) = (shape.batch, shape.steps, shape.gates, shape.groups)
        for step in Set([0, T / 2, T - 1]).sorted() {
          let what = "\(backend.tag) lstmGatesBackward models=\(shape.models) T=\(T) s=\(step)"
          let before = Self.randomBackwardState(shape, seed: 50 + UInt64(step))
          let expected = Reference.lstmGatesBackward(shape, step: step, before)
          let got = try Self.backward(shape, steps: [step], before, on: backend)
          assertClose(got.dGates, expected.dGates, "\(what): dGates")
          assertClose(got.dCell, expected.dCell, "\(what): dCell carried to s-1")
          XCTAssertEqual(changedCount(got.dGates, before.dGates), groups * B * G, "\(what): rows")
          assertSame(got.gates, before.gates, "\(what): gates modified")
          assertSame(got.cell, before.cell, "\(what): cell modified")
          assertSame(got.dOutput, before.dOutput, "\(what): dOutput modified")
          assertSame(got.dhRecurrent, before.dhRecurrent, "\(what): dhRecurrent modified")
        }
      }
    }
  }

  /// The walk s = T-1 ... 0 carrying dCell from step to step, starting from dCell = 0.
  func testLSTMGatesBackwardCarriesCellGradient() throws {
    try forEachBackend { backend in
      let shape = LSTMShape(models: 2, batch: 3, steps: 7, hidden: 5)
      var state = Self.randomBackwardState(shape, seed: 60)
      state.dCell = state.dCell.map { _ in 0 }
      var expected = state
      let steps = Array((0..<shape.steps).reversed())
      for step in steps { expected = Reference.lstmGatesBackward(shape, step: step, expected) }
      let got = try Self.backward(shape, steps: steps, state, on: backend)
      assertClose(got.dGates, expected.dGates, "\(backend.tag) backward walk dGates")
      assertClose(got.dCell, expected.dCell, "\(backend.tag) backward walk dCell")
      XCTAssertEqual(
        changedCount(got.dGates, state.dGates), got.dGates.count, "\(backend.tag) every row")
    }
  }

  /// The layer passes the same buffer as `gates` and `dGates` (gradients overwrite the
  /// activations in place): the walk aliased must give what it gives on separate buffers.
  func testLSTMGatesBackwardInPlace() throws {
    try forEachBackend { backend in
      for shape in Self.shapes {
        var state = Self.randomBackwardState(shape, seed: 90)
        state.dCell = state.dCell.map { _ in 0 }
        let steps = Array((0..<shape.steps).reversed())
        let separate = try Self.backward(shape, steps: steps, state, on: backend)
        let tensors = try [state.gates, state.cell, state.dOutput, state.dhRecurrent, state.dCell]
          .map { try Placed($0, on: backend) }
        for step in steps {
          try backend.lstmGatesBackward(
            shape: shape, step: step, gates: tensors[0].slice, cell: tensors[1].slice,
            dOutput: tensors[2].slice, dhRecurrent: tensors[3].slice, dCell: tensors[4].slice,
            dGates: tensors[0].slice)
        }
        let what = "\(backend.tag) in-place backward models=\(shape.models) T=\(shape.steps)"
        assertSame(try tensors[0].read(), separate.dGates, "\(what): dGates over gates")
        assertSame(try tensors[4].read(), separate.dCell, "\(what): dCell")
        assertSame(try tensors[1].read(), state.cell, "\(what): cell modified")
      }
    }
  }

  /// The backward kernel is the derivative of the forward one: for
  /// L = sum(wh * h) + sum(wc * c_new) at step s, dGates equals dL/d(pre-activation) and the
  /// carried dCell equals dL/dc_prev, by central differences of a Double forward.
  func testLSTMBackwardIsForwardDerivative() throws {
    try forEachBackend { backend in
      let shape = LSTMShape(models: 1, batch: 2, steps: 3, hidden: 3)
      let (B, T, H, G, groups) = (shape.batch, shape.steps, shape.hidden, shape.gates, shape.groups)
      for step in [1, T - 1] {
        var state = Self.randomForwardState(shape, seed: 70 + UInt64(step))
        state.gh = state.gh.map { _ in 0 }
        state.biasIH = state.biasIH.map { _ in 0 }
        state.biasHH = state.biasHH.map { _ in 0 }
        let wh = randoms(shape.models * B * T * 2 * H, seed: 80)
        let wc = randoms(groups * B * H, seed: 81)
        // L as a function of one (g, b, j) cell's pre-activations and c_prev, in Double.
        func loss(_ pre: [Double], _ cPrev: Double, g: Int, b: Int, j: Int) -> Double {
          let (i, f) = (Reference.sigmoid(pre[0]), Reference.sigmoid(pre[1]))
          let (gg, o) = (tanh(pre[2]), Reference.sigmoid(pre[3]))
          let c = f * cPrev + i * gg
          let t = g % 2 == 0 ? step : T - 1 - step
          let w = Double(wh[((g / 2 * B + b) * T + t) * 2 * H + (g % 2) * H + j])
          return w * o * tanh(c) + Double(wc[(g * B + b) * H + j]) * c
        }
        let forwardDone = try Self.forward(shape, step: step, state, on: backend)
        let got = try Self.backward(
          shape, steps: [step],
          Reference.LSTMBackwardState(
            gates: forwardDone.gx, cell: forwardDone.cell, dOutput: wh,
            dhRecurrent: [Float](repeating: 0, count: groups * B * H), dCell: wc,
            dGates: [Float](repeating: 0, count: groups * B * T * G)),
          on: backend)
        var numericGates = [Float](repeating: 0, count: got.dGates.count)
        var numericCell = [Float](repeating: 0, count: got.dCell.count)
        let eps = 1e-6
        for g in 0..<groups {
          for b in 0..<B {
            for j in 0..<H {
              let row = ((g * B + b) * T + step) * G
              let pre = (0..<4).map { Double(state.gx[row + $0 * H + j]) }
              let cPrev = Double(state.cell[((g * B + b) * T + step - 1) * H + j])
              for q in 0..<4 {
                var (up, down) = (pre, pre)
                up[q] += eps
                down[q] -= eps
                numericGates[row + q * H + j] = Float(
                  (loss(up, cPrev, g: g, b: b, j: j) - loss(down, cPrev, g: g, b: b, j: j))
                    / (2 * eps))
              }
              numericCell[(g * B + b) * H + j] = Float(
                (loss(pre, cPrev + eps, g: g, b: b, j: j) - loss(pre, cPrev - eps, g: g, b: b, j: j))
                  / (2 * eps))
            }
          }
        }
        let what = "\(backend.tag) s=\(step)"
        assertClose(got.dGates, numericGates, tolerance: 1e-4, "\(what): dGates vs d/dpre")
        assertClose(got.dCell, numericCell, tolerance: 1e-4, "\(what): dCell vs d/dc_prev")
      }
    }
  }
}
