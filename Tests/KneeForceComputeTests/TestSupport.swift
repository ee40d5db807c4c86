import Foundation
import KneeForceCompute
import XCTest

/// A test failure thrown (instead of a skip) when OpenCL is required but missing.
struct TestFailure: Error, CustomStringConvertible {
  let description: String
}

/// The backends every compute test runs on: the CPU backend always, and one OpenCL backend on
/// the first OpenCL device (PoCL on CI), created once per process. Without OpenCL the OpenCL
/// variants skip, unless KNEEFORCE_REQUIRE_OPENCL=1 (CI), where they fail.
enum TestBackends {
  static var openCLRequired: Bool {
    ProcessInfo.processInfo.environment["KNEEFORCE_REQUIRE_OPENCL"] == "1"
  }

  static let firstDevice: Result<OpenCLDeviceInfo, Error> = Result {
    guard let device = try listOpenCLDevices().first else {
      throw TestFailure(description: "the OpenCL loader lists no device")
    }
    return device
  }

  static let openCL: Result<OpenCLBackend, Error> = firstDevice.flatMap { device in
    Result { try OpenCLBackend(device: device) }
  }

  static func unavailable(_ error: Error) -> Error {
    let message = "OpenCL unavailable: \(error)"
    if openCLRequired {
      return TestFailure(description: "KNEEFORCE_REQUIRE_OPENCL=1 but \(message)")
    }
    return XCTSkip("\(message) (set KNEEFORCE_REQUIRE_OPENCL=1 to fail instead)")
  }

  /// The shared OpenCL backend, or a skip (a failure when OpenCL is required).
  static func requireOpenCL() throws -> OpenCLBackend {
    switch openCL {
    case .success(let backend): return backend
    case .failure(let error): throw unavailable(error)
    }
  }

  /// The first OpenCL device, or a skip (a failure when OpenCL is required).
  static func requireDevice() throws -> OpenCLDeviceInfo {
    switch firstDevice {
    case .success(let device): return device
    case .failure(let error): throw unavailable(error)
    }
  }
}

/// Runs `body` on the CPU backend, then on the OpenCL backend (which skips, or fails when
/// OpenCL is required, if there is none). Assertion messages name the backend via `tag`.
func forEachBackend(_ body: (ComputeBackend) throws -> Void) throws {
  try body(CPUBackend())
  try body(try TestBackends.requireOpenCL())
}

extension ComputeBackend {
  var tag: String { kind.rawValue }
}

/// `count` uniform floats from the project's seeded generator.
func randoms(_ count: Int, seed: UInt64, in range: ClosedRange<Float> = -1...1) -> [Float] {
  var rng = SplitMix64(seed: seed)
  return (0..<count).map { _ in rng.nextFloat(in: range) }
}

func assertClose(
  _ got: [Float], _ expected: [Float], tolerance: Float = 1e-5, _ what: @autoclosure () -> String,
  file: StaticString = #filePath, line: UInt = #line
) {
  guard got.count == expected.count else {
    XCTFail("\(what()): \(got.count) elements, expected \(expected.count)", file: file, line: line)
    return
  }
  // relativeError alone cannot be trusted with NaN (see SelfCheckTests.testRelativeError).
  if let bad = got.indices.first(where: { !got[$0].isFinite && expected[$0].isFinite }) {
    XCTFail(
      "\(what()): element \(bad) is \(got[bad]), expected \(expected[bad])", file: file, line: line)
    return
  }
  let error = relativeError(got, expected)
  XCTAssert(
    error <= tolerance, "\(what()): max|got - expected| / max|expected| = \(error) > \(tolerance)",
    file: file, line: line)
}

/// Exact equality (copies, permutations, untouched inputs), reported by first difference
/// instead of dumping both arrays.
func assertSame(
  _ got: [Float], _ expected: [Float], _ what: @autoclosure () -> String = "",
  file: StaticString = #filePath, line: UInt = #line
) {
  guard got.count == expected.count else {
    XCTFail("\(what()): \(got.count) elements, expected \(expected.count)", file: file, line: line)
    return
  }
  let differing = got.indices.filter {
    got[$0] != expected[$0] && !(got[$0].isNaN && expected[$0].isNaN)
  }
  if let first = differing.first {
    XCTFail(
      "\(what()): \(differing.count) of \(got.count) elements differ, first at \(first): "
        + "\(got[first]) instead of \(expected[first])", file: file, line: line)
  }
}

/// How many elements differ (exactly) between two arrays of the same size.
func changedCount(_ a: [Float], _ b: [Float]) -> Int {
  zip(a, b).filter { $0 != $1 }.count
}

/// A tensor uploaded at a nonzero offset inside a larger buffer, between sentinel guards, so
/// every read also proves that the op honoured the slice offset and wrote nothing outside.
struct Placed {
  static let guards: [Float] = [-123.25, 456.5, -789.75]
  let backend: ComputeBackend
  let buffer: DeviceBuffer
  let count: Int

  init(_ values: [Float], on backend: ComputeBackend) throws {
    self.backend = backend
    count = values.count
    buffer = try backend.makeBuffer(Self.guards + values + Self.guards)
  }

  var slice: BufferSlice { BufferSlice(buffer, offset: Self.guards.count) }

  /// The values inside the slice; fails the test if a guard changed.
  func read(file: StaticString = #filePath, line: UInt = #line) throws -> [Float] {
    let all = try backend.download(buffer)
    let pad = Self.guards.count
    XCTAssertEqual(
      Array(all.prefix(pad)), Self.guards, "\(backend.tag): wrote before the slice", file: file,
      line: line)
    XCTAssertEqual(
      Array(all.suffix(pad)), Self.guards, "\(backend.tag): wrote past the slice", file: file,
      line: line)
    return Array(all[pad..<(pad + count)])
  }
}
