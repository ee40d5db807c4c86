import Foundation
import XCTest

@testable import KneeForceLabFiles

/// Random damage to valid files, seeded and bounded: every outcome is a file or a
/// LabFileError. A trap (overflow, bad index) would end the test process, failing CI.
final class C3DFuzzTests: XCTestCase {
  struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
  }

  func testDamagedFilesGiveErrorsNotCrashes() throws {
    let seeds: [[UInt8]] = [
      C3DFixtures.synthetic(.intel, .float).bytes(),
      C3DFixtures.synthetic(.mips, .integer).bytes(),
      C3DFixtures.synthetic(.dec, .float).bytes(),
    ]
    var random = SplitMix(state: 20_261_201)
    let iterations = 1000
    var parsed = 0
    var rejected = 0
    let start = Date()
    for iteration in 0..<iterations {
      var bytes = seeds[iteration % seeds.count]
      // Header and parameter section are where counts and offsets live.
      let hotEnd = 512 * (Int(bytes[512 + 2]) + 1)
      for _ in 0..<(1 + random.below(6)) {
        let hot = min(bytes.count, hotEnd)
        switch random.below(5) {
        case 0: bytes[random.below(hot)] = UInt8(truncatingIfNeeded: random.next())
        case 1:
          let at = random.below(hot - 1)
          let extreme: [UInt16] = [0, 0x7fff, 0x8000, 0xffff, 1]
          let word = extreme[random.below(extreme.count)]
          bytes[at] = UInt8(word & 0xff)
          bytes[at + 1] = UInt8(word >> 8)
        case 2: bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.next())
        case 3: bytes = Array(bytes[0..<random.below(bytes.count)])
        default: bytes[random.below(min(bytes.count, 520))] ^= 0x80
        }
        if bytes.count < 3 { break }
      }
      do {
        let file = try C3DFile.parse(Data(bytes), name: "fuzz-\(iteration).c3d")
        _ = try? C3DSummary(file)
        _ = try? file.forcePlates()
        parsed += 1
      } catch is LabFileError {
        rejected += 1
      } catch {
        XCTFail("iteration \(iteration): \(error) is not a LabFileError")
      }
    }
    XCTAssertEqual(parsed + rejected, iterations)
    XCTAssertGreaterThan(rejected, iterations / 10, "the damage should break many files")
    print(
      "fuzz: \(iterations) damaged files, \(parsed) read, \(rejected) rejected, "
        + String(format: "%.1f s", Date().timeIntervalSince(start)))
  }
}
