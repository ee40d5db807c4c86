import Foundation
import KneeForceCompute
import XCTest

/// The CLBlast tuning override (KNEEFORCE_CLBLAST_TUNING): bad files fail clearly, a complete
/// parameter set is accepted and GEMMs stay correct under it, an incomplete one is rejected.
final class CLBlastTuningTests: XCTestCase {
  func testMalformedFilesAreRejectedWithTheReason() {
    func message(_ text: String) -> String {
      do {
        _ = try CLBlastTuning.parse(Data(text.utf8), file: "tuning.json")
        return ""
      } catch {
        return "\(error)"
      }
    }
    XCTAssert(message("[1, 2]").contains("expected a JSON object"))
    XCTAssert(message(#"{"XgemmDirect": 3}"#).contains("'XgemmDirect' must map to an object"))
    XCTAssert(message(#"{"XgemmDirect": {"WGD": -8}}"#).contains("'WGD' of 'XgemmDirect'"))
    XCTAssert(message(#"{"XgemmDirect": {"WGD": 2.5}}"#).contains("non-negative integer"))
    XCTAssertEqual(
      try CLBlastTuning.parse(Data(#"{"Xgemm": {"KWG": 16}}"#.utf8), file: "t")["Xgemm"]?["KWG"],
      16)
  }

  /// CLBlast keeps an override for the rest of the process (it has no reset), so later tests
  /// on this device run XgemmDirect with these parameters too: valid ones, only slower.
  func testCompleteOverrideKeepsGemmCorrect() throws {
    let device = try TestBackends.requireDevice()
    let backend = try TestBackends.requireOpenCL()
    let tuning: [String: [String: Int]] = [
      "XgemmDirect": [
        "KWID": 2, "MDIMAD": 8, "MDIMCD": 8, "NDIMBD": 8, "NDIMCD": 8, "PADA": 1, "PADB": 1,
        "VWMD": 1, "VWND": 1, "WGD": 8,
      ]
    ]
    try CLBlastTuning.apply(tuning, device: device)
    let (m, n, k) = (17, 13, 9)
    let a = randoms(m * k, seed: 1)
    let b = randoms(k * n, seed: 2)
    func run(_ be: ComputeBackend) throws -> [Float] {
      let c = try be.makeBuffer(count: m * n)
      try be.gemm(
        Gemm(
          m: m, n: n, k: k, a: BufferSlice(try be.makeBuffer(a)), lda: k,
          b: BufferSlice(try be.makeBuffer(b)), ldb: n, c: BufferSlice(c), ldc: n))
      return try be.download(c)
    }
    assertClose(try run(backend), try run(CPUBackend()), "GEMM under a CLBlast override")
  }

  func testIncompleteOverrideIsRejectedNamingTheKernel() throws {
    let device = try TestBackends.requireDevice()
    XCTAssertThrowsError(try CLBlastTuning.apply(["XgemmDirect": ["WGD": 8]], device: device)) {
      XCTAssert("\($0)".contains("'XgemmDirect'"), "\($0)")
    }
  }
}
