import Foundation
import XCTest

@testable import KneeForceLabFiles

/// Writes the files that scripts/make_c3d_references.py has ezc3d and py-c3d read: run by
/// that script with KNEEFORCE_C3D_REFERENCE_INPUTS=DIR, skipped otherwise.
final class ReferenceInputWriter: XCTestCase {
  func testWriteReferenceInputsWhenAsked() throws {
    guard let path = ProcessInfo.processInfo.environment["KNEEFORCE_C3D_REFERENCE_INPUTS"] else {
      throw XCTSkip("set KNEEFORCE_C3D_REFERENCE_INPUTS=DIR to write the reference inputs")
    }
    let folder = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var writers: [(String, C3DWriter)] = C3DFixtures.syntheticVariants.map {
      ($0.name, C3DFixtures.synthetic($0.processor, $0.storage, unsigned: $0.unsigned))
    }
    writers.append(("long_trial", C3DFixtures.longTrial()))
    if FileManager.default.fileExists(atPath: LabFilesTestData.sharedGrandChallenge.path) {
      for url in try LabFilesTestData.realC3DFiles() {
        let file = try C3DFile.read(url)
        let base = url.deletingPathExtension().lastPathComponent
        for variant in C3DFixtures.convertedVariants {
          writers.append(
            (
              "\(base).\(variant.suffix)",
              C3DFixtures.converted(file, processor: variant.processor, storage: variant.storage)
            ))
        }
      }
    }
    for (name, writer) in writers {
      let bytes = writer.bytes()
      try Data(bytes).write(to: folder.appendingPathComponent("\(name).c3d"))
      let back = try C3DFile.parse(Data(bytes), name: name)
      XCTAssertEqual(back.frameCount, writer.frameCount, name)
      XCTAssertEqual(back.pointLabels, writer.pointLabels, name)
    }
  }
}
