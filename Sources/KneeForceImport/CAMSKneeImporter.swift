import Foundation
import KneeForceData
import KneeForceFiles

/// CAMS-Knee full-data trial CSVs (`*_export_proc_data.csv`), in the layout that
/// ../shared/CAMS_KNEE_FORMAT.md reports from third-party reader code (docs/IMPORT.md has
/// the exact rules this reader holds a file to). No real file has been seen here, so the
/// reader is strict: anything it does not understand is an error naming the line and column.
public struct CAMSKneeImporter {
  public static let defaultCondylarDistanceMM = 40.0
  static let headerLines = 25
  static let firstDataLine = 27
  static let blockLine = 23

  public var source: String
  public var mapping: MarkerMapping
  /// Distance between the medial and lateral contact points, mm: medial = F/2 + Mx/d,
  /// lateral = F/2 − Mx/d.
  public var condylarDistanceMM = defaultCondylarDistanceMM

  public init(source: String, mapping: MarkerMapping) {
    self.source = source
    self.mapping = mapping
  }

  /// What the reader found in one file, for the log and the tests.
  public struct Parsed {
    public var patient: String
    public var side: Side
    public var activity: String?
    public var bodyWeightN: Double
    public var events: [(name: String, time: Double)]
    public var blocks: [(name: String, columns: Range<Int>)]
    public var labels: [String]
    public var units: [String]
    public var rows: [[Double]]
  }

  static let knownBlocks = [
    "TRAJECTORIES", "EMG DATA", "In-vivo knee prosthesis data",
    "Transformation matrix tibia to lab CS", "Transformation matrix femur to lab CS",
  ]

  static func isForcePlate(_ name: String) -> Int? {
    guard name.hasPrefix("FORCE PLATE "), let k = Int(name.dropFirst("FORCE PLATE ".count)),
      (1...8).contains(k)
    else { return nil }
    return k
  }

  public static func parse(_ text: String, file: String) throws -> Parsed {
    let lines = NumericTable.splitLines(text)
    guard lines.count >= firstDataLine else {
      throw ImportError(
        file, "",
        "\(lines.count) lines; a CAMS-Knee trial has a 25-line header and data from line 27")
    }
    func cells(_ n: Int) -> [String] {
      lines[n - 1].split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
    }
    var patient: String?
    var activity: String?
    var weight: Double?
    var events: [(String, Double)] = []
    for n in 1...22 {
      let c = cells(n)
      guard let key = c.first, !key.isEmpty else { continue }
      let value = c.count > 1 ? c[1] : ""
      switch key.lowercased() {
      case "patient": patient = value
      case "activity": activity = value
      case "bodyweight":
        guard let w = Double(value), w > 100, w < 4000 else {
          throw ImportError(file, "\(n):2", "Bodyweight \"\(value.prefix(20))\" is not 100-4000 N")
        }
        weight = w
      default:
        if n >= 10, let t = Double(value), t.isFinite { events.append((key, t)) }
      }
    }
    guard let patient, let last = patient.last, let side = Side(rawValue: String(last)) else {
      throw ImportError(
        file, "", "no `Patient,<id>` line ending in L or R (the instrumented side) in lines 1-22")
    }
    guard let weight else {
      throw ImportError(file, "", "no `Bodyweight,<newtons>` line in lines 1-22")
    }
    let blockCells = cells(blockLine)
    var starts: [(String, Int)] = []
    for (c, name) in blockCells.enumerated() where !name.isEmpty {
      guard knownBlocks.contains(name) || isForcePlate(name) != nil else {
        throw ImportError(
          file, "\(blockLine):\(c + 1)",
          "unknown block \"\(name.prefix(60))\"; known: TRAJECTORIES, FORCE PLATE 1-8, "
            + knownBlocks.dropFirst().joined(separator: ", "))
      }
      starts.append((name, c))
    }
    let labels = cells(24)
    let units = cells(25)
    var blocks: [(name: String, columns: Range<Int>)] = []
    for (i, (name, start)) in starts.enumerated() {
      let end = i + 1 < starts.count ? starts[i + 1].1 : labels.count
      blocks.append((name, start..<end))
    }
    for required in ["TRAJECTORIES", "In-vivo knee prosthesis data"]
    where !blocks.contains(where: { $0.name == required }) {
      throw ImportError(file, "\(blockLine)", "no \"\(required)\" block")
    }
    guard blocks.contains(where: { isForcePlate($0.name) != nil }) else {
      throw ImportError(file, "\(blockLine)", "no \"FORCE PLATE k\" block")
    }
    guard labels.count >= 3, units.count <= labels.count + 1 else {
      throw ImportError(file, "24", "expected the column labels on line 24")
    }
    var rows: [[Double]] = []
    rows.reserveCapacity(lines.count - firstDataLine + 1)
    for n in firstDataLine...lines.count {
      let line = lines[n - 1]
      if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
      let c = line.split(separator: ",", omittingEmptySubsequences: false)
      guard c.count == labels.count else {
        throw ImportError(file, "\(n)", "\(c.count) cells, line 24 has \(labels.count) labels")
      }
      var row = [Double](repeating: .nan, count: c.count)
      for (j, cell) in c.enumerated() {
        let s = cell.trimmingCharacters(in: .whitespaces)
        guard let v = NumericTable.number(s) else {
          throw ImportError(file, "\(n):\(j + 1)", "\"\(s.prefix(40))\" is not a number")
        }
        row[j] = v
      }
      rows.append(row)
    }
    guard !rows.isEmpty else { throw ImportError(file, "", "no data rows from line 27") }
    return Parsed(
      patient: patient, side: side, activity: activity, bodyWeightN: weight,
      events: events, blocks: blocks, labels: labels,
      units: (0..<labels.count).map { $0 < units.count ? units[$0] : "" }, rows: rows)
  }

