/// A force plate as described by FORCE_PLATFORM, lengths converted to metres.
public struct C3DForcePlate: Sendable {
  public let index: Int
  public let type: Int
  /// 0-based analog channel indices, in the order the plate type defines.
  public let channels: [Int]
  /// The four corners in the lab, metres, in the file's order (plate quadrants 1-4).
  public let corners: [[Double]]
  /// FORCE_PLATFORM:ORIGIN: the plate's geometric surface centre seen from the transducer
  /// origin, plate axes, metres (type 3: the sensor offsets a, b, az0).
  public let origin: [Double]
  /// Row-major 6x6 for type 4 (the file stores it column by column); empty otherwise.
  public let calibration: [Double]
  /// Plate axes in the lab: columns x, y, z, as rows of a 3x3 (rotation[row][column]).
  public let rotation: [[Double]]
  public let centre: [Double]
  /// Converts each channel to SI (N, N·m, m): moments in N·mm become N·m.
  public let channelFactors: [Double]
}

/// Plate outputs in the lab frame, one value per analog sample.
public struct C3DForcePlateSeries: Sendable {
  public let plate: C3DForcePlate
  /// Force applied to the plate, N, lab axes.
  public var force: [[Double]]
  /// Centre of pressure on the plate surface, m, lab; NaN where Fz is 0.
  public var centreOfPressure: [[Double]]
  /// Free moment about the plate normal at the centre of pressure, N·m, as a lab vector.
  public var freeMoment: [[Double]]
}

extension C3DFile {
  /// Reads the FORCE_PLATFORM group; an error names the parameter that is missing or short.
  public func forcePlateConfigurations() throws -> [C3DForcePlate] {
    guard let group = groups.first(where: { $0.name == "FORCE_PLATFORM" }),
      let used = group.parameter("USED")?.unsignedIntegers.first, used > 0
    else { return [] }
    let lengthFactor = try lengthToMetres(pointUnits, parameter: "POINT:UNITS")
    func values(_ name: String, _ perPlate: Int) throws -> [Double] {
      let parameter = group.parameter(name)
      let values = parameter?.doubles ?? []
      guard values.count >= perPlate * used else {
        throw LabFileError(
          file: self.name,
          location: .byte(parameter?.offset ?? group.parameters.first?.offset ?? 0),
          message: "FORCE_PLATFORM:\(name) has \(values.count) values, expected \(perPlate) per "
            + "plate for FORCE_PLATFORM:USED = \(used)")
      }
      return values
    }
    let typeParameter = group.parameter("TYPE")
    let types = typeParameter?.integers ?? []
    guard types.count >= used else {
      throw LabFileError(
        file: name, location: .byte(typeParameter?.offset ?? 0),
        message: "FORCE_PLATFORM:TYPE has \(types.count) values, FORCE_PLATFORM:USED is \(used)")
    }
    let channelParameter = group.parameter("CHANNEL")
    let channelRows = channelParameter?.dimensions.first ?? 0
    let channelValues = channelParameter?.integers ?? []
    let corners = try values("CORNERS", 12)
    let origins = try values("ORIGIN", 3)
    var plates: [C3DForcePlate] = []
    for plate in 0..<used {
      let type = types[plate]
      let needed: Int
      switch type {
      case 1, 2, 4: needed = 6
      case 3: needed = 8
      default:
        throw LabFileError(
          file: name, location: .byte(typeParameter?.offset ?? 0),
          message: "force plate \(plate + 1) has type \(type); this reader knows types 1 to 4")
      }
      guard channelRows >= needed, channelValues.count >= channelRows * (plate + 1) else {
        throw LabFileError(
          file: name, location: .byte(channelParameter?.offset ?? 0),
          message: "FORCE_PLATFORM:CHANNEL has \(channelRows) rows and \(channelValues.count) "
            + "values; plate \(plate + 1) of type \(type) needs \(needed) channels")
      }
      let channels = (0..<needed).map { channelValues[plate * channelRows + $0] - 1 }
      if let bad = channels.first(where: { $0 < 0 || $0 >= analogCount }) {
        throw LabFileError(
          file: name, location: .byte(channelParameter?.offset ?? 0),
          message: "force plate \(plate + 1) uses analog channel \(bad + 1); the file has "
            + "\(analogCount)")
      }
      let plateCorners = (0..<4).map { corner in
        (0..<3).map { corners[plate * 12 + corner * 3 + $0] * lengthFactor }
      }
      var origin = (0..<3).map { origins[plate * 3 + $0] * lengthFactor }
      // The standard's vector points from the transducer origin up to the surface, so its z
      // is negative for plates with z down; some writers store the opposite vector. As
      // ezc3d does, a positive z is taken to be that and flipped (not for type 3, whose
      // ORIGIN holds the sensor offsets a, b, az0).
      if type != 3, origin[2] > 0 { origin = origin.map { -$0 } }
      var calibration: [Double] = []
      if type == 4 {
        let matrix = try values("CAL_MATRIX", 36)
        // Stored column by column: element (row, column) at row + 6 * column.
        calibration = (0..<36).map { matrix[plate * 36 + ($0 % 6) * 6 + $0 / 6] }
      }
      let factors = try channels.enumerated().map { position, channel -> Double in
        let unit = analogUnits[channel]
        switch (type, position) {
        case (1, 3), (1, 4): return try lengthToMetres(unit, parameter: "ANALOG:UNITS")
        case (1, 5), (2, 3...), (4, 3...): return try momentToNewtonMetres(unit)
        default: return 1
        }
      }
      guard let axes = C3DForcePlate.axes(plateCorners) else {
        throw LabFileError(
          file: name, location: .byte(group.parameter("CORNERS")?.offset ?? 0),
          message: "FORCE_PLATFORM:CORNERS of plate \(plate + 1) do not span a plane")
      }
      plates.append(
        C3DForcePlate(
          index: plate + 1, type: type, channels: channels, corners: plateCorners,
          origin: origin, calibration: calibration, rotation: axes,
          centre: (0..<3).map { axis in plateCorners.reduce(0) { $0 + $1[axis] } / 4 },
          channelFactors: factors))
    }
    return plates
  }

