import KneeForceCompute
import XCTest

final class GemmTests: XCTestCase {
  /// Runs `spec` on `backend` over whole random buffers and compares every element of C
  /// (including the gaps between rows and batch entries, which must stay untouched).
  func check(_ spec: Reference.GemmSpec, on backend: ComputeBackend, seed: UInt64) throws {
    let a = randoms(spec.sizeA + 2, seed: seed)
    let b = randoms(spec.sizeB + 2, seed: seed + 1)
    let c = randoms(spec.sizeC + 2, seed: seed + 2)
    var expected = c
    Reference.gemm(spec, a: a, b: b, c: &expected)
    let (ba, bb, bc) = (
      try backend.makeBuffer(a), try backend.makeBuffer(b), try backend.makeBuffer(c)
    )
    try backend.gemm(
      Gemm(
        transA: spec.transA, transB: spec.transB, m: spec.m, n: spec.n, k: spec.k,
        alpha: spec.alpha, a: BufferSlice(ba, offset: spec.offsetA), lda: spec.lda,
        strideA: spec.strideA, b: BufferSlice(bb, offset: spec.offsetB), ldb: spec.ldb,
        strideB: spec.strideB, beta: spec.beta, c: BufferSlice(bc, offset: spec.offsetC),
        ldc: spec.ldc, strideC: spec.strideC, batch: spec.batch))
    let got = try backend.download(bc)
    let what = "\(backend.tag) gemm transA=\(spec.transA) transB=\(spec.transB) batch=\(spec.batch)"
    assertClose(got, expected, what)
    XCTAssertEqual(try backend.download(ba), a, "\(what): A modified")
    XCTAssertEqual(try backend.download(bb), b, "\(what): B modified")
    // Elements outside every C block keep their exact values.
    var inBlock = Set<Int>()
    for q in 0..<spec.batch {
      for i in 0..<spec.m {
        for j in 0..<spec.n { inBlock.insert(spec.offsetC + q * spec.strideC + i * spec.ldc + j) }
      }
    }
    let outside = c.indices.filter { !inBlock.contains($0) }
    assertSame(outside.map { got[$0] }, outside.map { c[$0] }, "\(what): wrote outside C")
  }

  /// All four transpose combinations, odd m, n, k, padded leading dimensions, nonzero offsets,
  /// alpha and beta other than 0 and 1.
  func testGemmAllTransposes() throws {
    try forEachBackend { backend in
      for (index, (transA, transB)) in [(false, false), (true, false), (false, true), (true, true)]
        .enumerated()
      {
        let (m, n, k) = (5, 7, 9)
        let spec = Reference.GemmSpec(
          transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.75, beta: -0.5,
          lda: (transA ? m : k) + 2, ldb: (transB ? k : n) + 3, ldc: n + 4, offsetA: 3,
          offsetB: 5, offsetC: 7)
        try check(spec, on: backend, seed: 100 + UInt64(index) * 10)
      }
    }
  }

  /// beta = 0: the old C does not contribute; n = 1 and an ldb wider than k.
  func testGemmBetaZeroOverwrites() throws {
    try forEachBackend { backend in
      let spec = Reference.GemmSpec(
        transA: false, transB: true, m: 3, n: 1, k: 11, alpha: 1.5, beta: 0, lda: 11, ldb: 12,
        ldc: 2, offsetA: 1, offsetB: 2, offsetC: 1)
      try check(spec, on: backend, seed: 200)
    }
  }

  /// Strided batched GEMM in the three transpose forms the layers use (NN, TN, NT): batch 2
  /// with a shared (stride 0) B, batch 3 with a shared A, and batch 3 with every operand
  /// strided (strides larger than the matrices, so gaps between entries must stay untouched).
  func testGemmStridedBatched() throws {
    try forEachBackend { backend in
      let (m, n, k) = (5, 3, 7)
      var sharedB = Reference.GemmSpec(
        transA: false, transB: false, m: m, n: n, k: k, alpha: 1.25, beta: 0.5, lda: k + 1,
        ldb: n + 2, ldc: n + 1, offsetA: 2, offsetB: 4, offsetC: 1, batch: 2)
      sharedB.strideA = m * sharedB.lda + 3
      sharedB.strideB = 0
      sharedB.strideC = m * sharedB.ldc + 2
      try check(sharedB, on: backend, seed: 300)

      var sharedA = Reference.GemmSpec(
        transA: true, transB: false, m: m, n: n, k: k, alpha: -0.5, beta: 1.5, lda: m + 2,
        ldb: n + 1, ldc: n + 3, offsetA: 1, offsetB: 3, offsetC: 5, batch: 3)
      sharedA.strideA = 0
      sharedA.strideB = k * sharedA.ldb + 1
      sharedA.strideC = m * sharedA.ldc + 4
      try check(sharedA, on: backend, seed: 310)

      var all = Reference.GemmSpec(
        transA: false, transB: true, m: m, n: n, k: k, alpha: 0.5, beta: -1, lda: k, ldb: k + 1,
        ldc: n, offsetA: 6, offsetB: 0, offsetC: 2, batch: 3)
      all.strideA = m * all.lda + 5
      all.strideB = n * all.ldb
      all.strideC = m * all.ldc + 1
      try check(all, on: backend, seed: 320)
    }
  }
}
