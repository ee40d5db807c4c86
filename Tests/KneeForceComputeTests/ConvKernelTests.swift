import KneeForceCompute
import XCTest

final class ConvKernelTests: XCTestCase {
  /// Kernel 2 and 3, dilation 1, 2 and 4 (so (K-1)*D >= T for some), one and two models,
  /// T = 7 and T = 1.
  static var shapes: [ConvShape] {
    var shapes: [ConvShape] = []
    for (models, steps) in [(1, 7), (2, 7), (2, 1)] {
      for kernel in [2, 3] {
        for dilation in [1, 2, 4] {
          shapes.append(
            ConvShape(
              models: models, batch: 3, steps: steps, channels: 3, kernel: kernel,
              dilation: dilation))
        }
      }
    }
    return shapes
  }

  func describe(_ s: ConvShape) -> String {
    "models=\(s.models) T=\(s.steps) K=\(s.kernel) D=\(s.dilation)"
  }

  func testShapesIncludeReceptiveFieldLongerThanSequence() {
    XCTAssertTrue(
      Self.shapes.contains { ($0.kernel - 1) * $0.dilation >= $0.steps && $0.steps > 1 })
  }

  func testCausalIm2col() throws {
    try forEachBackend { backend in
      for shape in Self.shapes {
        let what = "\(backend.tag) causalIm2col \(describe(shape))"
        let n = shape.models * shape.batch * shape.steps
        let x = randoms(n * shape.channels, seed: 90)
        let px = try Placed(x, on: backend)
        let pcol = try Placed(randoms(n * shape.columns, seed: 91), on: backend)
        try backend.causalIm2col(px.slice, into: pcol.slice, shape: shape)
        let got = try pcol.read()
        assertSame(got, Reference.causalIm2col(x, shape), what)
        assertSame(try px.read(), x, "\(what): x modified")
        // The last tap (k = K-1) is the current step: col[n][t][c*K + K-1] = x[n][t][c].
        let (C, K) = (shape.channels, shape.kernel)
        let lastTaps = (0..<(n * C)).map { got[$0 * K + K - 1] }
        assertSame(lastTaps, x, "\(what): last tap")
      }
    }
  }

  func testCausalCol2im() throws {
    try forEachBackend { backend in
      for shape in Self.shapes {
        let what = "\(backend.tag) causalCol2im \(describe(shape))"
        let n = shape.models * shape.batch * shape.steps
        let dcol = randoms(n * shape.columns, seed: 92)
        let pcol = try Placed(dcol, on: backend)
        // dx starts with garbage: col2im overwrites, it does not accumulate.
        let pdx = try Placed(randoms(n * shape.channels, seed: 93), on: backend)
        try backend.causalCol2im(pcol.slice, into: pdx.slice, shape: shape)
        assertClose(try pdx.read(), Reference.causalCol2im(dcol, shape), what)
        assertSame(try pcol.read(), dcol, "\(what): dcol modified")
      }
    }
  }

  /// col2im is the adjoint of im2col: <im2col(x), y> == <x, col2im(y)>.
  func testCol2imIsAdjointOfIm2col() throws {
    try forEachBackend { backend in
      for shape in Self.shapes {
        let n = shape.models * shape.batch * shape.steps
        let x = randoms(n * shape.channels, seed: 94)
        let y = randoms(n * shape.columns, seed: 95)
        let (bx, by) = (try backend.makeBuffer(x), try backend.makeBuffer(y))
        let col = try backend.makeBuffer(count: y.count)
        let dx = try backend.makeBuffer(count: x.count)
        try backend.causalIm2col(BufferSlice(bx), into: BufferSlice(col), shape: shape)
        try backend.causalCol2im(BufferSlice(by), into: BufferSlice(dx), shape: shape)
        let (colValues, dxValues) = (try backend.download(col), try backend.download(dx))
        var (left, right, scale) = (0.0, 0.0, 0.0)
        for i in y.indices {
          left += Double(colValues[i]) * Double(y[i])
          scale += abs(Double(colValues[i]) * Double(y[i]))
        }
        for i in x.indices { right += Double(x[i]) * Double(dxValues[i]) }
        XCTAssertGreaterThan(scale, 0)
        XCTAssertEqual(
          left, right, accuracy: 1e-5 * scale, "\(backend.tag) adjoint \(describe(shape))")
      }
    }
  }
}
