import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceTestSupport
import XCTest

@testable import KneeForceTraining

/// The repository this test file belongs to.
let trainingTestsRepositoryRoot = URL(fileURLWithPath: #filePath)
  .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A fixture of the models' tests, by its path in the repository (not a bundle resource here).
func modelFixture(_ name: String) -> URL {
  trainingTestsRepositoryRoot.appendingPathComponent("Tests/KneeForceModelsTests/Fixtures/\(name)")
}

/// A fresh, empty folder under the temporary directory; the caller removes it.
func makeTemporaryFolder(_ name: String) throws -> URL {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("kneeforce-training-\(name)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// The first OpenCL device as a backend; nil (the test skips) when there is none, unless
/// KNEEFORCE_REQUIRE_OPENCL=1, where a missing device fails the test.
func firstOpenCLBackend(file: StaticString = #filePath, line: UInt = #line) throws
  -> OpenCLBackend
{
  do {
    guard let device = try listOpenCLDevices().first else {
      throw DeviceSelectionError(description: "no OpenCL device")
    }
    return try OpenCLBackend(device: device)
  } catch {
    if ProcessInfo.processInfo.environment["KNEEFORCE_REQUIRE_OPENCL"] == "1" {
      XCTFail(
        "OpenCL required (KNEEFORCE_REQUIRE_OPENCL=1) but unavailable: \(error)", file: file,
        line: line)
    }
    throw XCTSkip("no usable OpenCL device: \(error)")
  }
}

// MARK: - The kneeforce executable

/// The `kneeforce` executable built with these tests: it sits next to the test bundle
/// (`<scratch>/debug/KneeForcePackageTests.xctest` on Linux). Falls back to the newest
/// `kneeforce` with `arguments`, through the shared runner of KneeForceTestSupport.
func kneeforce(_ arguments: [String]) throws -> ProcessResult { try runKneeforce(arguments) }

// MARK: - Reading safetensors without the SafeTensors module

/// The F32 tensors of a safetensors file (8-byte little-endian header length, JSON header,
/// data), read independently of the SafeTensors module that wrote them.
func readF32Tensors(_ url: URL) throws -> [String: (shape: [Int], values: [Float])] {
  let bytes = [UInt8](try Data(contentsOf: url))
  guard bytes.count >= 8 else { throw ExperimentTestError("\(url.path): shorter than 8 bytes") }
  var headerLength = 0
  for i in 0..<8 { headerLength |= Int(bytes[i]) << (8 * i) }
  guard headerLength > 0, 8 + headerLength <= bytes.count,
    let header = try JSONSerialization.jsonObject(
      with: Data(bytes[8..<(8 + headerLength)])) as? [String: Any]
  else { throw ExperimentTestError("\(url.path): unreadable header") }
  let base = 8 + headerLength
  var tensors: [String: (shape: [Int], values: [Float])] = [:]
  for (name, entry) in header where name != "__metadata__" {
    guard let info = entry as? [String: Any], info["dtype"] as? String == "F32",
      let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int],
      offsets.count == 2, base + offsets[1] <= bytes.count
    else { throw ExperimentTestError("\(url.path): tensor '\(name)' is not a readable F32") }
    let count = (offsets[1] - offsets[0]) / 4
    XCTAssertEqual(count, shape.reduce(1, *), "\(name): byte length does not match the shape")
    let values = (0..<count).map { k -> Float in
      let p = base + offsets[0] + 4 * k
      let raw =
        UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16
        | UInt32(bytes[p + 3]) << 24
      return Float(bitPattern: raw)
    }
    tensors[name] = (shape, values)
  }
  return tensors
}

struct ExperimentTestError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// max |a - b| / max |b| (0 when both are all zeros); NaN when either side holds a NaN, so a
/// comparison `<= tolerance` fails on it (Swift's `max` would drop the NaN).
func maxRelativeError(_ a: [Float], _ b: [Float]) -> Float {
  relativeError(a, b)
}

// MARK: - A tiny synthetic cohort

/// 3 subjects x 2 walking trials: the smallest cohort a fold can train on.
func tinyCohort() throws -> Dataset {
  var dataset = try SyntheticCohort.generate(
    SyntheticCohortOptions(subjects: 3, trials: 2, seed: 7, nuisance: .none, activities: [.walking])
  )
  dataset.folder = "tiny-cohort"
  return dataset
}

/// A whole sweep into `folder` (prepared for resuming), quietly, on the CPU backend.
func runSweep(
  _ dataset: Dataset, _ options: SweepOptions, foldBatch: Int? = nil, shard: (Int, Int) = (1, 1),
  into folder: URL
) throws -> SweepOutcome {
  var settings = SweepRunSettings()
  settings.foldBatch = foldBatch
  settings.shard = shard
  try OutputFolder.prepare(folder.path, command: "sweep", mode: .resume)
  return try Sweep.run(
    dataset: dataset, options: options, settings: settings, backend: CPUBackend(),
    out: folder, progress: SweepProgress(terminal: false) { _ in })
}
