import KneeForceCompute
import XCTest

final class SelfCheckTests: XCTestCase {
  func testSelfCheckPassesOnEveryBackend() throws {
    try forEachBackend { backend in
      let result = try selfCheck(backend)
      XCTAssertTrue(result.passed, "\(backend.tag): \(result)")
      XCTAssertLessThanOrEqual(result.gemmError, 1e-5, backend.tag)
      XCTAssertLessThanOrEqual(result.kernelError, 1e-5, backend.tag)
      XCTAssertGreaterThanOrEqual(result.seconds, 0)
    }
  }

  func testRelativeError() {
    XCTAssertEqual(relativeError([1, 2], [1, 2]), 0)
    XCTAssertEqual(relativeError([1, 2.5], [1, 2]), 0.25)
    XCTAssertEqual(relativeError([0.5], [0]), 0.5, "all-zero reference: absolute error")
    // A NaN result must not look like agreement (a backend emitting NaN would pass).
    XCTAssertTrue(
      relativeError([.nan], [1]).isNaN, "relativeError([nan], [1]) = \(relativeError([.nan], [1]))")
    XCTAssertTrue(relativeError([1, .nan], [1, 2]).isNaN)
    XCTAssertTrue(relativeError([1], [.nan]).isNaN)
  }
}
