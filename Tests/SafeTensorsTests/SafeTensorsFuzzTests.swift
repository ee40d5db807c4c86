import Foundation
import XCTest

@testable import SafeTensors

/// Random, truncated and mutated files never crash the safetensors reader: each either
/// decodes into tensors whose values can be read, or fails with a `SafeTensorsError` that
/// names the file. Seeded and bounded (a few thousand decodes, well under a second).
final class SafeTensorsFuzzTests: XCTestCase {
  private let path = "fuzzed.safetensors"

  /// SplitMix64: a fixed seed reproduces a failure.
  private struct Random {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }
  }

  private func valid() throws -> [UInt8] {
    let file = SafeTensorsFile(
      tensors: [
        "w": Tensor(floats: [1, 2, 3, 4, 5, 6], shape: [2, 3]),
        "b": Tensor(floats: [0.5, -0.5], shape: [2]),
      ],
      metadata: ["format": "pt", "note": "fuzz"])
    return [UInt8](try file.encoded())
  }

  private func assertDecodesOrNamesTheFile(_ bytes: [UInt8], _ context: String) {
    do {
      let decoded = try SafeTensorsFile.decode(Data(bytes), file: path)
      for name in decoded.tensors.keys {
        do {
          _ = try decoded.floats(name, file: path)
        } catch let error as SafeTensorsError {
          XCTAssertTrue(error.description.contains(path), "\(context): \(error)")
        } catch {
          XCTFail("\(context): unexpected error type \(type(of: error)): \(error)")
        }
      }
    } catch let error as SafeTensorsError {
      XCTAssertTrue(error.description.contains(path), "\(context): \(error)")
    } catch {
      XCTFail("\(context): unexpected error type \(type(of: error)): \(error)")
    }
  }

  func testEveryTruncationFailsWithTheFileName() throws {
    let bytes = try valid()
    for cut in 0..<bytes.count {
      assertDecodesOrNamesTheFile(Array(bytes[..<cut]), "cut at \(cut)")
    }
    assertDecodesOrNamesTheFile(bytes, "whole")
  }

  func testMutatedAndRandomFilesNeverTrap() throws {
    var random = Random(state: 8)
    let bytes = try valid()
    let headerEnd = 8 + Int(bytes[0]) + Int(bytes[1]) << 8
    let interesting: [UInt8] = Array("{}[]\":,0123456789-.eE".utf8) + [0, 0xFF, 0x80, 0x5C]
    for i in 0..<1500 {
      var mutated = bytes
      for _ in 0..<(1 + random.below(4)) {
        // Mostly the JSON header, where the structure is.
        let at = random.below(100) < 80 ? random.below(headerEnd) : random.below(mutated.count)
        guard at < mutated.count else { continue }
        switch random.below(4) {
        case 0: mutated[at] = interesting[random.below(interesting.count)]
        case 1: mutated[at] = UInt8(truncatingIfNeeded: random.next())
        case 2: mutated.remove(at: at)
        default: mutated.insert(interesting[random.below(interesting.count)], at: at)
        }
      }
      assertDecodesOrNamesTheFile(mutated, "mutation \(i)")
    }
    for i in 0..<300 {
      var noise = (0..<random.below(64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
      if i % 2 == 0, noise.count >= 8 {
        // A plausible header length, so the JSON parser sees the noise.
        let length = UInt64(noise.count - 8)
        withUnsafeBytes(of: length.littleEndian) { noise.replaceSubrange(0..<8, with: $0) }
      }
      assertDecodesOrNamesTheFile(noise, "random \(i)")
    }
  }
}
