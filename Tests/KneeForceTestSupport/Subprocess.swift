// Helpers shared by the test targets that run the `kneeforce` executable.
import Foundation
import XCTest

/// The directory of the repository this test file belongs to.
public let repositoryRoot = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

public func temporaryDirectory(_ name: String) throws -> URL {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("kneeforce-\(name)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// The `kneeforce` executable built with these tests: it sits next to the test bundle
/// (`<scratch>/debug/KneeForcePackageTests.xctest` on Linux). Falls back to the newest
/// `.build*/*/kneeforce` of the repository; skips with a message when there is none.
public func kneeforceExecutable() throws -> URL {
  let fm = FileManager.default
  var candidates: [URL] = []
  let bundle = Bundle.main.bundleURL
  candidates.append(bundle.appendingPathComponent("kneeforce"))
  candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("kneeforce"))
  if let argument = CommandLine.arguments.first {
    let binary = URL(fileURLWithPath: argument).standardizedFileURL
    candidates.append(binary.deletingLastPathComponent().appendingPathComponent("kneeforce"))
    // macOS: <scratch>/debug/KneeForcePackageTests.xctest/Contents/MacOS/KneeForcePackageTests
    for ancestor in 1...4 {
      var url = binary
      for _ in 0..<ancestor { url.deleteLastPathComponent() }
      if url.pathExtension == "xctest" {
        candidates.append(url.deletingLastPathComponent().appendingPathComponent("kneeforce"))
      }
    }
  }
  for test in Bundle.allBundles where test.bundleURL.pathExtension == "xctest" {
    candidates.append(
      test.bundleURL.deletingLastPathComponent().appendingPathComponent("kneeforce"))
  }
  if let found = candidates.first(where: { fm.isExecutableFile(atPath: $0.path) }) {
    return found
  }
  let builds = (try? fm.contentsOfDirectory(atPath: repositoryRoot.path)) ?? []
  var newest: (URL, Date)?
  for build in builds where build.hasPrefix(".build") {
    for configuration in ["debug", "release"] {
      let url = repositoryRoot.appendingPathComponent("\(build)/\(configuration)/kneeforce")
      guard fm.isExecutableFile(atPath: url.path),
        let date = (try? fm.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
      else { continue }
      if newest == nil || date > newest!.1 { newest = (url, date) }
    }
  }
  if let newest { return newest.0 }
  throw XCTSkip(
    "kneeforce executable not found next to the test bundle (\(candidates.map(\.path))); "
      + "build it with `swift build` first")
}

public struct ProcessResult {
  public let reason: Process.TerminationReason
  public let status: Int32
  public let stdout: String
  public let stderr: String
  public var output: String { stdout + stderr }
}

/// Runs `kneeforce` with `arguments`, the test's environment plus `environment`.
public func runKneeforce(_ arguments: [String], environment: [String: String] = [:]) throws
  -> ProcessResult
{
  let executable = try kneeforceExecutable()
  let directory = try temporaryDirectory("process")
  defer { try? FileManager.default.removeItem(at: directory) }
  let outURL = directory.appendingPathComponent("stdout")
  let errURL = directory.appendingPathComponent("stderr")
  try Data().write(to: outURL)
  try Data().write(to: errURL)
  let out = try FileHandle(forWritingTo: outURL)
  let err = try FileHandle(forWritingTo: errURL)
  let process = Process()
  process.executableURL = executable
  process.arguments = arguments
  process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  process.standardOutput = out
  process.standardError = err
  try process.run()
  process.waitUntilExit()
  try out.close()
  try err.close()
  return ProcessResult(
    reason: process.terminationReason, status: process.terminationStatus,
    stdout: try String(contentsOf: outURL, encoding: .utf8),
    stderr: try String(contentsOf: errURL, encoding: .utf8))
}
