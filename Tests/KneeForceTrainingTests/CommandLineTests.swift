import Foundation
import KneeForceCompute
import XCTest

/// The `kneeforce` executable end to end. `kneeforce demo` trains for minutes in a debug
/// build, so it is left to manual runs; everything else here takes seconds.
final class CommandLineTests: XCTestCase {
  func testSynthThenCheckSucceedsAndSaysSynthetic() throws {
    let folder = try makeTemporaryFolder("synth")
    defer { try? FileManager.default.removeItem(at: folder) }
    let synth = try kneeforce(["synth", "--out", folder.path, "--subjects", "2", "--trials", "1"])
    XCTAssertEqual(synth.status, 0, synth.output)
    XCTAssertTrue(synth.stdout.contains("SYNTHETIC"), synth.stdout)
    XCTAssertTrue(
      FileManager.default.fileExists(atPath: folder.appendingPathComponent("manifest.csv").path))

    let check = try kneeforce(["check", folder.path])
    XCTAssertEqual(check.status, 0, check.output)
    XCTAssertTrue(check.stdout.contains("SYNTHETIC"), check.stdout)
    XCTAssertTrue(check.stdout.contains("2 subjects"), check.stdout)
    XCTAssertFalse(check.stdout.contains(": error:"), check.stdout)
  }

  func testCheckNamesAMissingManifestColumn() throws {
    let folder = try makeTemporaryFolder("nocolumn")
    defer { try? FileManager.default.removeItem(at: folder) }
    let synth = try kneeforce(["synth", "--out", folder.path, "--subjects", "2", "--trials", "1"])
    XCTAssertEqual(synth.status, 0, synth.output)
    // Drop the body_weight_n column from every row of the manifest.
    let manifest = folder.appendingPathComponent("manifest.csv")
    let lines = try String(contentsOf: manifest, encoding: .utf8)
      .split(separator: "\n", omittingEmptySubsequences: false)
    let header = lines[0].split(separator: ",", omittingEmptySubsequences: false)
    let column = try XCTUnwrap(header.firstIndex(of: "body_weight_n"))
    let stripped = lines.map { line -> String in
      guard !line.isEmpty else { return "" }
      var fields = line.split(separator: ",", omittingEmptySubsequences: false)
      fields.remove(at: column)
      return fields.joined(separator: ",")
    }
    try stripped.joined(separator: "\n").write(to: manifest, atomically: true, encoding: .utf8)

    let check = try kneeforce(["check", folder.path])
    XCTAssertNotEqual(check.status, 0, check.output)
    let problem = check.output.split(separator: "\n").first { $0.contains("manifest.csv:1:") }
    let line = try XCTUnwrap(problem, "no manifest.csv:1: diagnostic in\n\(check.output)")
    XCTAssertTrue(line.contains("error"), String(line))
    XCTAssertTrue(line.contains("body_weight_n"), String(line))
  }

  func testForwardMatchesTheFixture() throws {
    let checkpoint = modelFixture("tcn_small.ckpt.safetensors")
    let io = modelFixture("tcn_small.io.safetensors")
    let folder = try makeTemporaryFolder("forward")
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("out.safetensors")
    let run = try kneeforce([
      "forward", "--checkpoint", checkpoint.path, "--input", io.path, "--output", output.path,
      "--device", "cpu",
    ])
    XCTAssertEqual(run.status, 0, run.output)
    let size = try FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int
    XCTAssertGreaterThan(size ?? 0, 0)

    let ours = try readF32Tensors(output)
    let reference = try readF32Tensors(io)
    let gradients = reference.keys.filter { $0.hasPrefix("grad.") }.sorted()
    XCTAssertFalse(gradients.isEmpty)
    XCTAssertEqual(ours.keys.sorted(), (["dx", "y"] + gradients).sorted())
    for name in ["y", "dx"] + gradients {
      let (a, b) = (try XCTUnwrap(ours[name], name), try XCTUnwrap(reference[name], name))
      XCTAssertEqual(a.shape, b.shape, name)
      guard a.values.count == b.values.count else { continue }
      let error = maxRelativeError(a.values, b.values)
      XCTAssertLessThanOrEqual(error, 1e-4, "\(name): relative error \(error)")
    }
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    XCTAssertEqual(names, ["out.safetensors"], "no temporary files left")
  }

  func testForwardOnAMissingOpenCLDeviceNamesTheCount() throws {
    let folder = try makeTemporaryFolder("nodevice")
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("out.safetensors")
    let run = try kneeforce([
      "forward", "--checkpoint", modelFixture("tcn_small.ckpt.safetensors").path,
      "--input", modelFixture("tcn_small.io.safetensors").path, "--output", output.path,
      "--device", "opencl:99",
    ])
    XCTAssertNotEqual(run.status, 0, run.output)
    XCTAssertTrue(run.stderr.contains("opencl:99"), run.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: output.path))
    if let devices = try? listOpenCLDevices(), !devices.isEmpty {
      XCTAssertTrue(
        run.stderr.contains("there are \(devices.count) OpenCL device(s)"), run.stderr)
    } else {
      XCTAssertTrue(run.stderr.contains("OpenCL"), run.stderr)
    }
  }
}
