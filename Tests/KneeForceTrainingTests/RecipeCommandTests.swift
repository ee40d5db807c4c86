import Foundation
import KneeForceCompute
import KneeForceTestSupport
import KneeForceTraining
import XCTest

/// `--recipe` as a user types it: the recipe's values, and every option given on the command
/// line overriding them, end up in the sweep's recorded options.
final class RecipeCommandTests: XCTestCase {
  func testRecipeIsTheStartingPointAndOptionsOverrideIt() throws {
    let root = try temporaryDirectory("recipe-cli")
    defer { try? FileManager.default.removeItem(at: root) }
    let data = root.appendingPathComponent("data")
    let synth = try runKneeforce([
      "synth", "--out", data.path, "--subjects", "3", "--trials", "1", "--seed", "2",
    ])
    XCTAssertEqual(synth.status, 0, synth.output)
    let common = [
      "--data", data.path, "--device", "cpu", "--models", "tcn", "--channels", "4",
      "--levels", "1", "--epochs", "1", "--batch", "4",
    ]
    func recorded(_ name: String, _ extra: [String]) throws -> SweepOptions {
      let out = root.appendingPathComponent(name)
      let run = try runKneeforce(["sweep", "--out", out.path] + common + extra)
      XCTAssertEqual(run.status, 0, run.output)
      return try XCTUnwrap(try SweepRecord.read(from: out)).options
    }
    // What the command line sets in both runs, applied to a recipe's options.
    func expected(_ recipe: Recipe) -> SweepOptions {
      var o = recipe.options
      o.models = [.tcn]
      o.channels = 4
      o.levels = 1
      o.epochs = 1
      o.batchSize = 4
      o.backend = "cpu"
      return o
    }

    XCTAssertEqual(try recorded("default", []), expected(.smallCohort))
    XCTAssertEqual(try recorded("plain", ["--recipe", "plain"]), expected(.plain))
    XCTAssertEqual(Recipe.plain.options, SweepOptions(), "plain is the library's defaults")

    var overridden = expected(.smallCohort)
    overridden.validation = .next
    overridden.normalization = .training
    overridden.residual = .none
    overridden.weightDecay = 0
    overridden.augmentation.noise = 0
    overridden.featureSetList = ["all"]
    overridden.segmentation = .trial(length: 101)
    XCTAssertEqual(
      try recorded(
        "overridden",
        [
          "--validation", "next", "--normalization", "training", "--residual", "none",
          "--weight-decay", "0", "--noise", "0", "--feature-sets", "all", "--segmentation",
          "trial",
        ]), overridden)
  }
}
