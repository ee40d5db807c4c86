import Foundation
import KneeForceCompute
import SafeTensors
import XCTest

@testable import KneeForceModels

/// Checkpoints round-trip, and every kind of broken checkpoint fails with a message that names
/// the tensor or field at fault.
final class CheckpointTests: XCTestCase {
  var dir: URL!

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "kf-ckpt-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

  func testSaveThenLoadGivesTheSameWeightsAndMetadata() throws {
    let backend = CPUBackend()
    for config in [
      ModelConfig.bilstmMLP(inputs: 4, hidden: 5, layers: 2, mlp: [6, 3]),
      ModelConfig.tcn(inputs: 4, channels: 5, levels: 3, kernelSize: 2),
    ] {
      let model = try makeModel(config, backend: backend, seed: 7)
      let url = dir.appendingPathComponent("\(config.model.rawValue).safetensors")
      try Checkpoint.save(model, extra: ["input_channels": ["kin.knee_flexion"]], to: url)
      let loaded = try Checkpoint.load(from: url, backend: backend)
      XCTAssertEqual(loaded.model.config, config)
      XCTAssertEqual(try loaded.model.parameters.readAll(), try model.parameters.readAll())
      XCTAssertEqual(loaded.metadata["input_channels"] as? [String], ["kin.knee_flexion"])
      let file = try SafeTensorsFile.read(from: url)
      XCTAssertEqual(Set(file.tensors.keys), Set(model.parameters.layout.tensors.map(\.name)))
    }
  }

  /// Writes the fixture checkpoint with one change and returns the load error's message.
  func loadError(_ change: (inout SafeTensorsFile) -> Void) throws -> String {
    var file = try SafeTensorsFile.read(from: fixtureURL("tcn_small.ckpt.safetensors"))
    change(&file)
    let url = dir.appendingPathComponent("broken.safetensors")
    try file.write(to: url)
    do {
      _ = try Checkpoint.load(from: url, backend: CPUBackend())
      XCTFail("a broken checkpoint loaded")
      return ""
    } catch {
      return "\(error)"
    }
  }

  func assertMessage(_ message: String, contains parts: [String], line: UInt = #line) {
    for part in parts {
      XCTAssert(message.contains(part), "'\(message)' should mention '\(part)'", line: line)
    }
  }

  func testMissingExtraAndMisshapenTensorsAreNamed() throws {
    assertMessage(
      try loadError { $0.tensors["tcn.1.conv2.bias"] = nil },
      contains: ["missing tensor 'tcn.1.conv2.bias'"])
    assertMessage(
      try loadError { $0.tensors["tcn.1.downsample.weight"] = Tensor(floats: [1], shape: [1]) },
      contains: ["unexpected tensor 'tcn.1.downsample.weight'"])
    assertMessage(
      try loadError {
        $0.tensors["head.weight"] = Tensor(floats: [Float](repeating: 0, count: 18), shape: [6, 3])
      },
      contains: ["'head.weight'", "[6, 3]", "[3, 6]"])
    assertMessage(
      try loadError {
        $0.tensors["head.bias"] = Tensor(dtype: .f64, shape: [3], data: Data(count: 24))
      }, contains: ["'head.bias'", "F64"])
  }

  func testMetadataProblemsAreNamed() throws {
    func metadata(_ json: String) throws -> String {
      try loadError { $0.metadata["kneeforce"] = json }
    }
    assertMessage(
      try metadata(#"{"model":"tcn","inputs":5,"outputs":3,"channels":6,"levels":3}"#),
      contains: ["missing required field 'kernel_size'"])
    assertMessage(
      try metadata(#"{"model":"gru","inputs":5,"outputs":3}"#),
      contains: ["unknown model 'gru'", "'model'"])
    assertMessage(
      try metadata(#"{"inputs":5,"outputs":3}"#), contains: ["missing required field 'model'"])
    assertMessage(
      try metadata(
        #"{"model":"tcn","inputs":"five","outputs":3,"channels":6,"levels":3,"kernel_size":3}"#),
      contains: ["'inputs'"])
    assertMessage(try metadata("not json"), contains: ["not a JSON object"])
    assertMessage(try loadError { $0.metadata = [:] }, contains: ["no 'kneeforce' entry"])
  }

  func testTruncatedFileFailsClearly() throws {
    let bytes = try Data(contentsOf: fixtureURL("bilstm_small.ckpt.safetensors"))
    let url = dir.appendingPathComponent("truncated.safetensors")
    try bytes.prefix(bytes.count - 100).write(to: url)
    XCTAssertThrowsError(try Checkpoint.load(from: url, backend: CPUBackend())) { error in
      XCTAssert("\(error)".contains("truncated"), "\(error)")
      XCTAssert("\(error)".contains(url.path), "\(error)")
    }
  }
}
