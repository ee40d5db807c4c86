import CKneeForce
import Foundation
import KneeForceCompute
import XCTest

/// The C cell (Sources/CKneeForce/lstm_cell.c), its AVX2 and (where the CPU has it) AVX-512
/// variant, against the Swift rows it replaces where the CPU has AVX2: the same formulas with fused multiply-adds in the exp, so a few ulps apart,
/// forward and backward, on widths that are and are not multiples of 8, at the first, a
/// middle and the last step, and a NaN stays a NaN. The plain reference in LSTMKernelTests
/// checks whichever cell the machine uses.
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

  /// NaNs at the same places, every other value within a few ulps.
  func assertCloseWithNaNs(
    _ got: [Float], _ expected: [Float], _ what: String, line: UInt = #line
  ) {
    XCTAssertEqual(got.map(\.isNaN), expected.map(\.isNaN), "\(what): NaN positions", line: line)
    let finite = { (v: [Float]) in v.map { $0.isNaN ? 0 : $0 } }
    assertClose(finite(got), finite(expected), tolerance: 1e-6, what, line: line)
  }

  static let shapes = [
    LSTMShape(models: 1, batch: 3, steps: 5, hidden: 13),
    LSTMShape(models: 2, batch: 2, steps: 4, hidden: 16),
    LSTMShape(models: 1, batch: 2, steps: 3, hidden: 5),
  ]

  /// Runs `body` with the AVX2 cell and, where the CPU has it, the AVX-512 cell.
  func forEachVectorCell(_ body: (String) throws -> Void) rethrows {
    defer { _ = kf_lstm_cell_use_avx512(-1) }
    for avx512: Int32 in [0, 1] where kf_lstm_cell_use_avx512(avx512) == avx512 {
      try body(avx512 == 1 ? "AVX-512" : "AVX2")
    }
  }

  func testForwardCellMatchesTheSwiftCell() throws {
    try forEachVectorCell { try forwardCellMatches($0) }
  }

  func testBackwardCellMatchesTheSwiftCell() throws {
    try forEachVectorCell { try backwardCellMatches($0) }
  }

  func forwardCellMatches(_ isa: String) throws {
    let (swift, avx2) = try backends()
    for shape in Self.shapes {
      for step in Set([0, shape.steps / 2, shape.steps - 1]).sorted() {
        var state = LSTMKernelTests.randomForwardState(shape, seed: 300 + UInt64(step))
        // Saturating pre-activations (the exp clamps) and a NaN, which must come through.
        state.gx[0] = 120
        state.gx[1] = -120
        state.gx[shape.gates * shape.steps + 2] = Float.nan
        let what = "\(isa) forward H=\(shape.hidden) models=\(shape.models) s=\(step)"
        let a = try LSTMKernelTests.forward(shape, step: step, state, on: swift)
        let b = try LSTMKernelTests.forward(shape, step: step, state, on: avx2)
        XCTAssertNotEqual(a.gx, state.gx, "\(what): the step must write the gates")
        assertCloseWithNaNs(b.gx, a.gx, "\(what): gates")
        assertCloseWithNaNs(b.cell, a.cell, "\(what): cell")
        assertCloseWithNaNs(b.hprev, a.hprev, "\(what): hprev")
        assertCloseWithNaNs(b.output, a.output, "\(what): output")
      }
    }
    let shape = Self.shapes[0]
    var state = LSTMKernelTests.randomForwardState(shape, seed: 310)
    state.gx[shape.steps * shape.gates * 0 + 1] = Float.nan
    let out = try LSTMKernelTests.forward(shape, step: 0, state, on: avx2)
    XCTAssertTrue(out.gx[1].isNaN, "a NaN pre-activation stays NaN through the clamp")
  }

  func backwardCellMatches(_ isa: String) throws {
    let (swift, avx2) = try backends()
    for shape in Self.shapes {
      let steps = Array((0..<shape.steps).reversed())
      let state = LSTMKernelTests.randomBackwardState(shape, seed: 320)
      let what = "\(isa) backward H=\(shape.hidden) models=\(shape.models)"
      let a = try LSTMKernelTests.backward(shape, steps: steps, state, on: swift)
      let b = try LSTMKernelTests.backward(shape, steps: steps, state, on: avx2)
      XCTAssertNotEqual(a.dGates, state.dGates, "\(what): the walk must write dGates")
      assertClose(b.dGates, a.dGates, tolerance: 1e-6, "\(what): dGates")
      assertClose(b.dCell, a.dCell, tolerance: 1e-6, "\(what): dCell")
    }
  }
}
