import Foundation
import KneeForceCompute
import XCTest

/// The backends every model test runs on: the CPU backend always, and the first OpenCL device
/// (PoCL on CI) when there is one. With KNEEFORCE_REQUIRE_OPENCL=1 (CI), a missing OpenCL
/// device fails the tests instead of skipping them.
enum TestBackends {
  static let cpu = CPUBackend()
  static let opencl: Result<OpenCLBackend, Error> = Result {
    guard let device = try listOpenCLDevices().first else {
      throw DeviceSelectionError(description: "no OpenCL device")
    }
    return try OpenCLBackend(device: device)
  }

  static func all(file: StaticString = #filePath, line: UInt = #line) throws
    -> [ComputeBackend]
  {
    switch opencl {
    case .success(let backend): return [cpu, backend]
    case .failure(let error):
      if ProcessInfo.processInfo.environment["KNEEFORCE_REQUIRE_OPENCL"] == "1" {
        XCTFail(
          "OpenCL required (KNEEFORCE_REQUIRE_OPENCL=1) but unavailable: \(error)",
          file: file, line: line)
      }
      return [cpu]
    }
  }
}

func fixtureURL(_ name: String) -> URL {
  Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
}

func assertClose(
  _ ours: [Float], _ reference: [Float], _ what: String, tolerance: Float = 1e-4,
  file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(ours.count, reference.count, "\(what): element count", file: file, line: line)
  guard ours.count == reference.count else { return }
  let error = relativeError(ours, reference)
  XCTAssert(
    error <= tolerance, "\(what): max|ours - ref| / max|ref| = \(error) > \(tolerance)",
    file: file, line: line)
}
