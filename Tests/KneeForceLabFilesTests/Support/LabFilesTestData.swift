import Foundation
import KneeForceTestSupport
import XCTest

@testable import KneeForceLabFiles

/// Where the tests find their inputs: committed references in the bundle, the real lab
/// files in ../shared (tests that need them skip, with a message, when it is absent).
enum LabFilesTestData {
  static var sharedGrandChallenge: URL {
    repositoryRoot.deletingLastPathComponent().appendingPathComponent(
      "shared/data/grand-challenge")
  }

  static func requireShared() throws -> URL {
    let url = sharedGrandChallenge
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw XCTSkip("\(url.path) is absent: the real lab files are not on this machine")
    }
    return url
  }

  /// Every .c3d under ../shared/data/grand-challenge, sorted by path.
  static func realC3DFiles() throws -> [URL] {
    let root = try requireShared()
    let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
    var files: [URL] = []
    while let url = enumerator?.nextObject() as? URL {
      if url.pathExtension == "c3d" { files.append(url) }
    }
    return files.sorted { $0.path < $1.path }
  }

  static var references: URL {
    Bundle.module.resourceURL!.appendingPathComponent("References")
  }

  static func reference(_ name: String) throws -> C3DReference {
    let url = references.appendingPathComponent("\(name).json")
    guard FileManager.default.fileExists(atPath: url.path) else {
      XCTFail("no committed reference \(url.lastPathComponent); run scripts/make_c3d_references.py")
      throw XCTSkip("missing reference \(name)")
    }
    return try JSONDecoder().decode(C3DReference.self, from: Data(contentsOf: url))
  }

  static func parse(_ writer: C3DWriter, name: String) throws -> C3DFile {
    try C3DFile.parse(Data(writer.bytes()), name: name)
  }
}

/// What scripts/make_c3d_references.py records for one file, per reading library.
struct C3DReference: Decodable {
  struct Reader: Decodable {
    let version: String
    let point_labels: [String]
    let analog_labels: [String]
    let point_rate: Double
    let analog_rate: Double
    let first_frame: Int
    let frames: Int
    let analog_samples: Int
    /// frame, point, x, y, z (nil = invalid)
    let points: [[Double?]]
    /// sample, channel, value
    let analogs: [[Double]]
    /// per point: sums of x, y, z over its valid frames, and their count
    let point_sums: [[Double]]?
    /// per channel: sum and sum of absolute values over every sample
    let analog_sums: [[Double]]?
    let force_plates: [Plate]?
    let events: [Event]?
  }
  struct Plate: Decodable {
    let index: Int
    let unit_position: String
    let unit_moment: String
    /// sample, fx, fy, fz, cop x, y, z, tz (lab z component)
    let samples: [[Double?]]
  }
  struct Event: Decodable {
    let label: String
    let context: String
    let time: Double
  }
  let file: String
  let processor: String
  let storage: String
  let point_scale: Double
  let readers: [String: Reader]
}
