import Foundation

/// Writes trial CSVs in the CAMS-Knee full-data layout (docs/IMPORT.md) from a known
/// synthetic motion, so that the importer can be tested without the licensed files: a
/// standing contralateral leg, the instrumented knee flexing as `flexion(t)`, one plate under
/// each foot, four EMG channels, implant loads at a quarter of the analog rate.
struct CAMSKneeTestWriter {
  var patient = "K3R"
  var bodyWeightN = 800.0
  var analogRate = 1000.0
  var markerEvery = 10
  var duration = 1.0
  var withMoments = true
  var events: [(String, Double)] = [
    ("Right Foot Strike", 0.2), ("Right Foot Off", 0.8), ("Left Foot Strike", 0.5),
  ]
  /// Replacements of whole header or label cells, for malformed variants.
  var blockNames: [String]? = nil
  var plateForceUnit = "N"
  var emgUnit = "V"
  var omitBodyweight = false
  var badCell: (row: Int, column: Int, text: String)? = nil

  static let condylarDistanceM = 0.040

  var isLeft: Bool { patient.hasSuffix("L") }

  static func flexion(_ t: Double) -> Double { 5 + 25 * (1 - cos(2 * Double.pi * t)) / 2 }
  static func fres(_ t: Double) -> Double { 1000 + 500 * sin(2 * Double.pi * t) }
  static func mx(_ t: Double) -> Double { 10 * sin(2 * Double.pi * t) }

  static let markerNames = [
    "RASI", "LASI", "RPSI", "LPSI", "THI1", "THI2", "THI3", "TIB1", "TIB2", "TIB3",
    "HEE", "TOE", "MT5", "ANKL", "ANKM", "OHEE", "OTOE",
  ]

  static let mappingText = """
    # role,marker for the CAMS-Knee test writer
    role,marker
    pelvis_right_asis,RASI
    pelvis_left_asis,LASI
    pelvis_right_psis,RPSI
    pelvis_left_psis,LPSI
    thigh_proximal,THI1
    thigh_distal,THI2
    thigh_lateral,THI3
    shank_proximal,TIB1
    shank_distal,TIB2
    shank_lateral,TIB3
    foot_heel,HEE
    foot_toe,TOE
    foot_lateral,MT5
    ankle_lateral,ANKL
    ankle_medial,ANKM
    contralateral_heel,OHEE
    contralateral_toe,OTOE
    """

  /// Marker positions, mm, lab X forward, Y to the left, Z up.
  func markers(_ t: Double) -> [[Double]] {
    let ly: Double = isLeft ? 1 : -1  // the instrumented leg's lateral direction along Y
    let theta = Self.flexion(t) * Double.pi / 180
    func add(_ a: [Double], _ b: [Double], _ s: Double = 1) -> [Double] {
      zip(a, b).map { $0 + s * $1 }
    }
    let lat = [0, ly, 0.0]
    let hip = [0, ly * 0.09, 0.9], knee = [0, ly * 0.09, 0.5]
    let down = [-sin(theta), 0, -cos(theta)]
    let ant = [cos(theta), 0, -sin(theta)]
    let ankle = add(knee, down, 0.4)
    let foot = add(ankle, down, 0.05)
    let m: [[Double]] = [
      [0.1, -0.12, 1.0], [0.1, 0.12, 1.0], [-0.05, -0.05, 1.0], [-0.05, 0.05, 1.0],
      add(hip, [0, 0, -0.05]), add(knee, [0, 0, 0.05]),
      add(add(hip, knee), lat, 0.12).map { $0 / 2 },
      add(knee, down, 0.05), add(knee, down, 0.35), add(add(knee, down, 0.2), lat, 0.05),
      add(foot, ant, -0.05), add(foot, ant, 0.15), add(add(foot, ant, 0.05), lat, 0.04),
      add(ankle, lat, 0.035), add(ankle, lat, -0.035),
      [-0.05, -ly * 0.09, 0.0], [0.15, -ly * 0.09, 0.0],
    ]
    return m.map { $0.map { $0 * 1000 } }
  }

