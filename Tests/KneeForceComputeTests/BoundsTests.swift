import KneeForceCompute
import XCTest

/// Every op checks its slices before touching memory: a slice too small (or at a bad offset)
/// throws `ComputeError.outOfBounds` on both backends instead of reading or writing past it.
final class BoundsTests: XCTestCase {
  func assertOutOfBounds(
    _ what: String, _ backend: ComputeBackend, file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> Void
  ) {
    do {
      try body()
      XCTFail("\(backend.tag) \(what): no error", file: file, line: line)
    } catch ComputeError.outOfBounds(let message) {
      XCTAssertFalse(message.isEmpty, file: file, line: line)
    } catch {
      XCTFail("\(backend.tag) \(what): \(error), expected outOfBounds", file: file, line: line)
    }
  }

  func testTooSmallSlicesThrow() throws {
    try forEachBackend { backend in
      let tiny = BufferSlice(try backend.makeBuffer(count: 4))
      let big = BufferSlice(try backend.makeBuffer(count: 4000))
      func check(_ what: String, line: UInt = #line, _ body: () throws -> Void) {
        assertOutOfBounds(what, backend, line: line, body)
      }
      check("upload") { try backend.upload([1, 2, 3, 4, 5], to: tiny) }
      check("upload at offset") { try backend.upload([1, 2], to: tiny.advanced(by: 3)) }
      check("negative offset") { try backend.upload([1], to: BufferSlice(tiny.buffer, offset: -1)) }
      check("download") { _ = try backend.download(tiny.advanced(by: 2), count: 3) }
      check("fill") { try backend.fill(tiny.advanced(by: 1), count: 4, value: 0) }
      check("copy") { try backend.copy(from: big, to: tiny, count: 5) }
      check("gemm C") {
        try backend.gemm(Gemm(m: 3, n: 3, k: 3, a: big, lda: 3, b: big, ldb: 3, c: tiny, ldc: 3))
      }
      check("gemm A (lda)") {
        try backend.gemm(Gemm(m: 3, n: 1, k: 1, a: tiny, lda: 2, b: big, ldb: 1, c: big, ldc: 1))
      }
      check("gemm batched C stride") {
        try backend.gemm(
          Gemm(
            m: 1, n: 1, k: 1, a: big, lda: 1, b: big, ldb: 1, c: tiny, ldc: 1, strideC: 2,
            batch: 3))
      }
      check("addBias") { try backend.addBias(tiny, bias: big, rows: 2, cols: 3, models: 1) }
      check("addBias bias") { try backend.addBias(big, bias: tiny, rows: 2, cols: 3, models: 2) }
      check("sumRows") {
        try backend.sumRows(big, into: tiny, rows: 2, cols: 3, models: 2, accumulate: false)
      }
      check("reluDropoutForward") {
        try backend.reluDropoutForward(tiny, count: 5, p: 0.5, seed: 1)
      }
      check("reluDropoutBackward") {
        try backend.reluDropoutBackward(big, output: tiny, count: 5, p: 0.5)
      }
      check("add") { try backend.add(big, into: tiny, count: 5) }
      check("bidirectionalInput") {
        try backend.bidirectionalInput(big, into: tiny, models: 1, batch: 1, steps: 3, width: 1)
      }
      check("bidirectionalGradient") {
        try backend.bidirectionalGradient(tiny, into: big, models: 1, batch: 1, steps: 3, width: 1)
      }
      let lstm = LSTMShape(models: 1, batch: 2, steps: 3, hidden: 2)
      check("lstmGatesForward output") {
        try backend.lstmGatesForward(
          shape: lstm, step: 0, gx: big, gh: big, biasIH: big, biasHH: big, cell: big, hprev: big,
          output: tiny)
      }
      check("lstmGatesForward gx") {
        try backend.lstmGatesForward(
          shape: lstm, step: 0, gx: big.advanced(by: 3990), gh: big, biasIH: big, biasHH: big,
          cell: big, hprev: big, output: big)
      }
      check("lstmGatesBackward dGates") {
        try backend.lstmGatesBackward(
          shape: lstm, step: 2, gates: big, cell: big, dOutput: big, dhRecurrent: big,
          dCell: big, dGates: tiny)
      }
      check("lstmGatesBackward dCell") {
        try backend.lstmGatesBackward(
          shape: lstm, step: 2, gates: big, cell: big, dOutput: big, dhRecurrent: big,
          dCell: tiny, dGates: big)
      }
      let conv = ConvShape(models: 1, batch: 1, steps: 3, channels: 2, kernel: 2, dilation: 1)
      check("causalIm2col") { try backend.causalIm2col(big, into: tiny, shape: conv) }
      check("causalCol2im") { try backend.causalCol2im(tiny, into: big, shape: conv) }
      check("sumSquares x") { try backend.sumSquares(tiny, count: 5, into: big) }
      check("sumSquares out") { try backend.sumSquares(big, count: 5, into: tiny.advanced(by: 4)) }
      check("mseLoss") {
        try backend.mseLoss(prediction: big, target: tiny, count: 5, gradient: big, loss: big)
      }
      check("mseLoss loss") {
        try backend.mseLoss(
          prediction: big, target: big, count: 5, gradient: big, loss: tiny.advanced(by: 4))
      }
      check("adam") {
        try backend.adam(
          parameters: big, gradients: big, m: big, v: tiny, count: 5,
          step: AdamStep(lr: 1, step: 1),
          maxNorm: 0, normSquared: big)
      }
      check("adam norm") {
        try backend.adam(
          parameters: big, gradients: big, m: big, v: big, count: 5, step: AdamStep(lr: 1, step: 1),
          maxNorm: 1, normSquared: tiny.advanced(by: 4))
      }
      // Nothing was written by the rejected calls.
      XCTAssertEqual(
        try backend.download(tiny.buffer), [0, 0, 0, 0], "\(backend.tag) tiny written")
    }
  }

  /// A buffer of one backend handed to the other is rejected, not reinterpreted.
  func testForeignBufferThrows() throws {
    let cpu = CPUBackend()
    let openCL = try TestBackends.requireOpenCL()
    let host = BufferSlice(try cpu.makeBuffer(count: 8))
    let device = BufferSlice(try openCL.makeBuffer(count: 8))
    for (backend, foreign) in [(cpu as ComputeBackend, device), (openCL, host)] {
      XCTAssertThrowsError(try backend.add(foreign, into: foreign, count: 8)) { error in
        guard case ComputeError.wrongBuffer = error else {
          return XCTFail("\(backend.tag): \(error), expected wrongBuffer")
        }
      }
    }
  }
}

final class EmptyBufferTests: XCTestCase {
  /// A zero-sized buffer (an empty layer workspace, say) is valid on every backend, and
  /// zero-count operations on it do nothing.
  func testZeroCountBuffer() throws {
    try forEachBackend { backend in
      let empty = try backend.makeBuffer(count: 0)
      XCTAssertEqual(empty.count, 0, backend.tag)
      XCTAssertEqual(try backend.download(BufferSlice(empty), count: 0), [], backend.tag)
      try backend.fill(BufferSlice(empty), count: 0, value: 1)
      try backend.add(BufferSlice(empty), into: BufferSlice(empty), count: 0)
    }
  }
}
