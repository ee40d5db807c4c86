/// The data section: per frame, every point as four words (x, y, z, residual word) and then
/// every analog sample of that frame, channel by channel. The size is checked once, with
/// overflow checks, before any sample is read.
struct C3DDataLayout {
  let start: Int
  let storage: C3DStorage
  let pointCount: Int
  let analogCount: Int
  let samplesPerFrame: Int
  let frameCount: Int

  struct Decoded {
    var points: [Float]
    var residuals: [Float]
    var analogs: [Double]
  }

  func decode(
    _ bytes: C3DBytes, pointScale: Double, analogFormatUnsigned: Bool, scales: [Double],
    offsets: [Double]
  ) throws -> Decoded {
    let word = storage == .float ? 4 : 2
    let analogPerFrame = analogCount.multipliedReportingOverflow(by: samplesPerFrame)
    let pointWords = pointCount.multipliedReportingOverflow(by: 4)
    let frameWords = pointWords.partialValue.addingReportingOverflow(analogPerFrame.partialValue)
    let frameBytes = frameWords.partialValue.multipliedReportingOverflow(by: word)
    let total = frameBytes.partialValue.multipliedReportingOverflow(by: frameCount)
    guard
      !analogPerFrame.overflow, !pointWords.overflow, !frameWords.overflow,
      !frameBytes.overflow, !total.overflow
    else {
      throw bytes.error(start, "data section size overflows (\(frameCount) frames)")
    }
    try bytes.require(
      start, total.partialValue,
      "the data section (\(frameCount) frames of \(frameBytes.partialValue) bytes)")

    let frameSize = frameBytes.partialValue
    // Frames without points or analogs hold nothing; a huge count must not spin here.
    guard frameSize > 0 else { return Decoded(points: [], residuals: [], analogs: []) }
    let analogSamples = frameCount * samplesPerFrame
    var points = [Float](repeating: .nan, count: frameCount * pointCount * 3)
    var residuals = [Float](repeating: -1, count: frameCount * pointCount)
    var analogs = [Double](repeating: 0, count: analogSamples * analogCount)
    let scale = Float(pointScale)
    for frame in 0..<frameCount {
      let frameStart = start + frame * frameSize
      for point in 0..<pointCount {
        let at = frameStart + point * 4 * word
        var xyz: (Float, Float, Float)
        var residualWord: Int
        if storage == .float {
          xyz = (
            bytes.uncheckedFloat(at), bytes.uncheckedFloat(at + 4),
            bytes.uncheckedFloat(at + 8)
          )
          let last = bytes.uncheckedFloat(at + 12)
          residualWord = last.isFinite && abs(last) < 2e9 ? Int(last) : -1
        } else {
          xyz = (
            Float(Int16(bitPattern: bytes.uncheckedUInt16(at))) * scale,
            Float(Int16(bitPattern: bytes.uncheckedUInt16(at + 2))) * scale,
            Float(Int16(bitPattern: bytes.uncheckedUInt16(at + 4))) * scale
          )
          residualWord = Int(Int16(bitPattern: bytes.uncheckedUInt16(at + 6)))
        }
        let valid =
          residualWord >= 0 && xyz.0.isFinite && xyz.1.isFinite && xyz.2.isFinite
        let index = frame * pointCount + point
        if valid {
          points[index * 3] = xyz.0
          points[index * 3 + 1] = xyz.1
          points[index * 3 + 2] = xyz.2
          residuals[index] = Float(residualWord & 0xff) * scale
        }
      }
      let analogStart = frameStart + pointCount * 4 * word
      for sample in 0..<samplesPerFrame {
        let row = frame * samplesPerFrame + sample
        for channel in 0..<analogCount {
          let at = analogStart + (sample * analogCount + channel) * word
          let raw: Double
          if storage == .float {
            raw = Double(bytes.uncheckedFloat(at))
          } else if analogFormatUnsigned {
            raw = Double(bytes.uncheckedUInt16(at))
          } else {
            raw = Double(Int16(bitPattern: bytes.uncheckedUInt16(at)))
          }
          analogs[row * analogCount + channel] = (raw - offsets[channel]) * scales[channel]
        }
      }
    }
    return Decoded(points: points, residuals: residuals, analogs: analogs)
  }
}