  func text() -> String {
    var lines = [String](repeating: "", count: 26)
    lines[0] = "CAMS-Knee export (test writer)"
    lines[1] = "Patient,\(patient)"
    lines[2] = "Activity,Level walking"
    if !omitBodyweight { lines[3] = "Bodyweight,\(bodyWeightN)" }
    for (i, e) in events.enumerated() { lines[9 + i] = "\(e.0),\(e.1)" }
    var blocks: [(String, [String], [String])] = []
    var trajLabels: [String] = []
    for name in Self.markerNames { trajLabels += ["\(name)_X", "\(name)_Y", "\(name)_Z"] }
    blocks.append(("TRAJECTORIES", trajLabels, trajLabels.map { _ in "mm" }))
    for k in 1...2 {
      let labels = [
        "Fx_lab_\(k)", "Fy_lab_\(k)", "Fz_lab_\(k)", "COPx_lab_\(k)", "COPy_lab_\(k)",
        "COPz_lab_\(k)", "Tz_lab_\(k)",
      ]
      blocks.append(
        (
          "FORCE PLATE \(k)", labels,
          [plateForceUnit, plateForceUnit, plateForceUnit, "mm", "mm", "mm", "Nmm"]
        ))
    }
    let side = isLeft ? "L" : "R"
    let other = isLeft ? "R" : "L"
    let emgLabels = [
      "RectFem\(side)_01", "VastusMed\(side)_02", "RectFem\(other)_09",
      "VastusMed\(other)_10",
    ]
    blocks.append(("EMG DATA", emgLabels, emgLabels.map { _ in emgUnit }))
    var implant = ["Fx", "Fy", "Fz", "Fres"]
    var implantUnits = ["N", "N", "N", "N"]
    if withMoments {
      implant += ["Mx", "My", "Mz"]
      implantUnits += ["Nm", "Nm", "Nm"]
    }
    blocks.append(("In-vivo knee prosthesis data", implant, implantUnits))
    if let blockNames {
      blocks = zip(blocks, blockNames).compactMap { $1.isEmpty ? nil : ($1, $0.1, $0.2) }
    }
    var blockRow = ["", "", ""]
    var labelRow = ["Time", "Sample", "Frame"]
    var unitRow = ["s", "", ""]
    for b in blocks {
      blockRow += [b.0] + [String](repeating: "", count: b.1.count - 1)
      labelRow += b.1
      unitRow += b.2
    }
    lines[22] = blockRow.joined(separator: ",")
    lines[23] = labelRow.joined(separator: ",")
    lines[24] = unitRow.joined(separator: ",")
    let count = Int(duration * analogRate)
    for i in 0..<count {
      let t = Double(i) / analogRate
      var row = [
        String(format: "%.4f", t), "\(i)",
        String(format: "%g", 1 + Double(i) / Double(markerEvery)),
      ]
      for b in blocks {
        switch b.0 {
        case "TRAJECTORIES":
          if i % markerEvery == 0 {
            for p in markers(t) { row += p.map { String(format: "%.3f", $0) } }
          } else {
            row += [String](repeating: "NaN", count: b.1.count)
          }
        case let name where name.hasPrefix("FORCE PLATE"):
          let instrumented = name.hasSuffix("1")
          let loaded = !instrumented || (t >= 0.2 && t < 0.8)
          let m = markers(t)
          let where_ =
            instrumented ? m[11].indices.map { (m[10][$0] + m[11][$0]) / 2 } : [50, m[15][1], 0]
          let fz = loaded ? (instrumented ? 600.0 : 400.0) : 0
          // The force the subject exerts on the plate (downwards).
          row += ["0", "0", String(-fz)]
          row += loaded ? [String(where_[0]), String(where_[1]), "0"] : ["NaN", "NaN", "NaN"]
          row += ["0"]
        case "EMG DATA":
          row += (0..<4).map {
            String(format: "%.6f", 0.001 * sin(Double(i) * 1.3 + Double($0)) * (1 + t))
          }
        default:
          if i % 4 == 0 {
            let f = Self.fres(t)
            row += ["0", "0", String(-f)].map { $0 } + [String(f)]
            if withMoments { row += [String(Self.mx(t)), "0", "0"] }
          } else {
            row += [String](repeating: "NaN", count: b.1.count)
          }
        }
      }
      if let badCell, badCell.row == i { row[badCell.column] = badCell.text }
      lines.append(row.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  func write(to folder: URL, name: String = "K3R_walking_01") throws -> URL {
    let url = folder.appendingPathComponent("\(name)_export_proc_data.csv")
    try text().write(to: url, atomically: true, encoding: .utf8)
    return url
  }
}
