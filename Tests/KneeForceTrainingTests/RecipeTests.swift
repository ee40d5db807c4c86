import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceTestSupport
import XCTest

@testable import KneeForceTraining

/// The small-cohort recipe's parts wired through a sweep: residual targets from the aligned
/// curve, per-subject z-scores, augmentation and AdamW; the checkpoints they write predict a
/// patient as the sweep did.
final class RecipeTests: XCTestCase {
  static func recipeOptions() -> SweepOptions {
    var o = SweepRunTests.tinyOptions()
    o.models = [.tcn]
    o.residual = .alignedCurve
    o.normalization = .subject
    o.validation = .inner
    o.optimizer = .adamw
    o.weightDecay = 0.5
    o.augmentation = Augmentation(noise: 0.1, offset: 0.2, gain: 0.1, timeWarp: 0.1)
    return o
  }

  func testRecipeSweepIsTheSameInAnyFoldBatchAndItsCheckpointsPredictAsItDid() throws {
    let root = try makeTemporaryFolder("recipe")
    defer { try? FileManager.default.removeItem(at: root) }
    let dataset = try SweepRunTests.tinyDataset()
    let options = Self.recipeOptions()
    func run(_ name: String, foldBatch: Int?) throws -> SweepOutcome {
      try runSweep(dataset, options, foldBatch: foldBatch, into: root.appendingPathComponent(name))
    }
    let batched = try run("batched", foldBatch: nil)
    let one = try run("one", foldBatch: 1)
    XCTAssertTrue(batched.failed.isEmpty)
    XCTAssertEqual(batched.rows, one.rows, "bases and augmentation keep lanes independent")

    let folder = root.appendingPathComponent("batched")
    let backend = CPUBackend()
    for subject in try SweepData(dataset: dataset, options: options).subjects {
      let key = UnitKey(model: "tcn", features: "all", activities: "all", subject: subject)
      let unit = UnitJournal.folder(folder, key)
      let checkpoint = try Predictor.load(
        unit.appendingPathComponent("checkpoint.safetensors"), backend: backend)
      let info = checkpoint.loaded.info
      XCTAssertEqual(info.inputNormalization, "subject")
      XCTAssertEqual(info.baseCurves?.count, 2, "one base per member (two inner groups)")
      XCTAssertEqual(info.memberValidationSubjects?.count, 2)
      let saved = try UnitJournal.predictions(key, in: folder)
      let (set, outputs) = try Predictor.memberOutputs(
        checkpoint, dataset: dataset, backend: backend)
      let stride = set.length * 3
      var compared = 0
      var perTrial: [String: Int] = [:]
      for s in 0..<set.count {
        let index = perTrial[set.trialIDs[s], default: 0]
        perTrial[set.trialIDs[s]] = index + 1
        guard set.subjects[s] == subject,
          let expected = saved.sequences.first(where: {
            $0.trialID == set.trialIDs[s] && $0.index == index
          })
        else { continue }
        for k in 0..<stride {
          let mean = outputs.map { $0[s * stride + k] }.reduce(0, +) / Float(outputs.count)
          XCTAssertEqual(mean, expected.predicted[k], accuracy: 1e-4, "\(subject) \(s) \(k)")
        }
        compared += 1
      }
      XCTAssertEqual(compared, saved.sequences.count)
      XCTAssertGreaterThan(compared, 0)
    }
  }
}

extension RecipeTests {
  /// The guard: on a small realistic cohort (5 subjects, walking cycles), the default
  /// recipe's networks beat every baseline on mean total-force RMSE over held-out subjects
  /// (the best ridge of every feature set and both z-score variants included).
  func testDefaultRecipeBeatsEveryBaselineOnASmallCohort() throws {
    let root = try makeTemporaryFolder("recipe-guard")
    defer { try? FileManager.default.removeItem(at: root) }
    var dataset = try SyntheticCohort.generate(
      SyntheticCohortOptions(subjects: 5, seed: 0, activities: [.walking]))
    dataset.folder = "guard"
    XCTAssertEqual(SyntheticCohortOptions().nuisance, .realistic, "the default cohort")
    let options = Recipe.smallCohort.options
    let outcome = try runSweep(dataset, options, into: root)
    XCTAssertTrue(outcome.failed.isEmpty)
    var totals: [String: [Double]] = [:]
    for row in outcome.rows where row.activity == "all" && row.target == "total" {
      totals["\(row.model) \(row.features)", default: []].append(row.rmse ?? .nan)
    }
    func mean(_ key: String) throws -> Double {
      let values = try XCTUnwrap(totals[key], "no rows for \(key): \(totals.keys.sorted())")
      XCTAssertEqual(values.count, 5, key)
      return values.reduce(0, +) / Double(values.count)
    }
    var baselines: [String: Double] = [:]
    for key in totals.keys
    where ["mean_curve", "aligned_curve", "ridge", "ridge_subject"].contains(
      String(key.split(separator: " ")[0]))
    {
      baselines[key] = try mean(key)
    }
    XCTAssertEqual(baselines.count, 2 + 2 * 3, "\(baselines.keys.sorted())")
    let best = try XCTUnwrap(baselines.min { $0.value < $1.value })
    for model in ["bilstm_mlp", "tcn"] {
      let network = try mean("\(model) selected")
      XCTAssertLessThan(
        network, best.value,
        "\(model) \(network) BW against the best baseline \(best.key) \(best.value) BW")
    }
  }
}
