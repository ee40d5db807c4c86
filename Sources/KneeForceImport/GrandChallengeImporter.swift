import Foundation
import KneeForceData
import KneeForceFiles
import KneeForceLabFiles

/// Grand Challenge (eTibia) trials: `<trial>.c3d` + `<trial>_knee_forces.csv`
/// (+ `<trial>_emg.csv`), in SRC or its direct subfolders (docs/IMPORT.md).
public struct GrandChallengeImporter {
  public static let poundForceN = 4.4482216152605
  public static let gravity = 9.80665

  public struct Subject: Sendable, Equatable {
    public var bodyMassKg: Double
    public var side: Side
    public init(bodyMassKg: Double, side: Side) {
      self.bodyMassKg = bodyMassKg
      self.side = side
    }
  }

  public var source: String
  /// Subject id (upper case, the trial-name prefix) to mass and side; `defaultSubject` for
  /// every subject not listed.
  public var subjects: [String: Subject] = [:]
  public var defaultSubject: Subject?
  public var mapping = MarkerMapping.grandChallenge
  /// A static c3d: joint angles are re-zeroed at its pose.
  public var staticTrial: String?

  public init(source: String) { self.source = source }

  /// `ngait` walking, `stairup` stair_ascent, `stairdown` stair_descent, `squat` squat,
  /// `chairrise` sit_to_stand; otherwise the trial name without subject prefix and trailing
  /// digits (`jw_1legstand1` → `1legstand`).
  public static func activity(of trial: String) -> String {
    let lower = trial.lowercased()
    let table: [(String, String)] = [
      ("ngait", "walking"), ("stairup", "stair_ascent"), ("stairdown", "stair_descent"),
      ("squat", "squat"), ("chairrise", "sit_to_stand"),
    ]
    for (key, activity) in table where lower.contains(key) { return activity }
    var rest = lower.split(separator: "_").dropFirst().joined(separator: "_")
    if rest.isEmpty { rest = lower }
    while let last = rest.last, last.isNumber { rest.removeLast() }
    return rest.isEmpty ? lower : rest
  }

  public static func subject(of trial: String) -> String {
    String(trial.split(separator: "_").first ?? Substring(trial)).uppercased()
  }

  struct Files {
    var c3d: String?
    var forces: String?
    var emg: String?
  }

