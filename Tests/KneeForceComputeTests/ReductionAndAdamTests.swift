import KneeForceCompute
import XCTest

final class ReductionAndAdamTests: XCTestCase {
  /// Odd counts, including one above the OpenCL grid (256 x 256 work-items) so the
  /// grid-stride loop runs more than once.
  func testSumSquares() throws {
    try forEachBackend { backend in
      for count in [1, 7, 1001, 70_001] {
        let x = randoms(count, seed: 100 + UInt64(count))
        let px = try Placed(x, on: backend)
        let out = try Placed([42], on: backend)
        try backend.sumSquares(px.slice, count: count, into: out.slice)
        assertClose(
          try out.read(), [Float(Reference.sumSquares(x))], "\(backend.tag) sumSquares \(count)")
        assertSame(try px.read(), x, "\(backend.tag) sumSquares: x modified")
      }
    }
  }

  func testMSELoss() throws {
    try forEachBackend { backend in
      for count in [1, 9, 1001, 70_001] {
        let y = randoms(count, seed: 110 + UInt64(count))
        let target = randoms(count, seed: 120 + UInt64(count))
        let (py, pt) = (try Placed(y, on: backend), try Placed(target, on: backend))
        let pd = try Placed(randoms(count, seed: 5), on: backend)
        let pl = try Placed([42], on: backend)
        try backend.mseLoss(
          prediction: py.slice, target: pt.slice, count: count, gradient: pd.slice, loss: pl.slice)
        let (loss, gradient) = Reference.mseLoss(y, target)
        let what = "\(backend.tag) mseLoss \(count)"
        assertClose(try pl.read(), [loss], "\(what): loss")
        assertClose(try pd.read(), gradient, "\(what): gradient")
        assertSame(try py.read(), y, "\(what): prediction modified")
        assertSame(try pt.read(), target, "\(what): target modified")
      }
    }
  }

  /// Adam and AdamW (decoupled), weight decay 0 and 0.01, no clipping, a max norm that clips
  /// and one that does not, at step 3 from nonzero moments (so bias correction matters).
  func testAdam() throws {
    let count = 37
    let p = randoms(count, seed: 130)
    let g = randoms(count, seed: 131, in: -2...2)
    let m = randoms(count, seed: 132, in: -0.1...0.1)
    let v = randoms(count, seed: 133, in: 0...0.01)
    let norm = Reference.sumSquares(g).squareRoot()
    try forEachBackend { backend in
      var results: [String: [Float]] = [:]
      for decoupled in [false, true] {
        for weightDecay: Float in [0, 0.01] {
          for (label, maxNorm) in [
            ("none", 0), ("clips", Float(norm / 4)), ("loose", Float(norm * 4)),
          ] {
            let step = AdamStep(
              lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: weightDecay,
              decoupled: decoupled, step: 3)
            let tensors = try [p, g, m, v].map { try Placed($0, on: backend) }
            let normSquared = try Placed([Float(norm * norm)], on: backend)
            try backend.adam(
              parameters: tensors[0].slice, gradients: tensors[1].slice, m: tensors[2].slice,
              v: tensors[3].slice, count: count, step: step, maxNorm: maxNorm,
              normSquared: normSquared.slice)
            let expected = Reference.adam(p: p, g: g, m: m, v: v, step: step, maxNorm: maxNorm)
            let what =
              "\(backend.tag) adam decoupled=\(decoupled) wd=\(weightDecay) maxNorm=\(label)"
            let gotP = try tensors[0].read()
            assertClose(gotP, expected.p, "\(what): parameters")
            assertClose(try tensors[2].read(), expected.m, "\(what): m")
            assertClose(try tensors[3].read(), expected.v, "\(what): v")
            assertSame(try tensors[1].read(), g, "\(what): gradients modified")
            assertSame(try normSquared.read(), [Float(norm * norm)], "\(what): norm modified")
            results["\(decoupled) \(weightDecay) \(label)"] = gotP
          }
        }
      }
      // The options matter: a clipping norm changes the step, a loose one does not.
      let none = results["false 0.0 none"]!
      XCTAssertNotEqual(results["false 0.0 clips"]!, none, "\(backend.tag): clipping had no effect")
      assertSame(results["false 0.0 loose"]!, none, "\(backend.tag): a loose max norm clipped")
      XCTAssertNotEqual(results["false 0.01 none"]!, none, "\(backend.tag): weight decay ignored")
      XCTAssertNotEqual(
        results["true 0.01 none"]!, results["false 0.01 none"]!, "\(backend.tag): AdamW = Adam")
      assertSame(results["true 0.0 none"]!, none, "\(backend.tag): wd 0 AdamW != Adam")
    }
  }
}
