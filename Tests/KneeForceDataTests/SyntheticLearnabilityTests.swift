import Foundation
import XCTest

@testable import KneeForceData

/// The cohort must reward sequence models: its targets depend on the history of the signals
/// (activation dynamics) and on products of them (force-length-velocity), so a per-time-step
/// linear model must be clearly worse than one that sees the past. Checked here with ridge
/// regression on held-out subjects, once on the current samples and once with low-passed
/// EMG and a few products added (a crude stand-in for what a biLSTM can learn).
final class SyntheticLearnabilityTests: XCTestCase {
  private func features(_ trial: Trial, history: Bool) -> [[Double]] {
    let weight = trial.info.bodyWeightN
    let inputs = trial.channels.filter { ChannelConventions.group(of: $0) != "kcf" }
    var columns = inputs.map { name in
      (trial.column(name) ?? []).map {
        ChannelConventions.isBodyWeightScaled(name) ? $0 / weight : $0
      }
    }
    if history {
      let mechanics = Array(columns[0..<8])
      for i in mechanics.indices {
        for j in i..<mechanics.count {
          columns.append(zip(mechanics[i], mechanics[j]).map { $0 * $1 / 100 })
        }
      }
      let knee = columns[2].map { $0 / 90 }
      let alpha = 1 - exp(-1 / (trial.sampleRate * 0.08))
      for signal in columns[8..<16] {
        var state = signal[0]
        let lowPassed = signal.map { value -> Double in
          state += alpha * (value - state)
          return state
        }
        columns.append(lowPassed)
        columns.append(zip(lowPassed, knee).map { $0 * $1 })
      }
    }
    return (0..<trial.sampleCount).map { t in [1] + columns.map { $0[t] } }
  }

  /// Leave-one-subject-out RMSE of total force (BW), with per-subject normal equations
  /// accumulated once so that every fold only sums and solves.
  private func losoRMSE(_ dataset: Dataset, history: Bool) -> Double {
    struct Part {
      var gram: [[Double]]
      var moment: [Double]
      var rows: [([Double], Double)]
    }
    var parts: [String: Part] = [:]
    for trial in dataset.trials {
      let rows = features(trial, history: history)
      let y = (trial.column("kcf.total") ?? []).map { $0 / trial.info.bodyWeightN }
      let width = rows.first?.count ?? 0
      var part =
        parts[trial.info.subject]
        ?? Part(
          gram: [[Double]](repeating: [Double](repeating: 0, count: width), count: width),
          moment: [Double](repeating: 0, count: width), rows: [])
      for (t, row) in rows.enumerated() {
        for i in 0..<width {
          part.moment[i] += row[i] * y[t]
          for j in 0..<width { part.gram[i][j] += row[i] * row[j] }
        }
        part.rows.append((row, y[t]))
      }
      parts[trial.info.subject] = part
    }
    var squares = 0.0
    var count = 0.0
    for held in dataset.subjects {
      guard let test = parts[held] else { continue }
      let width = test.moment.count
      var gram = [[Double]](repeating: [Double](repeating: 0, count: width), count: width)
      var moment = [Double](repeating: 0, count: width)
      for (subject, part) in parts where subject != held {
        for i in 0..<width {
          moment[i] += part.moment[i]
          for j in 0..<width { gram[i][j] += part.gram[i][j] }
        }
      }
      for i in 0..<width { gram[i][i] += 1e-3 }
      let beta = solve(gram, moment)
      for (row, y) in test.rows {
        let prediction = zip(row, beta).reduce(0) { $0 + $1.0 * $1.1 }
        squares += (prediction - y) * (prediction - y)
        count += 1
      }
    }
    return (squares / count).squareRoot()
  }

  /// Gaussian elimination with partial pivoting (the system is small and well conditioned).
  private func solve(_ matrix: [[Double]], _ vector: [Double]) -> [Double] {
    var a = matrix
    var b = vector
    let n = b.count
    for i in 0..<n {
      let pivot = (i..<n).max { abs(a[$0][i]) < abs(a[$1][i]) } ?? i
      a.swapAt(i, pivot)
      b.swapAt(i, pivot)
      for r in (i + 1)..<max(n, i + 1) {
        let factor = a[r][i] / a[i][i]
        for c in i..<n { a[r][c] -= factor * a[i][c] }
        b[r] -= factor * b[i]
      }
    }
    var x = [Double](repeating: 0, count: n)
    for i in stride(from: n - 1, through: 0, by: -1) {
      var sum = b[i]
      for c in (i + 1)..<max(n, i + 1) { sum -= a[i][c] * x[c] }
      x[i] = sum / a[i][i]
    }
    return x
  }

  func testPerTimeStepLinearModelIsClearlyWorseThanOneWithHistory() throws {
    let dataset = try SyntheticCohort.generate(
      SyntheticCohortOptions(subjects: 6, trials: 1, nuisance: .none))
    let plain = losoRMSE(dataset, history: false)
    let withHistory = losoRMSE(dataset, history: true)
    print(
      "ridge LOSO RMSE of total force: \(plain) BW per time step, \(withHistory) BW with "
        + "products and low-passed EMG")
    XCTAssertGreaterThan(plain, 0.15, "a per-time-step linear model must not fit the targets")
    XCTAssertLessThan(withHistory, 0.85 * plain)
  }
}
