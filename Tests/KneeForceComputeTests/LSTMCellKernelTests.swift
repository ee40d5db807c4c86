import CKneeForce
import Foundation
import KneeForceCompute
import XCTest

/// The C cell (Sources/CKneeForce/lstm_cell.c) against the Swift rows it replaces where the
/// CPU has AVX2: the same bits, forward and backward, on widths that are and are not
/// multiples of 8, at the first, a middle and the last step, and a NaN stays a NaN. The
/// Swift rows themselves are checked against the plain reference in LSTMKernelTests, which
/// runs whichever cell the machine uses.
final class LSTMCellKernelTests: XCTestCase {
  func backends() throws -> (swift: CPUBackend, avx2: CPUBackend) {
    guard kf_lstm_cell_vectorised() != 0 else {
      throw XCTSkip("this CPU has no AVX2/FMA: the C cell is not used here")
    }
    let swift = CPUBackend()
    swift.cellKernel = .swift
    let avx2 = CPUBackend()
    avx2.cellKernel = .avx2
    return (swift, avx2)
  }

  static let shapes = [
    LSTMShape(models: 1, batch: 3, steps: 5, hidden: 13),
    LSTMShape(models: 2, batch: 2, steps: 4, hidden: 16),
    LSTMShape(models: 1, batch: 2, steps: 3, hidden: 5),
  ]

  func testForwardCellIsTheSwiftCellBitForBit() throws {
    let (swift, avx2) = try backends()
    for shape in Self.shapes {
      for step in Set([0, shape.steps / 2, shape.steps - 1]).sorted() {
        var state = LSTMKernelTests.randomForwardState(shape, seed: 300 + UInt64(step))
        // Saturating pre-activations (the exp clamps) and a NaN, which must come through.
        state.gx[0] = 120
        state.gx[1] = -120
        state.gx[shape.gates * shape.steps + 2] = Float.nan
        let what = "forward H=\(shape.hidden) models=\(shape.models) s=\(step)"
        let a = try LSTMKernelTests.forward(shape, step: step, state, on: swift)
        let b = try LSTMKernelTests.forward(shape, step: step, state, on: avx2)
        XCTAssertNotEqual(a.gx, state.gx, "\(what): the step must write the gates")
        assertSame(b.gx, a.gx, "\(what): gates")
        assertSame(b.cell, a.cell, "\(what): cell")
        assertSame(b.hprev, a.hprev, "\(what): hprev")
        assertSame(b.output, a.output, "\(what): output")
      }
    }
    let shape = Self.shapes[0]
    var state = LSTMKernelTests.randomForwardState(shape, seed: 310)
    state.gx[shape.steps * shape.gates * 0 + 1] = Float.nan
    let out = try LSTMKernelTests.forward(shape, step: 0, state, on: avx2)
    XCTAssertTrue(out.gx[1].isNaN, "a NaN pre-activation stays NaN through the clamp")
  }

  func testBackwardCellIsTheSwiftCellBitForBit() throws {
    let (swift, avx2) = try backends()
    for shape in Self.shapes {
      let steps = Array((0..<shape.steps).reversed())
      let state = LSTMKernelTests.randomBackwardState(shape, seed: 320)
      let what = "backward H=\(shape.hidden) models=\(shape.models)"
      let a = try LSTMKernelTests.backward(shape, steps: steps, state, on: swift)
      let b = try LSTMKernelTests.backward(shape, steps: steps, state, on: avx2)
      XCTAssertNotEqual(a.dGates, state.dGates, "\(what): the walk must write dGates")
      assertSame(b.dGates, a.dGates, "\(what): dGates")
      assertSame(b.dCell, a.dCell, "\(what): dCell")
    }
  }
}
