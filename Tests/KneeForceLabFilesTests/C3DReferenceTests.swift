import Foundation
import XCTest

@testable import KneeForceLabFiles

/// Our reader against ezc3d and py-c3d on the real lab files, on our re-encodings of them
/// (DEC, SGI/MIPS, integer storage), on the committed synthetic files and on a trial longer
/// than 65535 frames.
final class C3DReferenceTests: XCTestCase {
  func testRealFilesAgreeWithEzc3dAndPyC3D() throws {
    let files = try LabFilesTestData.realC3DFiles()
    XCTAssertFalse(files.isEmpty)
    for url in files {
      let name = url.deletingPathExtension().lastPathComponent
      let file = try C3DFile.read(url)
      let reference = try LabFilesTestData.reference(name)
      XCTAssertEqual(file.processor.rawValue, reference.processor, name)
      XCTAssertEqual(file.storage.rawValue, reference.storage, name)
      XCTAssertFalse(reference.readers.isEmpty, name)
      for (reader, values) in reference.readers.sorted(by: { $0.key < $1.key }) {
        let largest = try C3DReferenceCheck.check(file, against: values, name: "\(name) \(reader)")
        print("largest difference \(name) vs \(reader): \(largest)")
      }
    }
  }

  func testReEncodedRealFilesAgreeWithTheirReferencesAndTheOriginal() throws {
    for url in try LabFilesTestData.realC3DFiles() {
      let base = url.deletingPathExtension().lastPathComponent
      let original = try C3DFile.read(url)
      let originalReference = try LabFilesTestData.reference(base)
      for variant in C3DFixtures.convertedVariants {
        let name = "\(base).\(variant.suffix)"
        let writer = C3DFixtures.converted(
          original, processor: variant.processor, storage: variant.storage)
        let file = try LabFilesTestData.parse(writer, name: name)
        XCTAssertEqual(file.processor, variant.processor, name)
        XCTAssertEqual(file.storage, variant.storage, name)
        let reference = try LabFilesTestData.reference(name)
        XCTAssertEqual(reference.processor, variant.processor.rawValue, name)
        XCTAssertEqual(
          reference.readers["ezc3d"] != nil, variant.processor != .mips,
          "\(name): ezc3d reads Intel and DEC only")
        for (reader, values) in reference.readers.sorted(by: { $0.key < $1.key }) {
          let largest = try C3DReferenceCheck.check(
            file, against: values, name: "\(name) \(reader)")
          print("largest difference \(name) vs \(reader): \(largest)")
        }
        // Against what ezc3d read from the untouched file: points within half our step,
        // analogs within half an analog step of their channel.
        if let values = originalReference.readers["ezc3d"] {
          let largest = try C3DReferenceCheck.check(
            file, against: values, name: "\(name) vs original", checkForcePlates: false,
            quantised: variant.storage == .integer ? writer.analogScales.map(Double.init) : nil,
            referenceReadThisFile: false)
          print("largest difference \(name) vs original ezc3d: \(largest)")
        }
      }
    }
  }

  func testSyntheticFilesAgreeWithEzc3dAndPyC3D() throws {
    for variant in C3DFixtures.syntheticVariants {
      let url = LabFilesTestData.references
        .appendingPathComponent("synthetic/\(variant.name).c3d")
      let file = try C3DFile.read(url)
      XCTAssertEqual(file.processor, variant.processor, variant.name)
      XCTAssertEqual(file.storage, variant.storage, variant.name)
      XCTAssertEqual(file.parameter("POINT", "LABELS2")?.strings, ["Sacrum", "C7 marker"])
      XCTAssertEqual(file.events.filter { $0.source == .header }.map(\.label), ["RHS", "LTO"])
      let reference = try LabFilesTestData.reference(variant.name)
      XCTAssertEqual(reference.readers["ezc3d"] != nil, variant.processor != .mips, variant.name)
      for (reader, values) in reference.readers.sorted(by: { $0.key < $1.key }) {
        let largest = try C3DReferenceCheck.check(
          file, against: values, name: "\(variant.name) \(reader)")
        print("largest difference \(variant.name) vs \(reader): \(largest)")
      }
    }
  }

