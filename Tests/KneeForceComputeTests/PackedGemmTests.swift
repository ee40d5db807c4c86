import CKneeForce
import KneeForceCompute
import XCTest

/// The packed recurrent GEMM (Sources/CKneeForce/packed_gemm.c) against a plain Double loop,
/// on both of its paths (AVX2/FMA tile and scalar), and the LSTM walks with each recurrent
/// kernel the CPU backend offers.
final class PackedGemmTests: XCTestCase {
  func reference(
    m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int, transB: Bool,
    c: [Float], ldc: Int, accumulate: Bool
  ) -> [Float] {
    var out = c
    for i in 0..<m {
      for j in 0..<n {
        var sum = accumulate ? Double(c[i * ldc + j]) : 0
        for p in 0..<k {
          sum += Double(a[i * lda + p]) * Double(transB ? b[j * ldb + p] : b[p * ldb + j])
        }
        out[i * ldc + j] = Float(sum)
      }
    }
    return out
  }

  func testPackedGemmMatchesReference() {
    // Row counts around the 6- and 8-row tiles, column counts around the 16-column panel and
    // the 32-column AVX-512 tile, leading dimensions wider than the operands (as the LSTM's
    // strided rows are); scalar 0 is the best tile here, 1 the scalar loop, 2 at most AVX2.
    for (m, n, k) in [
      (1, 1, 1), (5, 20, 5), (6, 16, 7), (7, 33, 13), (9, 48, 3), (13, 64, 128), (64, 5, 20),
    ] {
      for transB in [false, true] {
        for accumulate in [false, true] {
          for scalar: Int32 in [0, 1, 2] {
            let (lda, ldc) = (k + 3, n + 2)
            let ldb = transB ? k + 1 : n + 1
            let a = randoms(m * lda, seed: 1)
            let b = randoms((transB ? n : k) * ldb, seed: 2)
            var c = randoms(m * ldc, seed: 3)
            let expected = reference(
              m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, transB: transB, c: c, ldc: ldc,
              accumulate: accumulate)
            var packed = [Float](repeating: .nan, count: kf_packed_floats(Int32(k), Int32(n)))
            kf_pack_b(b, Int32(ldb), transB ? 1 : 0, Int32(k), Int32(n), &packed)
            kf_gemm_packed(
              Int32(m), Int32(n), Int32(k), a, Int32(lda), packed, &c, Int32(ldc),
              accumulate ? 1 : 0, scalar)
            let what = "m=\(m) n=\(n) k=\(k) transB=\(transB) acc=\(accumulate) scalar=\(scalar)"
            assertClose(c, expected, tolerance: 1e-6, what)
          }
        }
      }
    }
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    if cpuinfo.contains(" avx2") && cpuinfo.contains(" fma") {
      XCTAssertEqual(kf_gemm_packed_vectorised(), 1, "the CPU has AVX2 and FMA")
    }
  }

  /// The peak `kneeforce bench` quotes comes from the FMA loop where the CPU has AVX2/FMA, and
  /// is absent (not made up) where it has not.
  func testMeasuredPeakNeedsAVX2() {
    let peak = CPUBackend.measuredPeakGFLOPS(threads: 2, seconds: 0.01)
    if kf_gemm_packed_vectorised() == 1 {
      XCTAssertGreaterThan(peak ?? 0, 0, "the FMA loop must report a rate")
    } else {
      XCTAssertNil(peak)
    }
  }

  /// The AVX-512 tile and the AVX2 tile give the same bits (each element one FMA chain over
  /// k), for one and two segments, storing and accumulating, odd shapes.
  func testEveryVectorTileGivesTheSameBits() throws {
    guard kf_gemm_packed_vectorised() == 1 else { throw XCTSkip("no AVX2/FMA on this CPU") }
    if kf_gemm_packed_rows() != 8 {
      print("PackedGemmTests: no AVX-512 here, the comparison runs AVX2 against itself")
    }
    for (m, n, k1, k2) in [(1, 1, 1, 0), (9, 48, 3, 5), (32, 256, 16, 64), (13, 37, 29, 11)] {
      for accumulate: Int32 in [0, 1] {
        let a1 = randoms(m * k1, seed: 5)
        let a2 = randoms(m * max(k2, 1), seed: 6)
        var p1 = [Float](repeating: .nan, count: kf_packed_floats(Int32(k1), Int32(n)))
        var p2 = [Float](repeating: .nan, count: kf_packed_floats(Int32(max(k2, 1)), Int32(n)))
        kf_pack_b(randoms(n * k1, seed: 7), Int32(k1), 1, Int32(k1), Int32(n), &p1)
        kf_pack_b(
          randoms(n * max(k2, 1), seed: 8), Int32(max(k2, 1)), 1, Int32(max(k2, 1)), Int32(n), &p2)
        let start = randoms(m * n, seed: 9)
        var best = start
        var avx2 = start
        for (force, out) in [(Int32(0), 0), (2, 1)] {
          var c = start
          kf_gemm_packed2(
            Int32(m), Int32(n), Int32(k1), a1, Int32(k1), p1, Int32(k2), a2, Int32(max(k2, 1)), p2,
            &c, Int32(n), accumulate, force)
          if out == 0 { best = c } else { avx2 = c }
        }
        XCTAssertNotEqual(best, start, "the product must be written")
        assertSame(best, avx2, "m=\(m) n=\(n) k=\(k1)+\(k2) accumulate=\(accumulate)")
      }
    }
  }

