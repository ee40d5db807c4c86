import KneeForceData

/// A per-time-step linear baseline: for each target, `y_t = w · x_t + b`, fitted by ridge
/// regression on every time step of every training sequence and applied to every test step.
///
/// Why: the claim that a sequence model earns its cost needs something simple to beat. This
/// model sees exactly the same (z-scored) inputs as the networks but only one time step at a
/// time and only linearly, so it cannot use the history that the knee load depends on
/// (muscle activation dynamics, the phase of the movement) nor any interaction between
/// channels. A trained biLSTM that is not clearly better than this has learnt nothing that a
/// linear map of the instantaneous inputs does not already give.
///
/// The fit solves the normal equations `(Xᵀ X + λ I) w = Xᵀ y` in Double by Cholesky
/// factorisation, on inputs and targets centred on their training means so that the
/// intercept `b` is not regularised (it is `mean(y) − w · mean(x)`). The penalty `λ |w|²` is
/// against the sum of squared errors over all training steps, so with z-scored inputs (whose
/// Gram diagonal is about the number of steps) the default only matters for constant or
/// nearly collinear channels, where it keeps the system solvable.
///
/// - Parameters:
///   - train: training sequences, inputs already z-scored (`Normalizer` fitted on them).
///   - test: sequences to predict, normalised with the same statistics.
///   - lambda: ridge penalty, at least 0; 0 is ordinary least squares.
/// - Returns: the prediction, `[test.count][test.length][3]` flat like `test.targets`, and
///   RMSE / Pearson r per target against `test.targets`.
public func ridgeBaseline(train: SequenceSet, test: SequenceSet, lambda: Double = 1e-2) throws
  -> (prediction: [Float], metrics: [TargetMetrics])
{
  guard lambda.isFinite, lambda >= 0 else {
    throw ExperimentError("ridge baseline: lambda must be a finite number >= 0, got \(lambda)")
  }
  guard train.inputChannels == test.inputChannels else {
    throw ExperimentError(
      "ridge baseline: training inputs (\(train.inputChannels.joined(separator: ", "))) and "
        + "test inputs (\(test.inputChannels.joined(separator: ", "))) differ")
  }
  let width = train.inputWidth
  let outputs = train.targetWidth
  guard width > 0 else { throw ExperimentError("ridge baseline: no input channels") }
  for (name, set) in [("training", train), ("test", test)] {
    guard set.count > 0, set.length > 0 else {
      throw ExperimentError("ridge baseline: no \(name) sequences")
    }
    let steps = set.count * set.length
    guard set.inputs.count == steps * width, set.targets.count == steps * outputs else {
      throw ExperimentError(
        "ridge baseline: \(name) set holds \(set.inputs.count) input and "
          + "\(set.targets.count) target values, expected \(steps * width) and "
          + "\(steps * outputs) for \(set.count) sequences of \(set.length) steps")
    }
  }
  let rows = train.count * train.length

  // Means of inputs and targets over every training step.
  var meanX = [Double](repeating: 0, count: width)
  var meanY = [Double](repeating: 0, count: outputs)
  for r in 0..<rows {
    for c in 0..<width { meanX[c] += Double(train.inputs[r * width + c]) }
    for k in 0..<outputs { meanY[k] += Double(train.targets[r * outputs + k]) }
  }
  for c in 0..<width { meanX[c] /= Double(rows) }
  for k in 0..<outputs { meanY[k] /= Double(rows) }

  // Centred Gram matrix (upper triangle, then mirrored) and right-hand sides.
  var gram = [Double](repeating: 0, count: width * width)
  var rhs = [Double](repeating: 0, count: width * outputs)  // [width][outputs]
  var x = [Double](repeating: 0, count: width)
  for r in 0..<rows {
    for c in 0..<width { x[c] = Double(train.inputs[r * width + c]) - meanX[c] }
    for i in 0..<width {
      let xi = x[i]
      if xi == 0 { continue }
      for j in i..<width { gram[i * width + j] += xi * x[j] }
      for k in 0..<outputs {
        rhs[i * outputs + k] += xi * (Double(train.targets[r * outputs + k]) - meanY[k])
      }
    }
  }
  for i in 0..<width {
    for j in 0..<i { gram[i * width + j] = gram[j * width + i] }
    gram[i * width + i] += lambda
  }

  let weights = try choleskySolve(gram, rhs, size: width, columns: outputs)  // [width][outputs]
  var bias = meanY
  for k in 0..<outputs {
    for c in 0..<width { bias[k] -= weights[c * outputs + k] * meanX[c] }
  }

  let testRows = test.count * test.length
  var prediction = [Float](repeating: 0, count: testRows * outputs)
  for r in 0..<testRows {
    for k in 0..<outputs {
      var y = bias[k]
      for c in 0..<width { y += weights[c * outputs + k] * Double(test.inputs[r * width + c]) }
      prediction[r * outputs + k] = Float(y)
    }
  }
  let metrics = targetMetrics(
    prediction: prediction, measured: test.targets, targets: test.targetChannels)
  return (prediction, metrics)
}

/// Solves `A W = B` for symmetric positive definite `A` (`size × size`, row-major) and
/// `B` (`size × columns`, row-major) by Cholesky factorisation `A = L Lᵀ`.
private func choleskySolve(_ a: [Double], _ b: [Double], size n: Int, columns m: Int) throws
  -> [Double]
{
  var l = [Double](repeating: 0, count: n * n)
  let scale = (0..<n).map { abs(a[$0 * n + $0]) }.max() ?? 0
  for j in 0..<n {
    var diagonal = a[j * n + j]
    for k in 0..<j { diagonal -= l[j * n + k] * l[j * n + k] }
    guard diagonal > 1e-12 * max(scale, 1e-300) else {
      throw ExperimentError(
        "ridge baseline: the normal equations are singular (input channel \(j) is constant "
          + "or a linear combination of others); use lambda > 0")
    }
    let root = diagonal.squareRoot()
    l[j * n + j] = root
    for i in (j + 1)..<n {
      var sum = a[i * n + j]
      for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
      l[i * n + j] = sum / root
    }
  }
  // Forward substitution L Z = B, then back substitution Lᵀ W = Z, column by column.
  var w = b
  for col in 0..<m {
    for i in 0..<n {
      var sum = w[i * m + col]
      for k in 0..<i { sum -= l[i * n + k] * w[k * m + col] }
      w[i * m + col] = sum / l[i * n + i]
    }
    for i in stride(from: n - 1, through: 0, by: -1) {
      var sum = w[i * m + col]
      for k in (i + 1)..<n { sum -= l[k * n + i] * w[k * m + col] }
      w[i * m + col] = sum / l[i * n + i]
    }
  }
  return w
}
