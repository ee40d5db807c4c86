import KneeForceData
import KneeForceTraining
import XCTest

final class RidgeBaselineTests: XCTestCase {
  /// Sequences of `length` steps whose inputs come from `input(n, t, c)` and targets from
  /// `target(inputs of the step, k)`.
  private func makeSet(
    count: Int, length: Int, width: Int, input: (Int, Int, Int) -> Float,
    target: ([Float], Int) -> Float
  ) -> SequenceSet {
    var set = SequenceSet(length: length, inputChannels: (0..<width).map { "in.\($0)" })
    for n in 0..<count {
      for t in 0..<length {
        let x = (0..<width).map { input(n, t, $0) }
        set.inputs += x
        set.targets += (0..<3).map { target(x, $0) }
      }
      set.subjects.append("S\(n)")
      set.activities.append("walking")
      set.trialIDs.append("S\(n)_walking_01")
      set.startTimes.append(0)
      set.endTimes.append(1)
    }
    return set
  }

  /// Deterministic, non-collinear pseudo-random inputs.
  private func input(_ seed: Int) -> (Int, Int, Int) -> Float {
    { n, t, c in
      let phase = Double(seed * 31 + n * 7 + c * 13) * 0.37
      return Float(sin(Double(t) * 0.21 * Double(c + 1) + phase) + 0.3 * cos(Double(n * t + c)))
    }
  }

  func testRecoversAnExactlyLinearTarget() throws {
    let w: [[Float]] = [[0.5, -1.25, 2, 0.1], [-0.3, 0.7, 0, 1.5], [0.2, -0.55, 2, 1.6]]
    let b: [Float] = [1.2, -0.4, 0.8]
    let linear: ([Float], Int) -> Float = { x, k in
      zip(w[k], x).reduce(b[k]) { $0 + $1.0 * $1.1 }
    }
    let train = makeSet(count: 6, length: 25, width: 4, input: input(1), target: linear)
    let test = makeSet(count: 3, length: 25, width: 4, input: input(2), target: linear)
    let (prediction, metrics) = try ridgeBaseline(train: train, test: test, lambda: 0)
    XCTAssertEqual(prediction.count, test.targets.count)
    XCTAssertEqual(metrics.map(\.target), ["kcf.medial", "kcf.lateral", "kcf.total"])
    for m in metrics {
      XCTAssertLessThan(m.rmse, 1e-5, "\(m.target)")
      XCTAssertEqual(m.pearson, 1, accuracy: 1e-6, "\(m.target)")
    }
    for (p, y) in zip(prediction, test.targets) { XCTAssertEqual(p, y, accuracy: 1e-4) }
    // The default small ridge penalty barely moves an exact fit on 150 steps.
    let ridge = try ridgeBaseline(train: train, test: test)
    for m in ridge.metrics {
      XCTAssertLessThan(m.rmse, 1e-2, "\(m.target)")
      XCTAssertGreaterThan(m.pearson, 0.9999, "\(m.target)")
    }
  }

  func testMatchesAHandSolvedOneDimensionalFit() throws {
    // One input, steps x = [1, 2, 3, 4] (two sequences of two steps); target 0 is y = [2, 3, 5, 6].
    // Centred: x - 2.5 = [-1.5, -0.5, 0.5, 1.5], y - 4 = [-2, -1, 1, 2]; Sxx = 5, Sxy = 7.
    // lambda = 0: w = 7 / 5 = 1.4, b = 4 - 1.4 * 2.5 = 0.5.
    // lambda = 1 (intercept not penalised): w = 7 / 6, b = 4 - 2.5 * 7 / 6.
    let xs: [Float] = [1, 2, 3, 4]
    let ys: [Float] = [2, 3, 5, 6]
    var train = SequenceSet(length: 2, inputChannels: ["x"])
    for i in 0..<4 { train.inputs.append(xs[i]) }
    for i in 0..<4 { train.targets += [ys[i], -ys[i], 10] }
    for n in 0..<2 {
      train.subjects.append("S\(n)")
      train.activities.append("walking")
      train.trialIDs.append("t\(n)")
      train.startTimes.append(0)
      train.endTimes.append(1)
    }
    var test = SequenceSet(length: 1, inputChannels: ["x"])
    test.inputs = [10]
    test.targets = [0, 0, 0]
    test.subjects = ["S9"]
    test.activities = ["walking"]
    test.trialIDs = ["t9"]
    test.startTimes = [0]
    test.endTimes = [1]

    let ols = try ridgeBaseline(train: train, test: test, lambda: 0).prediction
    XCTAssertEqual(ols[0], 1.4 * 10 + 0.5, accuracy: 1e-4)
    XCTAssertEqual(ols[1], -(1.4 * 10 + 0.5), accuracy: 1e-4)
    XCTAssertEqual(ols[2], 10, accuracy: 1e-4, "a constant target is its intercept")

    let ridge = try ridgeBaseline(train: train, test: test, lambda: 1).prediction
    let w = 7.0 / 6
    XCTAssertEqual(Double(ridge[0]), w * 10 + (4 - 2.5 * w), accuracy: 1e-4)
    XCTAssertEqual(ridge[2], 10, accuracy: 1e-4, "the intercept is not shrunk")
  }

