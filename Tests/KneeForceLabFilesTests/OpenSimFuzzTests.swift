import Foundation
import XCTest

@testable import KneeForceLabFiles

/// Random damage to small .trc and .sto files, seeded and bounded: a file or a
/// LabFileError with a line, never a trap.
final class OpenSimFuzzTests: XCTestCase {
  func testDamagedTextFilesGiveErrorsNotCrashes() {
    let trc = OpenSimFormatTests.smallTRC
    let sto = OpenSimFormatTests.version1
    var random = C3DFuzzTests.SplitMix(state: 7)
    let pieces = ["\t", "\n", "=", "x", "-", "1e400", "nan", "", " ", "endheader", "nRows=-1"]
    var rejected = 0
    for iteration in 0..<2000 {
      var text = Array(iteration % 2 == 0 ? trc : sto)
      for _ in 0..<(1 + random.below(4)) {
        guard !text.isEmpty else { break }
        let at = random.below(text.count)
        switch random.below(3) {
        case 0: text.remove(at: at)
        case 1: text.insert(contentsOf: pieces[random.below(pieces.count)], at: at)
        default: text = Array(text[0..<at])
        }
      }
      let data = Data(String(text).utf8)
      do {
        if iteration % 2 == 0 {
          _ = try TRCFile.parse(data, name: "f.trc")
        } else {
          _ = try STOFile.parse(data, name: "f.sto")
        }
      } catch let error as LabFileError {
        rejected += 1
        if case .line(let line, let column) = error.location {
          XCTAssertGreaterThanOrEqual(line, 1, error.description)
          XCTAssertGreaterThanOrEqual(column, 1, error.description)
        } else {
          XCTFail("no line in \(error)")
        }
      } catch {
        XCTFail("iteration \(iteration): \(error) is not a LabFileError")
      }
    }
    XCTAssertGreaterThan(rejected, 300)
  }
}
