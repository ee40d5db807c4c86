import KneeForceCompute
import XCTest

final class ElementwiseTests: XCTestCase {
  func testAddBias() throws {
    try forEachBackend { backend in
      for (models, rows, cols) in [(1, 3, 9), (2, 7, 5), (2, 1, 1)] {
        let y = randoms(models * rows * cols, seed: 1)
        let bias = randoms(models * cols, seed: 2)
        let py = try Placed(y, on: backend)
        let pb = try Placed(bias, on: backend)
        try backend.addBias(py.slice, bias: pb.slice, rows: rows, cols: cols, models: models)
        let what = "\(backend.tag) addBias models=\(models) rows=\(rows) cols=\(cols)"
        assertClose(
          try py.read(), Reference.addBias(y, bias: bias, rows: rows, cols: cols, models: models),
          what)
        assertSame(try pb.read(), bias, "\(what): bias modified")
      }
    }
  }

  func testSumRows() throws {
    try forEachBackend { backend in
      for (models, rows, cols) in [(1, 3, 9), (2, 7, 5), (2, 1, 3)] {
        for accumulate in [false, true] {
          let dy = randoms(models * rows * cols, seed: 3)
          let dbias = randoms(models * cols, seed: 4)
          let pd = try Placed(dy, on: backend)
          let pb = try Placed(dbias, on: backend)
          try backend.sumRows(
            pd.slice, into: pb.slice, rows: rows, cols: cols, models: models,
            accumulate: accumulate)
          let expected = Reference.sumRows(
            dy, dbias: dbias, rows: rows, cols: cols, models: models, accumulate: accumulate)
          let what = "\(backend.tag) sumRows models=\(models) rows=\(rows) accumulate=\(accumulate)"
          assertClose(try pb.read(), expected, what)
          assertSame(try pd.read(), dy, "\(what): dy modified")
        }
      }
    }
  }

  func testReluDropoutForward() throws {
    try forEachBackend { backend in
      for p: Float in [0, 0.3] {
        for seed: UInt32 in [7, 0xdead_beef] {
          let x = randoms(1001, seed: 5)
          let px = try Placed(x, on: backend)
          try backend.reluDropoutForward(px.slice, count: x.count, p: p, seed: seed)
          let got = try px.read()
          let what = "\(backend.tag) reluDropoutForward p=\(p) seed=\(seed)"
          assertClose(got, Reference.reluDropoutForward(x, p: p, seed: seed), what)
          XCTAssertTrue(got.allSatisfy { $0 >= 0 }, "\(what): negative output")
          if p == 0 {
            assertSame(got, x.map { max($0, 0) }, "\(what): p = 0 must be a plain relu")
          }
        }
      }
    }
  }

  /// About 70 % of the elements survive p = 0.3, scaled by 1/0.7, and the mask is exactly the
  /// same on both backends (counter-based hash, no stored mask).
  func testDropoutKeptFractionAndMasksMatch() throws {
    let count = 100_003
    let x = [Float](repeating: 1, count: count)
    var masks: [[Bool]] = []
    try forEachBackend { backend in
      let px = try Placed(x, on: backend)
      try backend.reluDropoutForward(px.slice, count: count, p: 0.3, seed: 12345)
      let got = try px.read()
      let kept = got.filter { $0 != 0 }
      let fraction = Double(kept.count) / Double(count)
      XCTAssertEqual(fraction, 0.7, accuracy: 0.01, "\(backend.tag): kept fraction")
      XCTAssertTrue(
        kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 }, "\(backend.tag): kept values not 1/(1-p)")
      masks.append(got.map { $0 != 0 })
      // A different seed draws a different mask.
      let other = try Placed(x, on: backend)
      try backend.reluDropoutForward(other.slice, count: count, p: 0.3, seed: 12346)
      XCTAssertNotEqual(try other.read().map { $0 != 0 }, masks.last!, "\(backend.tag): seed")
      if masks.count == 2 {
        XCTAssertTrue(masks[0] == masks[1], "CPU and OpenCL dropout masks differ")
      }
    }
  }

  func testReluDropoutBackward() throws {
    try forEachBackend { backend in
      for p: Float in [0, 0.3] {
        // An output with zeros (dropped or negative before relu) and positives.
        let y = randoms(777, seed: 6).map { max($0, 0) }
        XCTAssertTrue(y.contains(0) && y.contains { $0 > 0 })
        let dy = randoms(777, seed: 7)
        let pd = try Placed(dy, on: backend)
        let py = try Placed(y, on: backend)
        try backend.reluDropoutBackward(pd.slice, output: py.slice, count: dy.count, p: p)
        let what = "\(backend.tag) reluDropoutBackward p=\(p)"
        assertClose(try pd.read(), Reference.reluDropoutBackward(dy, output: y, p: p), what)
        assertSame(try py.read(), y, "\(what): y modified")
      }
    }
  }

  func testAdd() throws {
    try forEachBackend { backend in
      for count in [1, 9, 1001] {
        let x = randoms(count, seed: 8)
        let y = randoms(count, seed: 9)
        let px = try Placed(x, on: backend)
        let py = try Placed(y, on: backend)
        try backend.add(px.slice, into: py.slice, count: count)
        assertSame(try py.read(), zip(x, y).map { $0 + $1 }, "\(backend.tag) add \(count)")
        assertSame(try px.read(), x, "\(backend.tag) add: x modified")
      }
    }
  }
}
