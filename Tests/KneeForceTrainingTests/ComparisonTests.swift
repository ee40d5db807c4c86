import XCTest

/// The tests' agreement measure must not let a NaN or an infinity pass.
final class ComparisonTests: XCTestCase {
  func testMaxRelativeErrorSeesNaNAndInfinity() {
    XCTAssertEqual(maxRelativeError([0.5, 1], [0.5, 1]), 0)
    XCTAssertEqual(maxRelativeError([0, 0], [0, 0]), 0)
    XCTAssertEqual(maxRelativeError([1, 2], [1, 4]), 0.5)
    for (a, b): ([Float], [Float]) in [
      ([0.5, .nan], [0.5, 1]), ([0.5, 1], [0.5, .nan]), ([.nan], [.nan]),
      ([.infinity, 1], [1, 1]), ([1, 1], [.infinity, 1]),
    ] {
      let error = maxRelativeError(a, b)
      XCTAssertFalse(error <= 1e-4, "\(a) vs \(b) gave \(error)")
    }
  }
}
