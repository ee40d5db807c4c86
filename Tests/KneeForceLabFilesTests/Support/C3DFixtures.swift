import Foundation

@testable import KneeForceLabFiles

/// The files the C3D tests read that are ours to make: synthetic content in every processor
/// and storage format, a trial longer than 65535 frames, and re-encodings of the real files.
/// `scripts/make_c3d_references.py` has ezc3d and py-c3d read the same bytes.
enum C3DFixtures {
  static let syntheticVariants:
    [(name: String, processor: C3DProcessor, storage: C3DStorage, unsigned: Bool)] = [
      ("synthetic_intel_float", .intel, .float, false),
      ("synthetic_intel_int", .intel, .integer, false),
      ("synthetic_intel_uint", .intel, .integer, true),
      ("synthetic_dec_float", .dec, .float, false),
      ("synthetic_dec_int", .dec, .integer, false),
      ("synthetic_mips_float", .mips, .float, false),
      ("synthetic_mips_int", .mips, .integer, false),
    ]

  static let convertedVariants: [(suffix: String, processor: C3DProcessor, storage: C3DStorage)] = [
    ("dec_float", .dec, .float),
    ("mips_float", .mips, .float),
    ("intel_int", .intel, .integer),
    ("dec_int", .dec, .integer),
    ("mips_int", .mips, .integer),
  ]

  /// Six markers on 40 frames with gaps, 28 analog channels at 4 samples per frame feeding
  /// one force plate of each type (2, 4, 1, 3) with non-zero origins, labels split across
  /// LABELS and LABELS2, header and EVENT-group events.
  static func synthetic(_ processor: C3DProcessor, _ storage: C3DStorage, unsigned: Bool = false)
    -> C3DWriter
  {
    var writer = C3DWriter()
    writer.processor = processor
    writer.storage = storage
    writer.pointScale = storage == .float ? 0.1 : 0.05
    writer.pointRate = 100
    writer.analogSamplesPerFrame = 4
    writer.firstFrame = 7
    writer.frameCount = 40
    writer.labelsPerParameter = 4
    writer.pointLabels = ["RHeel", "RToe", "LHeel", "LToe", "Sacrum", "C7 marker"]
    writer.pointUnits = "mm"
    for frame in 0..<writer.frameCount {
      for point in 0..<writer.pointLabels.count {
        let t = Float(frame) / 100
        var xyz: [Float] = [
          100 * Float(point) + 800 * t + 13.37,
          -250 + 30 * sin(6 * t + Float(point)),
          90 + 40 * Float(point) + 20 * cos(5 * t),
        ]
        if (point == 1 && (10..<14).contains(frame)) || (point == 4 && frame == 0) {
          xyz = [.nan, .nan, .nan]
        }
        writer.points += xyz
        writer.residuals.append(Float(point % 3) * 0.5)
      }
    }
    var labels: [String] = []
    var units: [String] = []
    for plate in 1...4 {
      let names: [String]
      switch plate {
      case 3: names = ["Fx", "Fy", "Fz", "COPx", "COPy", "Tz"]
      case 4: names = ["Fx12", "Fx34", "Fy14", "Fy23", "Fz1", "Fz2", "Fz3", "Fz4"]
      default: names = ["Fx", "Fy", "Fz", "Mx", "My", "Mz"]
      }
      for name in names {
        labels.append("\(name)\(plate)")
        switch (plate, name) {
        case (3, "COPx"), (3, "COPy"): units.append("mm")
        case (3, "Tz"), (_, "Mx"), (_, "My"), (_, "Mz"): units.append("Nmm")
        default: units.append("N")
        }
      }
    }
    labels += ["EMG tibant", "EMG soleus"]
    units += ["V", "V"]
    writer.analogLabels = labels
    writer.analogUnits = units
    let channels = labels.count
    let samples = writer.frameCount * writer.analogSamplesPerFrame
    var values = [Double](repeating: 0, count: samples * channels)
    for sample in 0..<samples {
      let t = Double(sample) / 400
      for channel in 0..<channels {
        let label = labels[channel]
        let phase = Double(channel)
        var value: Double
        if label.hasPrefix("Fz") {
          value = -(label.count > 3 ? 180 : 700) - 150 * sin(7 * t + phase)
        } else if label.hasPrefix("F") {
          value = 40 * sin(5 * t + phase) + 5
        } else if label.hasPrefix("M") || label.hasPrefix("Tz") {
          value = 30_000 * sin(3 * t + phase) - 2_000
        } else if label.hasPrefix("COP") {
          value = 60 * sin(2 * t + phase)
        } else {
          value = 0.002 * sin(40 * t + phase)
        }
        values[sample * channels + channel] = value
      }
    }
    writer.generalScale = 0.5
    if storage == .float {
      writer.analogScales = (0..<channels).map { Float(2 + $0 % 3) }
      writer.analogOffsets = (0..<channels).map { Int16($0 % 4) }
    } else {
      writer.analogUnsigned = unsigned
      writer.analogScales = (0..<channels).map { channel in
        let peak = (0..<samples).reduce(0) { max($0, abs(values[$1 * channels + channel])) }
        return Float(peak / 30_000 / 0.5)
      }
      writer.analogOffsets = (0..<channels).map {
        unsigned ? Int16(bitPattern: 32768) : Int16($0 % 5) * 100
      }
    }
    let offsets = writer.analogOffsets.map {
      unsigned ? Double(UInt16(bitPattern: $0)) : Double($0)
    }
    writer.analogRaw = (0..<(samples * channels)).map { index in
      let channel = index % channels
      return Float(
        values[index] / (Double(writer.analogScales[channel]) * Double(writer.generalScale))
          + offsets[channel])
    }
    writer.groups = [forcePlateGroup(), eventGroup()]
    writer.headerEvents = [("RHS", 0.1), ("LTO", 0.25)]
    return writer
  }

