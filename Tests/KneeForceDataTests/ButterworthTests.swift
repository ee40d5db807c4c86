import Foundation
import XCTest

@testable import KneeForceData

final class ButterworthTests: XCTestCase {
  /// scipy.signal.butter(2, 10, fs=100): the textbook reference values.
  func testCoefficientsMatchTheReferenceDesign() throws {
    let filter = try Butterworth(cutoffHz: 10, sampleRateHz: 100)
    let b = [0.06745527, 0.13491055, 0.06745527]
    let a = [1.0, -1.1429805, 0.4128016]
    for (x, y) in zip(filter.b, b) { XCTAssertEqual(x, y, accuracy: 1e-7) }
    for (x, y) in zip(filter.a, a) { XCTAssertEqual(x, y, accuracy: 1e-7) }
  }

  private func amplitude(_ frequency: Double, cutoff: Double = 10, rate: Double = 100)
    throws -> (gain: Double, lag: Double)
  {
    let filter = try Butterworth(cutoffHz: cutoff, sampleRateHz: rate)
    let n = 2000
    let x = (0..<n).map { sin(2 * Double.pi * frequency * Double($0) / rate) }
    let y = filter.filtfilt(x)
    // Project the middle on sine and cosine: gain and phase away from the ends.
    var s = 0.0
    var c = 0.0
    for i in 500..<1500 {
      let w = 2 * Double.pi * frequency * Double(i) / rate
      s += y[i] * sin(w)
      c += y[i] * cos(w)
    }
    return ((s * s + c * c).squareRoot() * 2 / 1000, atan2(c, s))
  }

  /// Forward-backward squares the magnitude: 1/2 at the cutoff, and the response of the
  /// pre-warped design, 1 / (1 + (tan(pi f / fs) / tan(pi fc / fs))^4), elsewhere.
  func testZeroPhaseResponseMatchesTheSquaredButterworthMagnitude() throws {
    for frequency in [2.0, 5.0, 10.0, 20.0, 35.0] {
      let ratio = tan(Double.pi * frequency / 100) / tan(Double.pi * 10 / 100)
      let expected = 1 / (1 + pow(ratio, 4))
      let (gain, lag) = try amplitude(frequency)
      XCTAssertEqual(gain, expected, accuracy: 2e-3, "\(frequency) Hz")
      if expected > 0.01 { XCTAssertEqual(lag, 0, accuracy: 1e-3, "zero phase at \(frequency) Hz") }
    }
  }

  func testConstantsPassUnchangedIncludingTheEnds() throws {
    let filter = try Butterworth(cutoffHz: 6, sampleRateHz: 100)
    let y = filter.filtfilt([Double](repeating: 3.5, count: 50))
    for value in y { XCTAssertEqual(value, 3.5, accuracy: 1e-9) }
    XCTAssertEqual(filter.filtfilt([1]), [1])
    XCTAssertEqual(filter.filtfilt([]), [])
    XCTAssertEqual(filter.filtfilt([1, 2]).count, 2)
  }

  func testInvalidCutoffIsRejected() {
    XCTAssertThrowsError(try Butterworth(cutoffHz: 50, sampleRateHz: 100))
    XCTAssertThrowsError(try Butterworth(cutoffHz: 0, sampleRateHz: 100))
    XCTAssertThrowsError(try Butterworth(cutoffHz: .nan, sampleRateHz: 100))
  }
}