  /// Trial files found in `source` and its direct subfolders, by trial name.
  func findTrials() throws -> [String: Files] {
    let manager = FileManager.default
    var isDirectory: ObjCBool = false
    guard manager.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue
    else { throw ImportError(source, "", "not a folder") }
    var folders = [source]
    for entry in (try? manager.contentsOfDirectory(atPath: source))?.sorted() ?? [] {
      let path = (source as NSString).appendingPathComponent(entry)
      if manager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        folders.append(path)
      }
    }
    var trials: [String: Files] = [:]
    for folder in folders {
      for entry in (try? manager.contentsOfDirectory(atPath: folder)) ?? [] {
        let path = (folder as NSString).appendingPathComponent(entry)
        if entry.hasSuffix("_knee_forces.csv") {
          trials[String(entry.dropLast("_knee_forces.csv".count)), default: Files()].forces = path
        } else if entry.hasSuffix("_emg.csv") {
          trials[String(entry.dropLast("_emg.csv".count)), default: Files()].emg = path
        } else if entry.lowercased().hasSuffix(".c3d") {
          trials[String(entry.dropLast(4)), default: Files()].c3d = path
        }
      }
    }
    return trials
  }

  static func readText(_ path: String) throws -> String {
    String(decoding: try RegularFile.read(path), as: UTF8.self)
  }

  /// Markers of a c3d in metres, NaN where invalid or exactly at the origin.
  static func markers(_ c3d: C3DFile) -> MarkerTrajectories {
    let scale: Double
    switch c3d.pointUnits.lowercased() {
    case "m": scale = 1
    case "cm": scale = 0.01
    default: scale = 0.001
    }
    var out: MarkerTrajectories = [:]
    for (index, label) in c3d.pointLabels.enumerated() {
      out[label.trimmingCharacters(in: .whitespaces)] = (0..<c3d.frameCount).map { frame in
        let p = c3d.point(frame: frame, index: index)
        let v = Vec3(Double(p.x), Double(p.y), Double(p.z)) * scale
        return (v.x == 0 && v.y == 0 && v.z == 0) ? Vec3(.nan, .nan, .nan) : v
      }
    }
    return out
  }

  static func plates(_ c3d: C3DFile) throws -> [PlateRecording] {
    let times = (0..<c3d.analogSampleCount).map { c3d.analogTime($0) }
    return try c3d.forcePlates().map { series in
      // The sign is checked against the markers' up direction by the common processing.
      PlateRecording(
        label: "plate \(series.plate.index)", times: times,
        force: series.force.map { Vec3($0[0], $0[1], $0[2]) },
        cop: series.centreOfPressure.map { Vec3($0[0], $0[1], $0[2]) })
    }
  }

  /// The trial's recording and the GON (goniometer) column on the clock, for the check.
  func recording(_ trial: String, _ files: Files, log: ImportLog) throws
    -> (LabRecording, [Double]?)
  {
    let c3dPath = files.c3d!
    let c3d = try C3DFile.parse(RegularFile.read(c3dPath), name: c3dPath)
    let clock = (0..<c3d.frameCount).map { c3d.frameTime($0) }
    let rate = c3d.pointRate
    let forcesPath = files.forces!
    let forces = try NumericTable.parse(Self.readText(forcesPath), file: forcesPath)
    let t = try forces.times()
    var cells: [String: [Double]] = [:]
    for name in ["PM", "AM", "AL", "PL"] {
      guard let c = forces.columnIndex(name) else {
        throw ImportError(
          forcesPath, line: 1, "no column \(name) (expected Time(sec),PM,AM,AL,PL,...)")
      }
      cells[name] = forces.column(c).map { $0 * Self.poundForceN }
    }
    // Offset of the force time stamps to the c3d frame times: each row against its nearest
    // frame.
    let offsets = t.map { ti -> Double in
      let frame = ((ti - clock[0]) * rate).rounded()
      return ti - (clock[0] + frame / rate)
    }
    let meanOffset = offsets.reduce(0, +) / Double(offsets.count)
    let maxOffset = offsets.map { abs($0) }.max() ?? 0
    log.note(
      "\(trial): knee_forces.csv Time(sec) minus the c3d frame time: mean "
        + String(
          format: "%+.6f s (%+.3f frames), largest |%.6f| s", meanOffset, meanOffset * rate,
          maxOffset)
        + String(format: "; first row %.6f s, first c3d frame %.6f s", t[0], clock[0]))
    let tolerance = 0.5 / rate
    func onClock(_ x: [Double]) -> [Double] {
      Resampling.interpolate(times: t, values: x, at: clock, tolerance: tolerance)
    }
    let medial = zip(cells["PM"]!, cells["AM"]!).map { $0 + $1 }
    let lateral = zip(cells["AL"]!, cells["PL"]!).map { $0 + $1 }
    let targets = [
      ("kcf.medial", onClock(medial)), ("kcf.lateral", onClock(lateral)),
      ("kcf.total", onClock(zip(medial, lateral).map { $0 + $1 })),
    ]
    let gon = forces.columnIndex("GON").map { onClock(forces.column($0)) }

    var emg: [(muscle: String, times: [Double], values: [Double])] = []
    var skipped: [String] = []
    if let emgPath = files.emg {
      let table = try NumericTable.parse(Self.readText(emgPath), file: emgPath)
      let et = try table.times()
      for (c, label) in table.header.enumerated().dropFirst() {
        guard let muscle = MuscleNames.standard(label) else {
          skipped.append(label)
          continue
        }
        emg.append((muscle, et, table.column(c)))
      }
      log.note("\(trial): EMG from \((emgPath as NSString).lastPathComponent)")
    } else {
      let times = (0..<c3d.analogSampleCount).map { c3d.analogTime($0) }
      for (c, label) in c3d.analogLabels.enumerated() {
        let unit = c < c3d.analogUnits.count ? c3d.analogUnits[c] : ""
        guard unit.uppercased() == "V" || unit.lowercased() == "mv" else { continue }
        guard let muscle = MuscleNames.standard(label) else {
          skipped.append(label)
          continue
        }
        emg.append(
          (muscle, times, (0..<c3d.analogSampleCount).map { c3d.analog(sample: $0, channel: c) }))
      }
      log.note("\(trial): EMG from the c3d's analog channels")
    }
    if !skipped.isEmpty {
      log.note(
        "\(trial): channels that are no known muscle, left out: \(skipped.joined(separator: ", "))")
    }
    let recording = LabRecording(
      name: trial, clock: clock, markers: Self.markers(c3d), plates: try Self.plates(c3d),
      emg: emg, targets: targets, events: nil)
    return (recording, gon)
  }

  public struct Result {
    public var dataset: Dataset
    public var log: ImportLog
  }

  public func run() throws -> Result {
    let log = ImportLog()
    let found = try findTrials()
    var imported: [(info: TrialInfo, built: TrialBuilder.Built)] = []
    var calibrations: [Side: [[SegmentFrame?]]] = [:]
    log.note("source: \(source)")
    for trial in found.keys.sorted() {
      let files = found[trial]!
      guard files.forces != nil else {
        log.warn("\(trial): no \(trial)_knee_forces.csv; skipped (inputs only)")
        continue
      }
      guard files.c3d != nil else {
        log.warn("\(trial): no \(trial).c3d (markers, plates); skipped")
        continue
      }
      let subjectID = Self.subject(of: trial)
      guard let subject = subjects[subjectID] ?? defaultSubject else {
        throw ImportError(
          source, "",
          "no body mass for subject \(subjectID) (trial \(trial)); give --body-mass or list it in --subjects"
        )
      }
      let mapping = subject.side == .left ? self.mapping.mirroredNames : self.mapping
      if let staticTrial, calibrations[subject.side] == nil {
        let c3d = try C3DFile.parse(RegularFile.read(staticTrial), name: staticTrial)
        let frames = try JointAngles.frames(
          Self.markers(c3d), mapping: mapping, isLeft: subject.side == .left)
        calibrations[subject.side] = frames
        log.note("joint angles re-zeroed at the mean pose of the static trial \(staticTrial)")
      }
      let (recording, gon) = try self.recording(trial, files, log: log)
      var builder = TrialBuilder(mapping: mapping, side: subject.side)
      builder.staticFrames = calibrations[subject.side]
      let built: TrialBuilder.Built
      do {
        built = try builder.build(recording, log: log)
      } catch let error as ImportError where error.file == "marker mapping" {
        throw ImportError(files.c3d!, "", error.message)
      }
      let gonRange = (gon ?? []).filter(\.isFinite).reduce(
        into: (Double.infinity, -Double.infinity)
      ) {
        $0 = (min($0.0, $1), max($0.1, $1))
      }
      if gon != nil, gonRange.1 - gonRange.0 < 20 {
        log.note(
          "\(trial): GON spans only "
            + String(format: "%.1f-%.1f", gonRange.0, gonRange.1)
            + " in this file, no flexion curve: not compared")
      } else if let gon, let k = built.channels.firstIndex(of: "kin.knee_flexion") {
        let start = recording.clock.firstIndex(of: built.time[0]) ?? 0
        var diffs: [Double] = []
        for (i, angle) in built.values[k].enumerated() {
          let g = gon[start + i]
          if angle.isFinite && g.isFinite { diffs.append(angle - g) }
        }
        if !diffs.isEmpty {
          let mean = diffs.reduce(0, +) / Double(diffs.count)
          let rms = (diffs.map { $0 * $0 }.reduce(0, +) / Double(diffs.count)).squareRoot()
          let centred = (diffs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(diffs.count))
            .squareRoot()
          log.note(
            "\(trial): kin.knee_flexion minus GON goniometer: mean offset "
              + String(
                format: "%+.2f°, RMS %.2f°, RMS after removing the offset %.2f°", mean, rms, centred
              ))
        }
      }
      let weight = subject.bodyMassKg * Self.gravity
      if let total = built.channels.firstIndex(of: "kcf.total") {
        let peak = built.values[total].filter(\.isFinite).max() ?? .nan
        log.note(
          "\(trial): kcf.total peak " + String(format: "%.1f N = %.2f BW", peak, peak / weight))
      }
      let info = TrialInfo(
        trialID: trial, subject: subjectID, activity: Self.activity(of: trial), side: subject.side,
        bodyWeightN: weight, file: "trials/\(trial).csv",
        extra: ["source": (files.c3d! as NSString).lastPathComponent])
      imported.append((info, built))
    }
    let dataset = try DatasetAssembly.assemble(imported, extraColumns: ["source"], log: log)
    return Result(dataset: dataset, log: log)
  }
}

