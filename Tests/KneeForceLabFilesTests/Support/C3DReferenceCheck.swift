import Foundation
import XCTest

@testable import KneeForceLabFiles

/// Compares one file as our reader reads it with what ezc3d or py-c3d recorded: labels,
/// rates and counts exactly; points within half a storage step (integer storage) or to
/// float precision; analogs and force-plate outputs to 1e-5 relative; and every sample
/// through per-point and per-channel sums. Returns the largest
/// differences seen, which the tests print for docs/C3D.md.
struct C3DReferenceCheck {
  struct Largest: CustomStringConvertible {
    var point = 0.0
    var analogRelative = 0.0
    var forceRelative = 0.0
    var copMillimetres = 0.0
    var torqueRelative = 0.0
    var description: String {
      String(
        format: "points %.3g mm, analogs %.3g rel, forces %.3g rel, CoP %.3g mm, Tz %.3g rel",
        point, analogRelative, forceRelative, copMillimetres, torqueRelative)
    }
  }

  static func relative(_ a: Double, _ b: Double, floor: Double = 1e-9) -> Double {
    abs(a - b) / max(abs(b), floor)
  }

  /// - pointTolerance: nil for half a storage step of `file`.
  @discardableResult
  static func check(
    _ file: C3DFile, against reader: C3DReference.Reader, name: String,
    pointTolerance: Double? = nil, checkForcePlates: Bool = true, quantised: [Double]? = nil,
    referenceReadThisFile: Bool = true,
    fileLine: (StaticString, UInt) = (#filePath, #line)
  ) throws -> Largest {
    let (path, line) = fileLine
    var largest = Largest()
    XCTAssertEqual(
      file.pointLabels, reader.point_labels, "\(name) point labels", file: path, line: line)
    XCTAssertEqual(
      file.analogLabels, reader.analog_labels, "\(name) analog labels", file: path, line: line)
    XCTAssertEqual(file.pointRate, reader.point_rate, "\(name) point rate", file: path, line: line)
    XCTAssertEqual(
      file.analogRate, reader.analog_rate, "\(name) analog rate", file: path, line: line)
    XCTAssertEqual(
      file.firstFrame, reader.first_frame, "\(name) first frame", file: path, line: line)
    XCTAssertEqual(file.frameCount, reader.frames, "\(name) frames", file: path, line: line)
    XCTAssertEqual(
      file.analogSampleCount, reader.analog_samples, "\(name) analog samples", file: path,
      line: line)
    guard file.frameCount == reader.frames, file.pointLabels.count == reader.point_labels.count,
      file.analogSampleCount == reader.analog_samples
    else { return largest }

    let tolerance =
      pointTolerance ?? (file.storage == .integer ? file.pointScale / 2 : 0)
    XCTAssertFalse(reader.points.isEmpty, "\(name): no sampled points", file: path, line: line)
    for row in reader.points {
      guard let frame = row[0].map(Int.init), let index = row[1].map(Int.init) else {
        XCTFail("\(name): malformed reference row \(row)", file: path, line: line)
        continue
      }
      let ours = file.point(frame: frame, index: index)
      let mine = [Double(ours.x), Double(ours.y), Double(ours.z)]
      for axis in 0..<3 {
        if let expected = row[2 + axis] {
          let difference = abs(mine[axis] - expected)
          largest.point = max(largest.point, difference.isNaN ? .infinity : difference)
          let allowed = max(tolerance, 2 * Double(Float(expected).ulp))
          XCTAssertLessThanOrEqual(
            difference, allowed, "\(name) frame \(frame) point \(index) axis \(axis)",
            file: path, line: line)
        } else {
          XCTAssertTrue(
            mine[axis].isNaN, "\(name) frame \(frame) point \(index): expected invalid",
            file: path, line: line)
        }
      }
    }
    let summary = try C3DSummary(file)
    let ezc3dOffsets =
      referenceReadThisFile && reader.version.hasPrefix("ezc3d") && file.storage == .integer
    let unsigned = (file.parameter("ANALOG", "FORMAT")?.strings.first ?? "") == "UNSIGNED"
    // ezc3d subtracts |OFFSET| (read signed) from the sample read signed, where the standard
    // and py-c3d subtract OFFSET from the sample read as ANALOG:FORMAT says; where that
    // differs, ezc3d is checked against that model and its force plates are not compared.
    let ezc3dDiffers =
      ezc3dOffsets && (unsigned || summary.analogs.contains { $0.offset < 0 })
    for row in reader.analogs {
      let sample = Int(row[0])
      let channel = Int(row[1])
      var ours = file.analog(sample: sample, channel: channel)
      if ezc3dDiffers {
        let scale = summary.analogs[channel].scale
        let offset = summary.analogs[channel].offset
        let raw = (ours / scale + offset).rounded()
        let signedRaw = raw >= 32768 ? raw - 65536 : raw
        let signedOffset = offset >= 32768 ? offset - 65536 : offset
        ours = (signedRaw - abs(signedOffset)) * scale
      }
      if let steps = quantised {
        // Re-quantised to 16 bits: within half of that channel's step.
        let difference = abs(ours - row[2])
        largest.analogRelative = max(largest.analogRelative, difference / steps[channel])
        XCTAssertLessThanOrEqual(
          difference, steps[channel] / 2 * (1 + 1e-6) + 1e-9,
          "\(name) analog sample \(sample) channel \(channel): \(ours) vs \(row[2])",
          file: path, line: line)
        continue
      }
      let difference = relative(ours, row[2], floor: 1e-6)
      largest.analogRelative = max(largest.analogRelative, difference)
      XCTAssertLessThanOrEqual(
        difference, 1e-5,
        "\(name) analog sample \(sample) channel \(channel): \(ours) vs \(row[2])",
        file: path, line: line)
    }
    // Every sample, through sums: a point's coordinates over its valid frames (and how many
    // frames are valid), a channel's values and absolute values.
    if let sums = reader.point_sums {
      XCTAssertEqual(sums.count, file.pointCount, "\(name) point sums", file: path, line: line)
      for (index, row) in sums.enumerated() where index < file.pointCount {
        var total = [0.0, 0.0, 0.0]
        var valid = 0
        for frame in 0..<file.frameCount {
          let p = file.point(frame: frame, index: index)
          guard p.x.isFinite else { continue }
          valid += 1
          total[0] += Double(p.x)
          total[1] += Double(p.y)
          total[2] += Double(p.z)
        }
        XCTAssertEqual(
          valid, Int(row[3]), "\(name) point \(index) valid frames", file: path, line: line)
        for axis in 0..<3 {
          let allowed = 1e-9 * max(abs(row[axis]), Double(valid)) + Double(valid) * tolerance
          XCTAssertLessThanOrEqual(
            abs(total[axis] - row[axis]), allowed, "\(name) point \(index) sum \(axis)",
            file: path, line: line)
        }
      }
    }
    if let sums = reader.analog_sums, !ezc3dDiffers {
      XCTAssertEqual(sums.count, file.analogCount, "\(name) analog sums", file: path, line: line)
      for (channel, row) in sums.enumerated() where channel < file.analogCount {
        var total = 0.0
        var absolute = 0.0
        for sample in 0..<file.analogSampleCount {
          let value = file.analog(sample: sample, channel: channel)
          total += value
          absolute += abs(value)
        }
        let step = quantised.map { $0[channel] / 2 * (1 + 1e-6) } ?? 0
        // ezc3d's float-storage samples differ from ours and py-c3d's by up to 6e-8 relative.
        let allowed = 1e-7 * max(row[1], 1) + Double(file.analogSampleCount) * step
        XCTAssertLessThanOrEqual(
          abs(total - row[0]), allowed, "\(name) channel \(channel) sum", file: path, line: line)
        XCTAssertLessThanOrEqual(
          abs(absolute - row[1]), allowed, "\(name) channel \(channel) |sum|",
          file: path, line: line)
      }
    }
    if checkForcePlates, !ezc3dDiffers, let plates = reader.force_plates, !plates.isEmpty {
      let ours = try file.forcePlates()
      XCTAssertEqual(ours.count, plates.count, "\(name) force plates", file: path, line: line)
      for reference in plates where reference.index <= ours.count {
        let series = ours[reference.index - 1]
        let toPosition = reference.unit_position == "m" ? 1.0 : 1000.0
        let toMoment = reference.unit_moment == "Nm" ? 1.0 : 1000.0
        for row in reference.samples {
          guard let sampleValue = row[0] else { continue }
          let sample = Int(sampleValue)
          let force = series.force[sample]
          for axis in 0..<3 {
            guard let expected = row[1 + axis] else { continue }
            let difference = relative(force[axis], expected, floor: 1)
            largest.forceRelative = max(largest.forceRelative, difference)
            XCTAssertLessThanOrEqual(
              difference, 1e-5, "\(name) plate \(reference.index) sample \(sample) force \(axis)",
              file: path, line: line)
          }
          for axis in 0..<3 {
            let mine = series.centreOfPressure[sample][axis] * toPosition
            guard let expected = row[4 + axis] else {
              XCTAssertFalse(
                mine.isFinite && !(series.force[sample][2] == 0),
                "\(name) plate \(reference.index) sample \(sample): ezc3d has no CoP",
                file: path, line: line)
              continue
            }
            let difference = abs(mine - expected)
            largest.copMillimetres = max(
              largest.copMillimetres, difference.isNaN ? .infinity : difference)
            XCTAssertLessThanOrEqual(
              difference, 1e-5 * max(abs(expected), 1),
              "\(name) plate \(reference.index) sample \(sample) CoP \(axis): \(mine) vs \(expected)",
              file: path, line: line)
          }
          if let expected = row[7] {
            let mine = series.freeMoment[sample][2] * toMoment
            let difference = relative(mine, expected, floor: 1)
            largest.torqueRelative = max(
              largest.torqueRelative, difference.isNaN ? .infinity : difference)
            XCTAssertLessThanOrEqual(
              difference, 1e-5,
              "\(name) plate \(reference.index) sample \(sample) Tz: \(mine) vs \(expected)",
              file: path, line: line)
          }
        }
      }
    }
    if let events = reader.events {
      let ours = file.events.filter { $0.source == .eventGroup }
      XCTAssertEqual(
        ours.map(\.label), events.map(\.label), "\(name) events", file: path, line: line)
      XCTAssertEqual(
        ours.map(\.context), events.map(\.context), "\(name) events", file: path, line: line)
      for (mine, expected) in zip(ours, events) {
        XCTAssertEqual(
          mine.time, expected.time, accuracy: 1e-6, "\(name) event time", file: path, line: line)
      }
    }
    return largest
  }
}
