import Foundation
import KneeForceCompute
import SafeTensors
import XCTest

@testable import KneeForceModels

/// Both backends against PyTorch on the committed fixtures (scripts/make_fixtures.py): forward,
/// input and parameter gradients of sum(y * dy), and two Adam and AdamW steps.
final class PyTorchParityTests: XCTestCase {
  static let cases = ["bilstm_small", "bilstm_t1", "bilstm_odd", "tcn_small", "tcn_t1", "tcn_odd"]

  func testForwardAndBackwardMatchPyTorch() throws {
    for backend in try TestBackends.all() {
      for name in Self.cases {
        let what = "\(name) on \(backend.kind)"
        let io = try SafeTensorsFile.read(from: fixtureURL("\(name).io.safetensors"))
        let loaded = try Checkpoint.load(
          from: fixtureURL("\(name).ckpt.safetensors"), backend: backend)
        let model = loaded.model
        let x = try io.tensor("x")
        let (batch, steps) = (x.shape[0], x.shape[1])
        let xb = try backend.makeBuffer(try x.floats())
        let y = try model.forward(
          BufferSlice(xb), batch: batch, steps: steps, training: false, seed: 0)
        let yCount = batch * steps * model.config.outputs
        assertClose(try backend.download(y, count: yCount), try io.floats("y"), "\(what) y")
        let dy = try backend.makeBuffer(try io.floats("dy"))
        let dx = try model.backward(BufferSlice(dy), inputGradient: true)!
        assertClose(
          try backend.download(dx, count: x.elementCount), try io.floats("dx"), "\(what) dx")
        for t in model.parameters.layout.tensors {
          assertClose(
            try model.parameters.read(t.name, gradient: true), try io.floats("grad.\(t.name)"),
            "\(what) grad.\(t.name)")
        }
      }
    }
  }

  func testAdamAndAdamWStepsMatchPyTorch() throws {
    for backend in try TestBackends.all() {
      for name in Self.cases {
        let io = try SafeTensorsFile.read(from: fixtureURL("\(name).io.safetensors"))
        let settings =
          try JSONSerialization.jsonObject(
            with: Data(io.metadata["adam"]!.utf8)) as! [String: Double]
        for (prefix, decoupled) in [("adam", false), ("adamw", true)] {
          let model = try Checkpoint.load(
            from: fixtureURL("\(name).ckpt.safetensors"), backend: backend
          ).model
          let p = model.parameters
          var grads = [Float](repeating: 0, count: p.layout.count)
          for t in p.layout.tensors {
            grads.replaceSubrange(
              t.offset..<(t.offset + t.count), with: try io.floats("grad.\(t.name)"))
          }
          try backend.upload(grads, to: BufferSlice(p.gradients))
          for step in 1...2 {
            try p.adamStep(
              lr: Float(settings["lr"]!), beta1: Float(settings["beta1"]!),
              beta2: Float(settings["beta2"]!), eps: Float(settings["eps"]!),
              weightDecay: Float(settings["weight_decay"]!), decoupled: decoupled)
            for t in p.layout.tensors {
              assertClose(
                try p.read(t.name), try io.floats("\(prefix)\(step).\(t.name)"),
                "\(name) on \(backend.kind) \(prefix)\(step).\(t.name)")
            }
          }
        }
      }
    }
  }
}
