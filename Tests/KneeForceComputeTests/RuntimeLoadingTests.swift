import Foundation
import KneeForceTestSupport
import XCTest

/// OpenCL and CLBlast are opened at run time, so one executable runs on nodes without them.
/// These tests run the real `kneeforce` executable.
final class RuntimeLoadingTests: XCTestCase {
  func run(_ tool: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
  }

  /// The executable names neither library among its dependencies; CBLAS stays linked.
  func testExecutableLinksNeitherOpenCLNorCLBlast() throws {
    let executable = try kneeforceExecutable()
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ldd") else {
      throw XCTSkip("no /usr/bin/ldd")
    }
    let listing = try run("/usr/bin/ldd", [executable.path])
    XCTAssertTrue(listing.contains("libopenblas"), "ldd did not list the executable:\n\(listing)")
    XCTAssertFalse(listing.lowercased().contains("libopencl"), listing)
    XCTAssertFalse(listing.contains("libclblast"), listing)
  }

  /// Each library pointed at a missing file: `devices` says why, `--device auto` runs on the
  /// CPU with exactly one warning, `--device opencl` fails with the reason.
  func testMissingLibraryFallsBackUnderAutoAndFailsUnderOpenCL() throws {
    for variable in ["KNEEFORCE_OPENCL_LIBRARY", "KNEEFORCE_CLBLAST_LIBRARY"] {
      let missing = "/nonexistent/kneeforce-test/\(variable).so"
      let environment = [variable: missing]

      let listing = try runKneeforce(["devices", "--no-check"], environment: environment)
      XCTAssertEqual(listing.status, 0, listing.output)
      XCTAssertTrue(listing.stdout.contains("CPU backend"), listing.stdout)
      XCTAssertTrue(listing.stdout.contains("OpenCL unavailable: \(missing)"), listing.stdout)
      XCTAssertTrue(listing.stdout.contains(variable), listing.stdout)

      let auto = try runKneeforce(["devices", "--device", "auto"], environment: environment)
      XCTAssertEqual(auto.status, 0, auto.output)
      XCTAssertTrue(auto.stdout.contains("--device auto -> cpu"), auto.stdout)
      XCTAssertTrue(auto.stdout.contains("self-check: passed"), auto.stdout)
      let warnings = auto.stderr.split(separator: "\n").filter { $0.hasPrefix("warning:") }
      XCTAssertEqual(warnings.count, 1, auto.stderr)
      XCTAssertTrue(
        warnings.first?.contains("OpenCL unavailable, running on the CPU: \(missing)") ?? false,
        auto.stderr)

      let openCL = try runKneeforce(["devices", "--device", "opencl"], environment: environment)
      XCTAssertEqual(openCL.reason, .exit, openCL.stderr)
      XCTAssertEqual(openCL.status, 1, openCL.output)
      XCTAssertTrue(
        openCL.stderr.hasPrefix("error: --device opencl: OpenCL unavailable: \(missing)"),
        openCL.stderr)
      XCTAssertFalse(openCL.stdout.contains("->"), "no backend may be chosen: \(openCL.stdout)")
    }
  }

  /// A library that opens but lacks an entry point (OpenBLAS standing in for CLBlast).
  func testLibraryWithoutEntryPoint() throws {
    let environment = ["KNEEFORCE_CLBLAST_LIBRARY": "libopenblas.so.0"]
    let listing = try runKneeforce(["devices", "--no-check"], environment: environment)
    XCTAssertEqual(listing.status, 0, listing.output)
    XCTAssertTrue(
      listing.stdout.contains("OpenCL unavailable: CLBlast has no entry point CLBlastSgemm"),
      listing.stdout)
    let openCL = try runKneeforce(["devices", "--device", "opencl:0"], environment: environment)
    XCTAssertEqual(openCL.status, 1, openCL.output)
    XCTAssertTrue(openCL.stderr.contains("no entry point CLBlastSgemm"), openCL.stderr)
  }
}
