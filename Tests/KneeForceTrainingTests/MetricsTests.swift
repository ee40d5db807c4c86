import KneeForceTraining
import XCTest

final class MetricsTests: XCTestCase {
  /// Interleaves per-target columns into the `[N][T][targets]` layout.
  private func interleave(_ columns: [[Float]]) -> [Float] {
    (0..<columns[0].count).flatMap { i in columns.map { $0[i] } }
  }

  func testRMSEAndPearsonByHand() {
    // Target a: errors 1, -1, 0, 2 -> RMSE sqrt(6/4).
    let measuredA: [Float] = [1, 2, 3, 4]
    let predictedA: [Float] = [2, 1, 3, 6]
    // Pearson r by hand: p = [2, 1, 3, 6] (mean 3), m = [1, 2, 3, 4] (mean 2.5);
    // dp = [-1, -2, 0, 3], dm = [-1.5, -0.5, 0.5, 1.5]; cov = 1.5 + 1 + 0 + 4.5 = 7;
    // var p = 1 + 4 + 0 + 9 = 14, var m = 2.25 + 0.25 + 0.25 + 2.25 = 5; r = 7 / sqrt(70).
    // Target b: a scaled and shifted copy -> r = 1 exactly, RMSE by hand.
    let measuredB: [Float] = [1, 2, 3, 4]
    let predictedB: [Float] = [3, 5, 7, 9]  // 2 m + 1: errors 2, 3, 4, 5
    // Target c: reversed -> r = -1.
    let measuredC: [Float] = [0.5, 1, 1.5, 2]
    let predictedC: [Float] = [2, 1.5, 1, 0.5]
    let metrics = targetMetrics(
      prediction: interleave([predictedA, predictedB, predictedC]),
      measured: interleave([measuredA, measuredB, measuredC]), targets: ["a", "b", "c"])
    XCTAssertEqual(metrics.map(\.target), ["a", "b", "c"])
    XCTAssertEqual(metrics[0].rmse, (6.0 / 4).squareRoot(), accuracy: 1e-12)
    XCTAssertEqual(metrics[0].pearson, 7 / 70.0.squareRoot(), accuracy: 1e-12)
    XCTAssertEqual(metrics[1].rmse, (54.0 / 4).squareRoot(), accuracy: 1e-12)
    XCTAssertEqual(metrics[1].pearson, 1, accuracy: 1e-12)
    XCTAssertEqual(metrics[2].pearson, -1, accuracy: 1e-12)
    XCTAssertEqual(metrics[2].rmse, ((2.25 + 0.25 + 0.25 + 2.25) / 4).squareRoot(), accuracy: 1e-12)
    XCTAssertEqual(metrics[0].measuredMin, 1)
    XCTAssertEqual(metrics[0].measuredMax, 4)
    XCTAssertEqual(metrics[2].measuredMin, 0.5)
    XCTAssertEqual(metrics[2].measuredMax, 2)
  }

  func testPerfectPredictionHasZeroRMSEAndUnitCorrelation() {
    let measured: [Float] = [0.3, -1.2, 2.5, 0.7, 1.1, -0.4]
    let metrics = targetMetrics(prediction: measured, measured: measured, targets: ["x"])
    XCTAssertEqual(metrics.count, 1)
    XCTAssertEqual(metrics[0].rmse, 0)
    XCTAssertEqual(metrics[0].pearson, 1, accuracy: 1e-12)
  }

  func testConstantPredictionHasUndefinedCorrelation() {
    // A constant prediction (e.g. the training mean) has no variance: r is undefined (NaN),
    // not 0 and not a division by zero. Its RMSE is still defined.
    for constant: Float in [0, 2, 0.1, 1.3] {
      let measured: [Float] = [1, 2, 3]
      let metrics = targetMetrics(
        prediction: [Float](repeating: constant, count: 3), measured: measured, targets: ["x"])
      XCTAssertTrue(metrics[0].pearson.isNaN, "constant \(constant): r = \(metrics[0].pearson)")
      let c = Double(constant)
      let expected = (((1 - c) * (1 - c) + (2 - c) * (2 - c) + (3 - c) * (3 - c)) / 3)
        .squareRoot()
      XCTAssertEqual(metrics[0].rmse, expected, accuracy: 1e-6)
    }
  }

  func testConstantMeasurementHasUndefinedCorrelation() {
    let metrics = targetMetrics(prediction: [1, 2, 3], measured: [2, 2, 2], targets: ["x"])
    XCTAssertTrue(metrics[0].pearson.isNaN)
    XCTAssertEqual(metrics[0].rmse, (2.0 / 3).squareRoot(), accuracy: 1e-12)
    XCTAssertEqual(metrics[0].measuredMin, 2)
    XCTAssertEqual(metrics[0].measuredMax, 2)
  }

  func testMetricsRoundTripThroughJSON() throws {
    let metrics = targetMetrics(
      prediction: [1, 2, 4, 3], measured: [1, 2, 3, 5], targets: ["kcf.medial", "kcf.lateral"])
    let decoded = try JSONDecoder().decode(
      [TargetMetrics].self, from: JSONEncoder().encode(metrics))
    XCTAssertEqual(decoded, metrics)
  }

  /// Over many samples a one-pass variance of a constant is rounding noise, not zero; the
  /// correlation must still come out undefined.
  func testLongConstantPredictionHasUndefinedCorrelation() {
    for constant: Float in [0.1, 0.7, 1.1, 2.7] {
      let n = 3030
      let measured = (0..<n).map { Float(sin(Double($0) * 0.1)) }
      let metrics = targetMetrics(
        prediction: [Float](repeating: constant, count: n), measured: measured,
        targets: ["kcf.total"])
      XCTAssert(metrics[0].pearson.isNaN, "constant \(constant): r = \(metrics[0].pearson)")
      XCTAssert(metrics[0].rmse.isFinite)
    }
  }
}