  static func forcePlateGroup() -> C3DWriter.Group {
    let corners: [Float] = [
      // plate 1 (type 2): the real lab's orientation, x along -X, z down
      -600, 650, -6, 0, 650, -6, 0, -250, -6, -600, -250, -6,
      // plate 2 (type 4): rotated 30 degrees about the vertical
      519.6, 300, 0, 0, 600, 0, -259.8, 150, 0, 259.8, -150, 0,
      // plate 3 (type 1): plate axes along the lab's
      1400, 900, 0, 800, 900, 0, 800, 500, 0, 1400, 500, 0,
      // plate 4 (type 3)
      2000, 700, 0, 1600, 700, 0, 1600, 100, 0, 2000, 100, 0,
    ]
    let origins: [Float] = [0.5, -1.2, -40, 2, 1, -35, 0, 0, 0, 120, 200, -45]
    var channels: [Int16] = []
    for plate in 0..<4 {
      let first = [0, 6, 12, 18][plate]
      let count = plate == 3 ? 8 : 6
      for row in 0..<8 { channels.append(row < count ? Int16(first + row + 1) : 0) }
    }
    var calibration = [Float](repeating: 0, count: 36 * 4)
    for row in 0..<6 {
      for column in 0..<6 {
        // column-major, as the C3D file stores it; plate 2 only
        calibration[36 + row + 6 * column] =
          row == column ? 1 + 0.01 * Float(row) : 0.002 * Float(row - column) + 0.001 * Float(row)
      }
    }
    return C3DWriter.Group(
      name: "FORCE_PLATFORM",
      parameters: [
        .init(name: "USED", value: .integers([4], dimensions: [])),
        .init(name: "TYPE", value: .integers([2, 4, 1, 3], dimensions: [4])),
        .init(name: "ZERO", value: .integers([1, 0], dimensions: [2])),
        .init(name: "CORNERS", value: .floats(corners, dimensions: [3, 4, 4])),
        .init(name: "ORIGIN", value: .floats(origins, dimensions: [3, 4])),
        .init(name: "CHANNEL", value: .integers(channels, dimensions: [8, 4])),
        .init(name: "CAL_MATRIX", value: .floats(calibration, dimensions: [6, 6, 4])),
      ])
  }

  static func eventGroup() -> C3DWriter.Group {
    C3DWriter.Group(
      name: "EVENT",
      parameters: [
        .init(name: "USED", value: .integers([3], dimensions: [])),
        .init(name: "CONTEXTS", value: .characters(["Right", "Left", "Right"])),
        .init(name: "LABELS", value: .characters(["Foot Strike", "Foot Off", "Foot Off"])),
        .init(name: "TIMES", value: .floats([0, 0.12, 0, 0.2, 0, 0.33], dimensions: [2, 3])),
      ])
  }