/// `--subjects FILE`: `subject,body_mass_kg[,side]`, a header row, one row per subject.
public enum SubjectTable {
  public static func parse(_ path: String) throws -> [String: GrandChallengeImporter.Subject] {
    let text = String(decoding: try RegularFile.read(path), as: UTF8.self)
    var out: [String: GrandChallengeImporter.Subject] = [:]
    let lines = NumericTable.splitLines(text)
    for (index, line) in lines.enumerated() {
      let cells = NumericTable.cells(line, separator: ",")
      if cells.allSatisfy(\.isEmpty) { continue }
      if index == 0 && cells.first?.lowercased() == "subject" { continue }
      guard cells.count == 2 || cells.count == 3 else {
        throw ImportError(path, line: index + 1, "expected subject,body_mass_kg[,side]")
      }
      guard let mass = Double(cells[1]), mass >= 10, mass <= 400 else {
        throw ImportError(
          path, "\(index + 1):2", "body mass \"\(cells[1].prefix(20))\" is not 10-400 kg")
      }
      var side = Side.right
      if cells.count == 3 {
        guard let s = Side(rawValue: cells[2].uppercased()) else {
          throw ImportError(path, "\(index + 1):3", "side \"\(cells[2].prefix(10))\" is not L or R")
        }
        side = s
      }
      out[cells[0].uppercased()] = .init(bodyMassKg: mass, side: side)
    }
    guard !out.isEmpty else { throw ImportError(path, "", "no subject rows") }
    return out
  }
}
