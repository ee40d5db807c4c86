import Foundation
import KneeForceData
import KneeForceFiles
import KneeForceLabFiles

/// OpenSim exports: `<trial>.trc` (or `<trial>_new.trc`) markers, `<trial>_grf.sto` or
/// `<trial>_grf.mot` ground reactions (`*_vx,_vy,_vz` force on the body in N, `*_px,_py,_pz`
/// point in m, one triple per plate), and a user-given contact-force CSV per trial:
/// `time_s,kcf.medial,kcf.lateral,kcf.total` in N (docs/IMPORT.md).
public struct OpenSimImporter {
  public var source: String
  public var bodyMassKg: Double
  public var side: Side
  public var subject: String?
  /// `FILE` (named `<trial>_forces.csv`) or `TRIAL=FILE`.
  public var forceFiles: [String] = []
  public var mapping = MarkerMapping.grandChallenge

  public init(source: String, bodyMassKg: Double, side: Side) {
    self.source = source
    self.bodyMassKg = bodyMassKg
    self.side = side
  }

  static func trialAndFile(_ argument: String) throws -> (String, String) {
    if let eq = argument.firstIndex(of: "=") {
      let trial = String(argument[..<eq])
      let file = String(argument[argument.index(after: eq)...])
      if !trial.isEmpty, !trial.contains("/") { return (trial, file) }
    }
    let base = (argument as NSString).lastPathComponent
    guard base.hasSuffix("_forces.csv") else {
      throw ImportError(
        argument, "", "a --forces file is named <trial>_forces.csv or given as TRIAL=FILE")
    }
    return (String(base.dropLast("_forces.csv".count)), argument)
  }

  static func markers(_ trc: TRCFile) throws -> MarkerTrajectories {
    let scale: Double
    switch trc.units.lowercased() {
    case "mm": scale = 0.001
    case "cm": scale = 0.01
    case "m": scale = 1
    default:
      throw ImportError(trc.name, "", "marker unit \"\(trc.units)\"; expected mm, cm or m")
    }
    var out: MarkerTrajectories = [:]
    for (m, name) in trc.markers.enumerated() {
      out[name] = (0..<trc.frameCount).map { f in
        let p = trc.marker(m, frame: f)
        return Vec3(p.x, p.y, p.z) * scale
      }
    }
    return out
  }

  /// Plates of a GRF table: every column `<prefix>vx` with `vy`, `vz`, `px`, `py`, `pz`.
  static func plates(_ sto: STOFile) throws -> [PlateRecording] {
    guard let times = sto.column("time") ?? sto.columns.first.flatMap({ sto.column($0) }) else {
      throw ImportError(sto.name, "", "no time column")
    }
    var plates: [PlateRecording] = []
    for label in sto.columns where label.hasSuffix("vx") {
      let prefix = String(label.dropLast(2))
      let pPrefix = prefix.replacingOccurrences(of: "force_v", with: "force_p")
      func col(_ name: String) throws -> [Double] {
        guard let c = sto.column(name) else {
          throw ImportError(sto.name, "", "column \(label) has no partner \(name)")
        }
        return c
      }
      let v = try ["vx", "vy", "vz"].map { try col(prefix + $0) }
      let p = try ["px", "py", "pz"].map {
        try sto.column(prefix + $0) ?? col(pPrefix + $0)
      }
      plates.append(
        PlateRecording(
          label: prefix.trimmingCharacters(in: CharacterSet(charactersIn: "_")), times: times,
          force: v.transposedVec3(), cop: p.transposedVec3()))
    }
    guard !plates.isEmpty else {
      throw ImportError(sto.name, "", "no force columns (<prefix>vx, vy, vz, px, py, pz)")
    }
    return plates
  }

  public func run() throws -> GrandChallengeImporter.Result {
    let log = ImportLog()
    let manager = FileManager.default
    let entries = (try? manager.contentsOfDirectory(atPath: source)) ?? []
    guard !entries.isEmpty else { throw ImportError(source, "", "not a folder or empty") }
    func find(_ names: [String]) -> String? {
      names.first { entries.contains($0) }.map { (source as NSString).appendingPathComponent($0) }
    }
    var imported: [(info: TrialInfo, built: TrialBuilder.Built)] = []
    let weight = bodyMassKg * GrandChallengeImporter.gravity
    let mapping = side == .left ? self.mapping.mirroredNames : self.mapping
    for argument in forceFiles {
      let (trial, forcesPath) = try Self.trialAndFile(argument)
      guard let trcPath = find(["\(trial).trc", "\(trial)_new.trc"]) else {
        log.warn("\(trial): no \(trial).trc or \(trial)_new.trc in \(source); skipped")
        continue
      }
      guard let grfPath = find(["\(trial)_grf.sto", "\(trial)_grf.mot"]) else {
        log.warn("\(trial): no \(trial)_grf.sto or _grf.mot in \(source); skipped")
        continue
      }
      let trc = try TRCFile.parse(RegularFile.read(trcPath), name: trcPath)
      let sto = try STOFile.parse(RegularFile.read(grfPath), name: grfPath)
      let table = try NumericTable.parse(
        String(decoding: try RegularFile.read(forcesPath), as: UTF8.self), file: forcesPath)
      guard table.header.first == "time_s" else {
        throw ImportError(forcesPath, line: 1, "the first column must be time_s")
      }
      let t = try table.times()
      // The .trc's own times are rounded (4-6 decimals): the clock is rebuilt from DataRate.
      let clock = Resampling.uniformTimes(
        start: trc.times.first ?? 0, rate: trc.dataRate, count: trc.frameCount)
      let tolerance = 0.5 / trc.dataRate
      var targets: [(channel: String, values: [Double])] = []
      for name in ChannelConventions.targetChannels {
        if let c = table.columnIndex(name) {
          targets.append(
            (
              name,
              Resampling.interpolate(
                times: t, values: table.column(c), at: clock, tolerance: tolerance)
            ))
        }
      }
      guard targets.contains(where: { $0.channel == "kcf.total" }) else {
        throw ImportError(forcesPath, line: 1, "no kcf.total column")
      }
      for c in table.header.dropFirst() where !ChannelConventions.targetChannels.contains(c) {
        throw ImportError(forcesPath, line: 1, "unknown column \"\(c.prefix(40))\"")
      }
      let recording = LabRecording(
        name: trial, clock: clock, markers: try Self.markers(trc), plates: try Self.plates(sto),
        emg: [], targets: targets, events: nil)
      let built = try TrialBuilder(mapping: mapping, side: side).build(recording, log: log)
      let subjectID = subject ?? GrandChallengeImporter.subject(of: trial)
      imported.append(
        (
          TrialInfo(
            trialID: trial, subject: subjectID,
            activity: GrandChallengeImporter.activity(of: trial),
            side: side, bodyWeightN: weight, file: "trials/\(trial).csv",
            extra: ["source": (trcPath as NSString).lastPathComponent]), built
        ))
    }
    let dataset = try DatasetAssembly.assemble(imported, extraColumns: ["source"], log: log)
    return GrandChallengeImporter.Result(dataset: dataset, log: log)
  }
}