  /// ezc3d counts 70 041 frames here: past 65535 it reads to the end of the file, padding
  /// included; py-c3d and we take TRIAL:ACTUAL_END_FIELD, 70 000.
  func testTrialLongerThan65535FramesAgreesWithPyC3D() throws {
    let file = try LabFilesTestData.parse(C3DFixtures.longTrial(), name: "long_trial")
    XCTAssertEqual(file.frameCount, 70_000)
    let reference = try LabFilesTestData.reference("long_trial")
    let pyc3d = try XCTUnwrap(reference.readers["py-c3d"])
    try C3DReferenceCheck.check(file, against: pyc3d, name: "long_trial py-c3d")
    XCTAssertEqual(reference.readers["ezc3d"]?.frames, 70_041)
  }

  /// The same trial with its length only in POINT:FRAMES, stored as a float (the TRIAL
  /// fields say 1...1): our reader takes the larger count.
  func testFrameCountFromAFloatPointFrames() throws {
    var writer = C3DFixtures.longTrial()
    writer.groups = [
      C3DWriter.Group(
        name: "TRIAL",
        parameters: [
          .init(name: "ACTUAL_START_FIELD", value: .integers([1, 0], dimensions: [2])),
          .init(name: "ACTUAL_END_FIELD", value: .integers([1, 0], dimensions: [2])),
        ]),
      C3DWriter.Group(
        name: "POINT", parameters: [.init(name: "FRAMES", value: .floats([70_000], dimensions: []))]
      ),
    ]
    let file = try LabFilesTestData.parse(writer, name: "long_trial_point_frames")
    XCTAssertEqual(file.parameter("POINT", "FRAMES")?.type, 4)
    let pyc3d = try XCTUnwrap(try LabFilesTestData.reference("long_trial").readers["py-c3d"])
    try C3DReferenceCheck.check(file, against: pyc3d, name: "long_trial with POINT:FRAMES")
  }

  /// The committed synthetic files are what the test writer makes today, so their
  /// references describe the writer's current output (rerun the script when this fails).
  func testCommittedSyntheticFilesMatchTheWriter() throws {
    for variant in C3DFixtures.syntheticVariants {
      let url = LabFilesTestData.references
        .appendingPathComponent("synthetic/\(variant.name).c3d")
      let committed = try [UInt8](Data(contentsOf: url))
      let written = C3DFixtures.synthetic(
        variant.processor, variant.storage, unsigned: variant.unsigned
      )
      .bytes()
      XCTAssertEqual(committed, written, "\(variant.name): run scripts/make_c3d_references.py")
    }
  }

  /// 255 channels at 300 samples per frame: 76 500 analog words per frame do not fit the
  /// header's 16 bits (it holds 76 500 - 65 536); the rates give the count.
  func testAnalogWordsPerFramePastTheHeadersSixteenBits() throws {
    var writer = C3DWriter()
    writer.pointRate = 10
    writer.analogSamplesPerFrame = 300
    writer.frameCount = 2
    writer.analogLabels = (1...255).map { "A\($0)" }
    writer.analogUnits = [String](repeating: "V", count: 255)
    writer.analogScales = [Float](repeating: 1, count: 255)
    writer.analogOffsets = [Int16](repeating: 0, count: 255)
    writer.analogRaw = (0..<(2 * 300 * 255)).map { Float($0 % 977) }
    let bytes = writer.bytes()
    XCTAssertEqual(Int(bytes[4]) | Int(bytes[5]) << 8, 76_500 - 65_536)
    let file = try C3DFile.parse(Data(bytes), name: "wide.c3d")
    XCTAssertEqual(file.analogSamplesPerFrame, 300)
    XCTAssertEqual(file.analogSampleCount, 600)
    XCTAssertEqual(file.analogRate, 3000)
    XCTAssertEqual(file.analog(sample: 599, channel: 254), Double((2 * 300 * 255 - 1) % 977))
    XCTAssertEqual(file.analog(sample: 1, channel: 2), Double(257 % 977))
  }
}