  static func lengthFactor(_ unit: String, file: String, column: Int) throws -> Double {
    switch unit.lowercased() {
    case "mm": return 0.001
    case "m": return 1
    default:
      throw ImportError(file, "25:\(column + 1)", "unit \"\(unit.prefix(20))\"; expected mm or m")
    }
  }

  static func momentFactor(_ unit: String, file: String, column: Int) throws -> Double {
    switch unit.lowercased().filter({ !" .*·".contains($0) }) {
    case "nmm": return 0.001
    case "nm": return 1
    default:
      throw ImportError(
        file, "25:\(column + 1)", "unit \"\(unit.prefix(20))\"; expected N·mm or N·m")
    }
  }

  static func requireUnit(_ unit: String, _ wanted: String, file: String, column: Int) throws {
    guard unit == wanted else {
      throw ImportError(file, "25:\(column + 1)", "unit \"\(unit.prefix(20))\"; expected \(wanted)")
    }
  }

  /// One trial: the recording for the common processing, and what the log says about it.
  func recording(_ parsed: Parsed, trial: String, file: String, log: ImportLog) throws
    -> LabRecording
  {
    let time = parsed.rows.map { $0[0] }
    let frameColumn = 2
    let markerRows = parsed.rows.indices.filter {
      let f = parsed.rows[$0][frameColumn]
      return f.isFinite && f == f.rounded()
    }
    guard markerRows.count > 2 else {
      throw ImportError(file, "", "fewer than 3 rows with an integer frame number in column 3")
    }
    let clock = markerRows.map { time[$0] }
    func block(_ name: String) -> Range<Int>? { parsed.blocks.first { $0.name == name }?.columns }

    // Markers.
    var markers: MarkerTrajectories = [:]
    let traj = block("TRAJECTORIES")!
    var c = traj.lowerBound
    while c < traj.upperBound {
      let label = parsed.labels[c]
      guard label.hasSuffix("_X"), c + 2 < traj.upperBound,
        parsed.labels[c + 1] == label.dropLast(2) + "_Y",
        parsed.labels[c + 2] == label.dropLast(2) + "_Z"
      else {
        throw ImportError(
          file, "24:\(c + 1)",
          "TRAJECTORIES column \"\(label.prefix(40))\": expected <marker>_X, _Y, _Z")
      }
      let factor = try Self.lengthFactor(parsed.units[c], file: file, column: c)
      let name = String(label.dropLast(2))
      markers[name] = markerRows.map { r in
        Vec3(parsed.rows[r][c], parsed.rows[r][c + 1], parsed.rows[r][c + 2]) * factor
      }
      c += 3
    }

    // Plates.
    var plates: [PlateRecording] = []
    for b in parsed.blocks {
      guard let k = Self.isForcePlate(b.name) else { continue }
      func column(_ label: String) throws -> Int {
        guard let j = b.columns.first(where: { parsed.labels[$0] == label }) else {
          throw ImportError(file, "24", "\(b.name) has no column \(label)")
        }
        return j
      }
      let f = try ["Fx_lab_\(k)", "Fy_lab_\(k)", "Fz_lab_\(k)"].map { try column($0) }
      let p = try ["COPx_lab_\(k)", "COPy_lab_\(k)", "COPz_lab_\(k)"].map { try column($0) }
      for j in f { try Self.requireUnit(parsed.units[j], "N", file: file, column: j) }
      let scale = try p.map { try Self.lengthFactor(parsed.units[$0], file: file, column: $0) }
      let valid = parsed.rows.indices.filter { parsed.rows[$0][f[2]].isFinite }
      plates.append(
        PlateRecording(
          label: "plate \(k)", times: valid.map { time[$0] },
          // CAMS-Knee gives the force the subject exerts on the plate; the body gets its
          // opposite (docs/IMPORT.md).
          force: valid.map { r in
            -Vec3(parsed.rows[r][f[0]], parsed.rows[r][f[1]], parsed.rows[r][f[2]])
          },
          cop: valid.map { r in
            Vec3(
              parsed.rows[r][p[0]] * scale[0], parsed.rows[r][p[1]] * scale[1],
              parsed.rows[r][p[2]] * scale[2])
          }))
    }

    // EMG of the instrumented leg.
    var emg: [(muscle: String, times: [Double], values: [Double])] = []
    if let e = block("EMG DATA") {
      for j in e {
        let label = parsed.labels[j]
        let parts = label.split(separator: "_")
        guard parts.count == 2, let sideLetter = parts[0].last,
          let muscle = MuscleNames.standard(String(parts[0].dropLast()))
        else {
          throw ImportError(
            file, "24:\(j + 1)", "EMG column \"\(label.prefix(40))\": expected <Muscle><L|R>_<nn>")
        }
        let factor: Double
        switch parsed.units[j] {
        case "V": factor = 1
        case "mV": factor = 1e-3
        case "uV", "µV": factor = 1e-6
        default:
          throw ImportError(
            file, "25:\(j + 1)", "unit \"\(parsed.units[j].prefix(20))\"; expected V, mV or uV")
        }
        guard String(sideLetter) == parsed.side.rawValue else { continue }
        let valid = parsed.rows.indices.filter { parsed.rows[$0][j].isFinite }
        emg.append((muscle, valid.map { time[$0] }, valid.map { parsed.rows[$0][j] * factor }))
      }
    } else {
      log.note("\(trial): no EMG DATA block; emg.* not imported")
    }

    // Implant loads.
    let implant = block("In-vivo knee prosthesis data")!
    func implantColumn(_ label: String) -> Int? {
      implant.first { parsed.labels[$0] == label }
    }
    guard let fres = implantColumn("Fres"), let fz = implantColumn("Fz") else {
      throw ImportError(file, "24", "the implant block has no Fres or no Fz column")
    }
    try Self.requireUnit(parsed.units[fres], "N", file: file, column: fres)
    try Self.requireUnit(parsed.units[fz], "N", file: file, column: fz)
    let loadRows = parsed.rows.indices.filter { parsed.rows[$0][fres].isFinite }
    guard loadRows.count > 1 else {
      throw ImportError(file, "", "the implant Fres column is all NaN")
    }
    let loadTimes = loadRows.map { time[$0] }
    let tolerance = 0.5 * (clock[clock.count - 1] - clock[0]) / Double(clock.count - 1)
    func onClock(_ x: [Double]) -> [Double] {
      Resampling.interpolate(times: loadTimes, values: x, at: clock, tolerance: tolerance)
    }
    var targets: [(channel: String, values: [Double])] = []
    if let mx = implantColumn("Mx") {
      let factor = try Self.momentFactor(parsed.units[mx], file: file, column: mx)
      let d = condylarDistanceMM / 1000
      let axial = loadRows.map { abs(parsed.rows[$0][fz]) }
      let moment = loadRows.map { parsed.rows[$0][mx] * factor }
      targets.append(("kcf.medial", onClock(zip(axial, moment).map { $0 / 2 + $1 / d })))
      targets.append(("kcf.lateral", onClock(zip(axial, moment).map { $0 / 2 - $1 / d })))
      log.note(
        "\(trial): kcf.medial, kcf.lateral = |Fz|/2 ± Mx/d with d = "
          + String(format: "%.1f mm", condylarDistanceMM))
    } else {
      log.note(
        "\(trial): the implant block has forces only (no Mx): kcf.total imported, "
          + "kcf.medial and kcf.lateral unavailable")
    }
    targets.append(("kcf.total", onClock(loadRows.map { parsed.rows[$0][fres] })))

    // Events of the instrumented leg; others kept under their own names.
    let sideWord = parsed.side == .left ? "left" : "right"
    var events: [(event: String, time: Double)] = []
    for (name, t) in parsed.events {
      let key = name.lowercased()
      if key == "\(sideWord) foot strike" {
        events.append((GaitEvent.footStrike, t))
      } else if key == "\(sideWord) foot off" {
        events.append((GaitEvent.footOff, t))
      } else {
        events.append(
          (key.map { $0.isLetter || $0.isNumber ? $0 : "_" }.reduce("") { $0 + String($1) }, t))
      }
    }
    log.note(
      "\(trial): patient \(parsed.patient) (side \(parsed.side.rawValue)), body weight "
        + String(format: "%.1f N", parsed.bodyWeightN) + ", blocks "
        + parsed.blocks.map(\.name).joined(separator: ", ") + ", \(parsed.events.count) event(s), "
        + "\(markerRows.count) marker frames, \(loadRows.count) implant samples")
    return LabRecording(
      name: trial, clock: clock, markers: markers, plates: plates, emg: emg, targets: targets,
      events: parsed.events.isEmpty ? nil : events)
  }

