import Foundation
import KneeForceTestSupport
import XCTest

@testable import KneeForceCompute

/// The kernels compiled into the binary are the files in Kernels/: editing a kernel without
/// running scripts/embed-kernels.sh fails here.
final class EmbeddedKernelsTests: XCTestCase {
  let kernelsDirectory = repositoryRoot.appendingPathComponent("Kernels")
  let hint = "Kernels/ and EmbeddedKernels.swift differ: run scripts/embed-kernels.sh"

  func kernelFiles() throws -> [String: String] {
    let names = try FileManager.default.contentsOfDirectory(atPath: kernelsDirectory.path)
      .filter { $0.hasSuffix(".cl") }
    var files: [String: String] = [:]
    for name in names {
      files[name] = try String(
        contentsOf: kernelsDirectory.appendingPathComponent(name), encoding: .utf8)
    }
    return files
  }

  func testEmbeddedSourcesMatchKernelFiles() throws {
    let files = try kernelFiles()
    XCTAssertTrue(
      files.keys.contains("common.cl"), "no Kernels/common.cl at \(kernelsDirectory.path)")
    XCTAssertEqual(embeddedKernelSources.keys.sorted(), files.keys.sorted(), "\(hint) (file set)")
    for (name, text) in files.sorted(by: { $0.key < $1.key }) {
      // The generator's raw string literal drops the file's final newline.
      let embedded = embeddedKernelSources[name].map { $0 + "\n" }
      XCTAssertEqual(embedded, text, "\(hint) (\(name))")
    }
  }

  func testEmbeddedLoadOrder() throws {
    let (source, origin) = try KernelSources.load(environment: [:])
    XCTAssertEqual(origin, "embedded")
    let headers = source.split(separator: "\n").filter { $0.hasPrefix("// ---- ") }
      .map { String($0.dropFirst(8)) }
    XCTAssertEqual(headers.first, "common.cl", "common.cl comes first (helpers)")
    XCTAssertEqual(Array(headers.dropFirst()), headers.dropFirst().sorted())
    XCTAssertEqual(Set(headers), Set(embeddedKernelSources.keys))
    for name in embeddedKernelSources.keys {
      XCTAssertTrue(source.contains(embeddedKernelSources[name]!), name)
    }
  }

  /// KNEEFORCE_KERNELS_DIR pointed at Kernels/ gives the very source that is embedded.
  func testOverrideDirectoryGivesSameSource() throws {
    let embedded = try KernelSources.load(environment: [:])
    let overridden = try KernelSources.load(environment: [
      KernelSources.overrideVariable: kernelsDirectory.path
    ])
    XCTAssertEqual(overridden.origin, kernelsDirectory.path)
    XCTAssertTrue(
      overridden.source == embedded.source,
      "KNEEFORCE_KERNELS_DIR=Kernels/ must compile the same source as the embedded kernels; "
        + firstDifference(overridden.source, embedded.source))
    // An empty override is ignored.
    XCTAssertEqual(
      try KernelSources.load(environment: [KernelSources.overrideVariable: ""]).origin, "embedded")
  }

  /// Where two sources first differ, by line, for a readable failure message.
  func firstDifference(_ a: String, _ b: String) -> String {
    let (la, lb) = (a.components(separatedBy: "\n"), b.components(separatedBy: "\n"))
    for i in 0..<max(la.count, lb.count) {
      let (x, y) = (i < la.count ? la[i] : "<end>", i < lb.count ? lb[i] : "<end>")
      if x != y {
        return
          "first difference at line \(i + 1): override \(x.debugDescription), embedded \(y.debugDescription)"
      }
    }
    return "no difference"
  }

  func testOverrideWithoutCommonFails() throws {
    let directory = try temporaryDirectory("kernels")
    defer { try? FileManager.default.removeItem(at: directory) }
    try "__kernel void k() {}\n".write(
      to: directory.appendingPathComponent("only.cl"), atomically: true, encoding: .utf8)
    XCTAssertThrowsError(
      try KernelSources.load(environment: [KernelSources.overrideVariable: directory.path])
    ) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("common.cl"), text)
      XCTAssertTrue(text.contains(KernelSources.overrideVariable), text)
    }
    let missing = directory.appendingPathComponent("does-not-exist").path
    XCTAssertThrowsError(
      try KernelSources.load(environment: [KernelSources.overrideVariable: missing])
    ) { error in
      XCTAssertTrue("\(error)".contains("not a readable folder"), "\(error)")
    }
  }
}