  func testLinearBaselineCannotFollowHistoryDependentTargets() throws {
    // A target that depends on the previous steps (a running sum, like activation dynamics)
    // rather than on the current input: the per-step linear model must do clearly worse on it
    // than on an instantaneous linear target with the same inputs.
    let history: ([Float], Int) -> Float = { _, _ in 0 }
    var train = makeSet(count: 8, length: 30, width: 2, input: input(3), target: history)
    var test = makeSet(count: 4, length: 30, width: 2, input: input(4), target: history)
    for set in [0, 1] {
      var s = set == 0 ? train : test
      for n in 0..<s.count {
        var sum: Float = 0
        for t in 0..<s.length {
          let base = (n * s.length + t) * 2
          sum = 0.8 * sum + s.inputs[base]
          for k in 0..<3 { s.targets[(n * s.length + t) * 3 + k] = sum }
        }
      }
      if set == 0 { train = s } else { test = s }
    }
    let metrics = try ridgeBaseline(train: train, test: test).metrics
    for m in metrics {
      XCTAssertTrue(m.rmse.isFinite)
      XCTAssertGreaterThan(m.rmse, 0.05, "\(m.target): a per-step model cannot fit history")
    }
  }

  func testRejectsMismatchedChannelsAndNegativeLambda() {
    let linear: ([Float], Int) -> Float = { x, _ in x[0] }
    let train = makeSet(count: 2, length: 5, width: 2, input: input(5), target: linear)
    var test = makeSet(count: 1, length: 5, width: 2, input: input(6), target: linear)
    XCTAssertThrowsError(try ridgeBaseline(train: train, test: test, lambda: -1)) { error in
      XCTAssertTrue("\(error)".contains("lambda"), "\(error)")
    }
    test.inputChannels = ["in.0", "other"]
    XCTAssertThrowsError(try ridgeBaseline(train: train, test: test)) { error in
      XCTAssertTrue("\(error)".contains("other"), "\(error)")
    }
  }

  func testConstantChannelIsSingularWithoutPenaltyAndHarmlessWithIt() throws {
    // A dead channel (constant, e.g. a fallen-off electrode) makes X^T X singular: ordinary
    // least squares must say so; the default ridge penalty must still fit the other channel.
    let linear: ([Float], Int) -> Float = { x, _ in 2 * x[0] - 1 }
    let varying = input(7)
    let constant: (Int, Int, Int) -> Float = { n, t, c in c == 1 ? 0 : varying(n, t, c) }
    let train = makeSet(count: 4, length: 20, width: 2, input: constant, target: linear)
    let test = makeSet(count: 2, length: 20, width: 2, input: constant, target: linear)
    XCTAssertThrowsError(try ridgeBaseline(train: train, test: test, lambda: 0)) { error in
      XCTAssertTrue("\(error)".contains("singular"), "\(error)")
    }
    let metrics = try ridgeBaseline(train: train, test: test).metrics
    for m in metrics { XCTAssertLessThan(m.rmse, 1e-2, "\(m.target)") }
  }
}