  public func run() throws -> GrandChallengeImporter.Result {
    let log = ImportLog()
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
      throw ImportError(source, "", "no such file or folder")
    }
    var files: [String] = []
    if isDirectory.boolValue {
      files = ((try? FileManager.default.contentsOfDirectory(atPath: source)) ?? [])
        .filter { $0.hasSuffix(".csv") }.sorted()
        .map { (source as NSString).appendingPathComponent($0) }
      guard !files.isEmpty else { throw ImportError(source, "", "no .csv files") }
    } else {
      files = [source]
    }
    var imported: [(info: TrialInfo, built: TrialBuilder.Built)] = []
    for file in files {
      let parsed = try Self.parse(
        String(decoding: try RegularFile.read(file), as: UTF8.self), file: file)
      var trial = (file as NSString).lastPathComponent
      for suffix in ["_export_proc_data.csv", ".csv"] where trial.hasSuffix(suffix) {
        trial = String(trial.dropLast(suffix.count))
        break
      }
      let recording = try recording(parsed, trial: trial, file: file, log: log)
      let mapping = self.mapping
      let built = try TrialBuilder(mapping: mapping, side: parsed.side).build(recording, log: log)
      let parts = trial.split(separator: "_")
      let code = parts.count > 1 ? String(parts[1]) : ""
      let activity =
        [
          "sd": "stair_descent", "rd": "ramp_descent", "walking": "walking", "lw": "walking",
          "squat": "squat", "sts": "sit_to_stand",
        ][code.lowercased()]
        ?? parsed.activity?.lowercased().replacingOccurrences(of: " ", with: "_") ?? code
      imported.append(
        (
          TrialInfo(
            trialID: trial, subject: parsed.patient, activity: activity, side: parsed.side,
            bodyWeightN: parsed.bodyWeightN, file: "trials/\(trial).csv",
            extra: ["source": (file as NSString).lastPathComponent]), built
        ))
    }
    let dataset = try DatasetAssembly.assemble(imported, extraColumns: ["source"], log: log)
    return GrandChallengeImporter.Result(dataset: dataset, log: log)
  }
}