  /// `CPUBackend.gemm` on its packed path (x W^T or dy W, K <= 256) against the plain loop:
  /// batched with strides, row counts that do not split evenly into threads or tiles, beta 0
  /// and 1; and the same call with the path switched off.
  func testShortGemmPathMatchesReference() throws {
    for (m, n, k, beta, transB) in [
      (257, 33, 7, Float(0), true), (301, 512, 40, 1, true), (256, 64, 64, 0, true),
      (263, 192, 64, 0, false), (300, 40, 3, 1, false), (270, 64, 200, 0, true),
    ] {
      let (lda, ldb, ldc, batch) = (k + 1, transB ? k + 2 : n + 2, n + 3, 2)
      let (strideA, strideC) = (m * lda + 5, m * ldc + 1)
      let strideB = (transB ? n : k) * ldb + 3
      let a = randoms(batch * strideA, seed: 11)
      let b = randoms(batch * strideB, seed: 12)
      let c0 = randoms(batch * strideC, seed: 13)
      var expected = c0
      for i in 0..<batch {
        let part = reference(
          m: m, n: n, k: k, a: Array(a[(i * strideA)...]), lda: lda,
          b: Array(b[(i * strideB)...]), ldb: ldb, transB: transB,
          c: Array(c0[(i * strideC)...]),
          ldc: ldc, accumulate: beta == 1)
        for r in 0..<m {
          for j in 0..<n { expected[i * strideC + r * ldc + j] = part[r * ldc + j] }
        }
      }
      for packed in [true, false] {
        let be = CPUBackend()
        be.usePackedGemm = packed
        let (ba, bb, bc) = (try be.makeBuffer(a), try be.makeBuffer(b), try be.makeBuffer(c0))
        try be.gemm(
          Gemm(
            transB: transB, m: m, n: n, k: k, a: BufferSlice(ba), lda: lda, strideA: strideA,
            b: BufferSlice(bb), ldb: ldb, strideB: strideB, beta: beta, c: BufferSlice(bc),
            ldc: ldc, strideC: strideC, batch: batch))
        assertClose(
          try be.download(bc), expected, tolerance: 1e-6,
          "m=\(m) n=\(n) k=\(k) beta=\(beta) transB=\(transB) packed=\(packed)")
      }
    }
  }

  /// Forward and backward walks with each recurrent kernel give the BLAS walk's result.
  func testLSTMWalksWithEveryRecurrentKernel() throws {
    for shape in [
      LSTMShape(models: 1, batch: 3, steps: 5, hidden: 5),
      LSTMShape(models: 2, batch: 9, steps: 7, hidden: 129),
      LSTMShape(models: 1, batch: 32, steps: 4, hidden: 64),
    ] {
      var results: [CPUBackend.RecurrentKernel: [Float]] = [:]
      for kernel in CPUBackend.RecurrentKernel.allCases {
        let be = CPUBackend()
        be.recurrentKernel = kernel
        results[kernel] = try walk(be, shape)
      }
      for kernel in CPUBackend.RecurrentKernel.allCases {
        assertClose(results[kernel]!, results[.blas]!, tolerance: 1e-5, "\(kernel) \(shape)")
      }
    }
  }

  func walk(_ be: CPUBackend, _ shape: LSTMShape) throws -> [Float] {
    let (B, T, H, G, groups) = (shape.batch, shape.steps, shape.hidden, shape.gates, shape.groups)
    let w = BufferSlice(try be.makeBuffer(randoms(groups * G * H, seed: 1, in: -0.5...0.5)))
    let gx = BufferSlice(try be.makeBuffer(randoms(groups * B * T * G, seed: 2)))
    let bias = BufferSlice(try be.makeBuffer(randoms(groups * G, seed: 3)))
    let dy = BufferSlice(try be.makeBuffer(randoms(shape.models * B * T * 2 * H, seed: 4)))
    let gh = BufferSlice(try be.makeBuffer(count: groups * B * G))
    let cell = BufferSlice(try be.makeBuffer(count: groups * B * T * H))
    let hprev = BufferSlice(try be.makeBuffer(count: groups * B * T * H))
    let out = BufferSlice(try be.makeBuffer(count: shape.models * B * T * 2 * H))
    let dh = BufferSlice(try be.makeBuffer(count: groups * B * H))
    let dc = BufferSlice(try be.makeBuffer(count: groups * B * H))
    for s in 0..<T {
      try be.lstmForwardStep(
        shape: shape, step: s, weightHH: w, gx: gx, gh: gh, biasIH: bias, biasHH: bias,
        cell: cell, hprev: hprev, output: out)
    }
    let forward = try be.download(out.buffer) + be.download(hprev.buffer)
    for s in stride(from: T - 1, through: 0, by: -1) {
      try be.lstmBackwardStep(
        shape: shape, step: s, weightHH: w, gates: gx, cell: cell, dOutput: dy, dhRecurrent: dh,
        dCell: dc, dGates: gx)
    }
    return try forward + be.download(gx.buffer) + be.download(dc.buffer)
  }
}