  /// One marker and one analog channel on 70 000 frames: frame numbers past the header's
  /// 16-bit fields, so the count comes from TRIAL:ACTUAL_START_FIELD/ACTUAL_END_FIELD.
  static func longTrial() -> C3DWriter {
    var writer = C3DWriter()
    writer.storage = .integer
    writer.pointScale = 0.1
    writer.pointRate = 1000
    writer.analogSamplesPerFrame = 1
    writer.firstFrame = 1
    writer.frameCount = 70_000
    writer.pointLabels = ["M1"]
    writer.points = (0..<writer.frameCount).flatMap { frame -> [Float] in
      let f = Float(frame % 1000)
      return [f * 0.1, -f * 0.2, 50]
    }
    writer.residuals = [Float](repeating: 0, count: writer.frameCount)
    writer.analogLabels = ["Ch1"]
    writer.analogUnits = ["V"]
    writer.analogScales = [0.001]
    writer.analogOffsets = [0]
    writer.analogRaw = (0..<writer.frameCount).map { Float($0 % 20_000 - 10_000) }
    return writer
  }

  /// A real file written again in another processor format or with integer storage. Integer
  /// storage picks a point scale and per-channel analog scales that fit the data in 16 bits
  /// and gives every other channel an offset.
  static func converted(_ file: C3DFile, processor: C3DProcessor, storage: C3DStorage)
    -> C3DWriter
  {
    var writer = C3DWriter()
    writer.processor = processor
    writer.storage = storage
    writer.pointRate = Float(file.pointRate)
    writer.analogSamplesPerFrame = file.analogSamplesPerFrame
    writer.firstFrame = file.firstFrame
    writer.frameCount = file.frameCount
    writer.pointLabels = file.pointLabels
    writer.pointUnits = file.pointUnits
    writer.points = file.points
    writer.residuals = file.residuals
    writer.analogLabels = file.analogLabels
    writer.analogUnits = file.analogUnits
    let channels = file.analogCount
    let samples = file.analogSampleCount
    if storage == .float {
      writer.pointScale = Float(file.pointScale)
      writer.analogScales = [Float](repeating: 1, count: channels)
      writer.analogOffsets = [Int16](repeating: 0, count: channels)
      writer.analogRaw = file.analogs.map { Float($0) }
    } else {
      let peak = file.points.reduce(Float(1)) { $0.isFinite && $1.isFinite ? max($0, abs($1)) : $0 }
      writer.pointScale = peak / 32_000
      writer.analogScales = (0..<channels).map { channel in
        let peak = (0..<samples).reduce(0) { max($0, abs(file.analogs[$1 * channels + channel])) }
        return peak > 0 ? Float(peak / 30_000) : 1
      }
      writer.analogOffsets = (0..<channels).map { $0 % 2 == 0 ? 0 : -500 }
      writer.analogRaw = (0..<(samples * channels)).map { index in
        let channel = index % channels
        return Float(
          file.analogs[index] / Double(writer.analogScales[channel])
            + Double(writer.analogOffsets[channel]))
      }
    }
    for group in file.groups where !["POINT", "ANALOG"].contains(group.name) {
      writer.groups.append(
        C3DWriter.Group(name: group.name, parameters: group.parameters.map(copy)))
    }
    return writer
  }

  private static func copy(_ parameter: C3DParameter) -> C3DWriter.Parameter {
    let value: C3DWriter.Value
    switch parameter.type {
    case -1: value = .characters(parameter.strings)
    case 1:
      value = .bytes(
        parameter.unsignedIntegers.map { UInt8(truncatingIfNeeded: $0) },
        dimensions: parameter.dimensions)
    case 2:
      value = .integers(
        parameter.unsignedIntegers.map { Int16(truncatingIfNeeded: $0) },
        dimensions: parameter.dimensions)
    default:
      value = .floats(parameter.doubles.map { Float($0) }, dimensions: parameter.dimensions)
    }
    return C3DWriter.Parameter(name: parameter.name, value: value)
  }
}
