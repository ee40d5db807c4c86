import Foundation

/// The three CSV exports of `kneeforce c3d --csv`, built as strings so that the command
/// decides how to write them (atomically) and tests can read them without a disk.
extension C3DFile {
  /// Seconds of frame `index` (0-based in the file), counted from trial frame 1 as the C3D
  /// frame numbers are.
  public func frameTime(_ index: Int) -> Double {
    Double(firstFrame - 1 + index) / pointRate
  }

  public func analogTime(_ sample: Int) -> Double {
    Double(firstFrame - 1) / pointRate + Double(sample) / analogRate
  }

  /// `frame,time_s,<label>_x,_y,_z,...` in mm, an empty cell where a point is invalid.
  public func markersCSV() throws -> String {
    let toMillimetres = try lengthToMetres(pointUnits, parameter: "POINT:UNITS") * 1000
    var header = ["frame", "time_s"]
    for label in pointLabels { header += ["\(label)_x", "\(label)_y", "\(label)_z"] }
    var lines = [CSV.row(header)]
    lines.reserveCapacity(frameCount + 1)
    for frame in 0..<frameCount {
      var cells = [String(firstFrame + frame), CSV.time(frameTime(frame))]
      for index in 0..<(pointCount * 3) {
        let value = points[frame * pointCount * 3 + index]
        cells.append(CSV.number(Float(Double(value) * toMillimetres)))
      }
      lines.append(cells.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// `time_s,<label>,...`, one row per analog sample, scaled.
  public func analogsCSV() -> String {
    var lines = [CSV.row(["time_s"] + analogLabels)]
    lines.reserveCapacity(analogSampleCount + 1)
    for sample in 0..<analogSampleCount {
      var cells = [CSV.time(analogTime(sample))]
      for channel in 0..<analogCount {
        cells.append(CSV.number(Float(analogs[sample * analogCount + channel])))
      }
      lines.append(cells.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// `time_s,fp<k>_fx,_fy,_fz,_cop_x,_cop_y,_cop_z,_tz,...` in N, m and N·m, lab frame; an
  /// empty centre of pressure where Fz is 0. nil when the file has no force plates.
  public func forcePlatesCSV() throws -> String? {
    let plates = try forcePlates()
    guard !plates.isEmpty else { return nil }
    var header = ["time_s"]
    for plate in plates {
      let k = plate.plate.index
      header += ["_fx", "_fy", "_fz", "_cop_x", "_cop_y", "_cop_z", "_tz"].map { "fp\(k)\($0)" }
    }
    var lines = [CSV.row(header)]
    lines.reserveCapacity(analogSampleCount + 1)
    for sample in 0..<analogSampleCount {
      var cells = [CSV.time(analogTime(sample))]
      for plate in plates {
        let force = plate.force[sample]
        let cop = plate.centreOfPressure[sample]
        cells += force.map { CSV.number(Float($0)) }
        cells += cop.map { CSV.number(Float($0)) }
        cells.append(CSV.number(Float(plate.freeMoment[sample][2])))
      }
      lines.append(cells.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

enum CSV {
  /// Zero (of either sign) as "0": half of an idle plate's cells.
  static func number(_ value: Float) -> String {
    value == 0 ? "0" : value.isFinite ? "\(value)" : ""
  }

  /// Seconds to the microsecond: a 32-bit float would blur samples an hour into a trial.
  static func time(_ value: Double) -> String {
    value.isFinite ? String(format: "%.6f", value) : ""
  }

  static func row(_ cells: [String]) -> String {
    cells.map { cell in
      cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
        ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
    }.joined(separator: ",")
  }
}
