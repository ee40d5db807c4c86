import Foundation
import KneeForceCompute
import KneeForceTestSupport
import XCTest

final class DeviceSelectionTests: XCTestCase {
  func testParsing() {
    XCTAssertEqual(DeviceSelection(argument: "auto"), .auto)
    XCTAssertEqual(DeviceSelection(argument: "cpu"), .cpu)
    XCTAssertEqual(DeviceSelection(argument: "CPU"), .cpu)
    XCTAssertEqual(DeviceSelection(argument: "opencl"), .opencl(index: nil))
    XCTAssertEqual(DeviceSelection(argument: "gpu"), .opencl(index: nil))
    XCTAssertEqual(DeviceSelection(argument: "opencl:0"), .opencl(index: 0))
    XCTAssertEqual(DeviceSelection(argument: "opencl:2"), .opencl(index: 2))
    XCTAssertEqual(DeviceSelection(argument: "OpenCL:12"), .opencl(index: 12))
    for bad in [
      "", "cuda", "opencl:", "opencl:-1", "opencl:x", "opencl:1:2", "opencl:1.5", " cpu",
      "cpu ", "opencl2", "auto:0",
    ] {
      XCTAssertNil(DeviceSelection(argument: bad), "'\(bad)' should not parse")
    }
    for selection in [DeviceSelection.auto, .cpu, .opencl(index: nil), .opencl(index: 3)] {
      XCTAssertEqual(DeviceSelection(argument: selection.description), selection)
    }
  }

  func testMakeBackendInProcess() throws {
    XCTAssertEqual(try makeBackend(.cpu).kind, .cpu)
    let devices = (try? listOpenCLDevices()) ?? []
    // auto prefers a GPU or accelerator; a CPU OpenCL (PoCL) loses to the CPU backend.
    var warnings: [String] = []
    let auto = try makeBackend(.auto) { warnings.append($0) }
    XCTAssertEqual(auto.kind, devices.contains { $0.isGPUOrAccelerator } ? .opencl : .cpu)
    XCTAssertEqual(warnings, [])
    _ = try TestBackends.requireDevice()
    XCTAssertEqual(try makeBackend(.opencl(index: 0)).kind, .opencl)
    XCTAssertEqual(try makeBackend(.opencl(index: nil)).kind, .opencl)
    XCTAssertThrowsError(try makeBackend(.opencl(index: devices.count))) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("there are \(devices.count) OpenCL device(s)"), text)
    }
  }

  /// With no OpenCL ICD at all: auto quietly runs on the CPU, an explicit opencl fails.
  func testFallbackWithoutOpenCL() throws {
    let empty = try temporaryDirectory("no-icd")
    defer { try? FileManager.default.removeItem(at: empty) }
    let environment = ["OCL_ICD_VENDORS": empty.path, "OPENCL_VENDOR_PATH": empty.path]

    let auto = try runKneeforce(["devices", "--device", "auto"], environment: environment)
    XCTAssertEqual(auto.status, 0, auto.stdout + auto.stderr)
    XCTAssertTrue(auto.stdout.contains("--device auto -> cpu"), auto.stdout)
    XCTAssertTrue(auto.stdout.contains("self-check: passed"), auto.stdout)

    let openCL = try runKneeforce(["devices", "--device", "opencl"], environment: environment)
    XCTAssertNotEqual(openCL.status, 0, openCL.stdout)
    XCTAssertTrue(openCL.stderr.contains("OpenCL is not available"), openCL.stderr)
    XCTAssertFalse(openCL.stdout.contains("->"), "no backend may be chosen: \(openCL.stdout)")

    let listing = try runKneeforce(["devices"], environment: environment)
    XCTAssertEqual(listing.status, 0, listing.stdout + listing.stderr)
    XCTAssertTrue(listing.stdout.contains("OpenCL unavailable: "), listing.stdout)
  }

  func testExplicitDeviceSelections() throws {
    let cpu = try runKneeforce(["devices", "--device", "cpu"])
    XCTAssertEqual(cpu.status, 0, cpu.stdout + cpu.stderr)
    XCTAssertTrue(cpu.stdout.contains("--device cpu -> cpu"), cpu.stdout)

    let bad = try runKneeforce(["devices", "--device", "cuda"])
    XCTAssertEqual(bad.status, 64, "a usage error: \(bad.stderr)")
    XCTAssertTrue(bad.stderr.contains("'cuda' is invalid for '--device"), bad.stderr)
    XCTAssertTrue(bad.stderr.contains("auto | cpu | opencl[:INDEX]"), bad.stderr)
    XCTAssertTrue(bad.stderr.contains("Usage: kneeforce devices"), bad.stderr)

    _ = try TestBackends.requireDevice()
    let devices = try listOpenCLDevices()
    let first = try runKneeforce(["devices", "--device", "opencl:0"])
    XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
    XCTAssertTrue(first.stdout.contains("--device opencl:0 -> opencl"), first.stdout)
    XCTAssertTrue(first.stdout.contains("self-check: passed"), first.stdout)

    let missing = try runKneeforce(["devices", "--device", "opencl:99"])
    XCTAssertNotEqual(missing.status, 0, missing.stdout)
    XCTAssertTrue(
      missing.stderr.contains("there are \(devices.count) OpenCL device(s)"), missing.stderr)
  }

  /// An OpenCL platform that lists no device (PoCL with POCL_DEVICES=none here; an ICD whose
  /// driver is not loaded in the wild): `--device opencl` must fail with a message, not crash,
  /// and `auto` must run on the CPU.
  func testPlatformWithoutDevices() throws {
    _ = try TestBackends.requireDevice()
    let devices = try listOpenCLDevices()
    guard devices.allSatisfy({ $0.platformName.contains("Portable Computing Language") }) else {
      throw XCTSkip("needs PoCL as the only OpenCL platform (POCL_DEVICES=none empties it)")
    }
    let environment = ["POCL_DEVICES": "none"]
    let auto = try runKneeforce(["devices", "--device", "auto"], environment: environment)
    XCTAssertEqual(auto.status, 0, auto.stdout + auto.stderr)
    XCTAssertTrue(auto.stdout.contains("--device auto -> cpu"), auto.stdout)
    for argument in ["opencl", "opencl:0"] {
      let run = try runKneeforce(["devices", "--device", argument], environment: environment)
      XCTAssertEqual(run.reason, .exit, "--device \(argument) crashed: \(run.stderr.prefix(300))")
      XCTAssertNotEqual(run.status, 0, "--device \(argument) with no device")
      XCTAssertTrue(
        run.stderr.hasPrefix("error: --device \(argument)"), String(run.stderr.prefix(300)))
    }
  }
}