  /// Forces, centres of pressure and free moments of every plate in the lab frame.
  public func forcePlates() throws -> [C3DForcePlateSeries] {
    try forcePlateConfigurations().map { plate in
      var series = C3DForcePlateSeries(
        plate: plate, force: [], centreOfPressure: [], freeMoment: [])
      series.force.reserveCapacity(analogSampleCount)
      for sample in 0..<analogSampleCount {
        let raw = plate.channels.map { analog(sample: sample, channel: $0) }
        let local = plate.plateFrame(plate.calibrated(raw))
        series.force.append(plate.toLab(local.force))
        series.centreOfPressure.append(
          zip(plate.toLab(local.cop), plate.centre).map { $0 + $1 })
        series.freeMoment.append(plate.toLab([0, 0, local.tz]))
      }
      return series
    }
  }

  func lengthToMetres(_ unit: String, parameter: String) throws -> Double {
    switch unit.lowercased() {
    case "mm", "": return 0.001
    case "cm": return 0.01
    case "dm": return 0.1
    case "m": return 1
    default:
      throw LabFileError(
        file: name, location: .whole,
        message: "\(parameter) is \"\(unit)\"; expected a length unit (mm, cm, dm, m)")
    }
  }

  func momentToNewtonMetres(_ unit: String) throws -> Double {
    let compact = unit.lowercased().filter { !" .*·-".contains($0) }
    switch compact {
    case "nmm", "": return 0.001
    case "nm": return 1
    default:
      throw LabFileError(
        file: name, location: .whole,
        message: "force plate moment channel unit is \"\(unit)\"; expected N·mm or N·m")
    }
  }
}

extension C3DForcePlate {
  /// x from corner 2 to corner 1, y from corner 4 to corner 1, z = x × y, y re-orthogonalised:
  /// the C3D corner order, as ezc3d builds it.
  /// nil when the corners are degenerate (coincident or in a line).
  static func axes(_ corners: [[Double]]) -> [[Double]]? {
    guard let x = normalised(zip(corners[0], corners[1]).map { $0 - $1 }),
      let z = normalised(cross(x, zip(corners[0], corners[3]).map { $0 - $1 }))
    else { return nil }
    let y = cross(z, x)
    return (0..<3).map { row in [x[row], y[row], z[row]] }
  }

  func toLab(_ vector: [Double]) -> [Double] {
    (0..<3).map { row in (0..<3).reduce(0) { $0 + rotation[row][$1] * vector[$1] } }
  }

  /// Type 4 mixes forces and moments through CAL_MATRIX in the file's units, so the matrix
  /// is applied before the channels are converted to SI.
  func calibrated(_ raw: [Double]) -> [Double] {
    var channels = raw
    if type == 4 {
      channels = (0..<6).map { row in
        (0..<6).reduce(0) { $0 + calibration[row * 6 + $1] * raw[$1] }
      }
    }
    return zip(channels, channelFactors).map { $0 * $1 }
  }

  /// Channel values (SI) to force, CoP relative to the surface centre and free moment, all
  /// in plate axes.
  func plateFrame(_ raw: [Double]) -> (force: [Double], cop: [Double], tz: Double) {
    switch type {
    case 1:
      return ([raw[0], raw[1], raw[2]], [raw[3], raw[4], 0], raw[5])
    case 3:
      let (a, b, az0) = (origin[0], origin[1], origin[2])
      let force = [raw[0] + raw[1], raw[2] + raw[3], raw[4] + raw[5] + raw[6] + raw[7]]
      let mx = b * (raw[4] + raw[5] - raw[6] - raw[7]) + force[1] * az0
      let my = a * (-raw[4] + raw[5] + raw[6] - raw[7]) - force[0] * az0
      let mz = b * (-raw[0] + raw[1]) + a * (raw[2] - raw[3])
      let px = -my / force[2]
      let py = mx / force[2]
      return (force, [px, py, 0], mz - force[1] * px + force[0] * py)
    default:
      let channels = raw
      let force = Array(channels[0..<3])
      let (mx, my, mz) = (channels[3], channels[4], channels[5])
      // The surface lies at z = origin.z from the transducer origin; the moment about the
      // surface point P = (px, py, oz) has no x or y part at the centre of pressure.
      let oz = origin[2]
      let px = (oz * force[0] - my) / force[2]
      let py = (mx + oz * force[1]) / force[2]
      let tz = mz - px * force[1] + py * force[0]
      return (force, [px - origin[0], py - origin[1], 0], tz)
    }
  }

  private static func cross(_ a: [Double], _ b: [Double]) -> [Double] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
  }

  private static func normalised(_ v: [Double]) -> [Double]? {
    let length = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).squareRoot()
    return length > 1e-12 && length.isFinite ? v.map { $0 / length } : nil
  }
}
