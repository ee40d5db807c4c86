import XCTest

@testable import KneeForceLabFiles

/// VAX F floats as DEC files store them: 16-bit little-endian words, the word with sign and
/// exponent first, exponent bias 128, value 0.1f × 2^(e - 128).
final class DECFloatTests: XCTestCase {
  func testKnownBitPatterns() {
    XCTAssertEqual(DECFloat.decode(0x80, 0x40, 0x00, 0x00), 1.0)
    XCTAssertEqual(DECFloat.decode(0x80, 0xC0, 0x00, 0x00), -1.0)
    XCTAssertEqual(DECFloat.decode(0x00, 0x40, 0x00, 0x00), 0.5)
    XCTAssertEqual(DECFloat.decode(0xC0, 0x40, 0x00, 0x00), 1.5)
    XCTAssertEqual(DECFloat.decode(0x00, 0x00, 0x00, 0x00), 0)
    // Exponent 255: the largest VAX F, past what "read as IEEE and divide by 4" can give.
    XCTAssertEqual(DECFloat.decode(0xFF, 0x7F, 0xFF, 0xFF), 1.7014117e38, accuracy: 1e32)
    XCTAssertTrue(DECFloat.decode(0xFF, 0x7F, 0xFF, 0xFF).isFinite)
    // Exponent 1: the smallest normal VAX F, 2^-128.
    XCTAssertEqual(DECFloat.decode(0x80, 0x00, 0x00, 0x00), 0x1p-128)
    // Sign with exponent 0 is a reserved operand: no number.
    XCTAssertTrue(DECFloat.decode(0x00, 0x80, 0x00, 0x00).isNaN)
  }

  func testEncodeDecodeRoundTrip() {
    for value: Float in [1, -1, 0.1, 1234.5678, -0.000123, 3.0e30, -6.5e-30, 1200, 0.01] {
      let bytes = DECFloat.encode(value)
      XCTAssertEqual(DECFloat.decode(bytes[0], bytes[1], bytes[2], bytes[3]), value, "\(value)")
    }
  }
}
