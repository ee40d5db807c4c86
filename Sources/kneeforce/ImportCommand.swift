import ArgumentParser
import Foundation
import KneeForceData
import KneeForceFiles
import KneeForceImport

extension Side: ExpressibleByArgument {}

struct ImportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Import gait-lab data (Grand Challenge, OpenSim, CAMS-Knee) as a dataset folder.",
    discussion: """
      Every importer writes a dataset folder (docs/DATASET_FORMAT.md) that `check`, `train` \
      and `sweep` read, with import_log.txt beside the manifest: channels, time offsets, \
      skipped trials, omitted channels, the checks made. See docs/IMPORT.md.
      """,
    subcommands: [
      GrandChallengeImport.self, OpenSimImport.self, CAMSImport.self,
    ])
}

/// The output options every importer shares.
struct ImportOutput: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "The dataset folder to write: created, or an empty folder; marked with .kneeforce-out.json.",
      valueName: "dir"))
  var out: String

  @Flag(help: "Replace the --out folder if it holds an earlier kneeforce output.")
  var force = false

  var mode: OutputFolder.Mode { force ? .force : .fresh }

  func check(_ command: String) throws {
    try asUsageError { try OutputFolder.check(out, command: command, mode: mode, option: "--out") }
  }

  func write(_ dataset: Dataset, log: ImportLog, command: String) throws {
    for warning in log.warnings { warn(warning) }
    try DatasetWriter.write(
      dataset, to: out, command: command, mode: mode,
      extraFiles: [("import_log.txt", Array(log.text.utf8))])
    for line in log.lines where !line.hasPrefix("warning: ") { print(line) }
    print("Wrote \(dataset.trials.count) trial(s) to \(out)")
  }
}

let massRange = 10.0...400.0

struct GrandChallengeImport: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "grand-challenge",
    abstract: "Import Grand Challenge eTibia trials (c3d + _knee_forces.csv + _emg.csv).",
    discussion: """
      SRC holds, directly or in subfolders, <trial>.c3d, <trial>_knee_forces.csv and \
      optionally <trial>_emg.csv. Targets from the four load cells (lbf to N): medial = PM + \
      AM, lateral = AL + PL, total = their sum. The subject is the trial-name prefix (jw_... \
      -> JW). Trials without a c3d or a forces file are skipped with a warning.
      """)

  @Argument(help: "The folder with the trials.")
  var source: String

  @OptionGroup var output: ImportOutput

  @Option(
    name: .customLong("body-mass"),
    help: "Body mass of every subject in kg (\(massRange.lowerBound)-\(massRange.upperBound)).")
  var bodyMass: Double?

  @Option(
    help: ArgumentHelp(
      "CSV `subject,body_mass_kg[,side]` (side L or R, default R), one row per subject.",
      valueName: "file"))
  var subjects: String?

  @Option(help: "The instrumented leg with --body-mass: L or R.")
  var side: Side = .right

  @Option(
    name: .customLong("static"),
    help: ArgumentHelp(
      "A static c3d: joint angles are re-zeroed at its mean pose.", valueName: "file"))
  var staticTrial: String?

  func validate() throws {
    guard (bodyMass == nil) != (subjects == nil) else {
      throw ValidationError("give exactly one of --body-mass and --subjects")
    }
    if let bodyMass { try checkRange(bodyMass, massRange, "--body-mass") }
    try output.check("import grand-challenge")
  }

  func run() throws {
    var importer = GrandChallengeImporter(source: source)
    if let bodyMass {
      importer.defaultSubject = .init(bodyMassKg: bodyMass, side: side)
    }
    if let subjects {
      importer.subjects = try SubjectTable.parse(subjects)
    }
    importer.staticTrial = staticTrial
    let result = try importer.run()
    try output.write(result.dataset, log: result.log, command: "import grand-challenge")
  }
}

struct OpenSimImport: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "opensim",
    abstract: "Import OpenSim exports (.trc + _grf.sto/.mot) with a contact-force file per trial.",
    discussion: """
      SRC holds <trial>.trc (or <trial>_new.trc) and <trial>_grf.sto or <trial>_grf.mot. \
      Each --forces FILE is a CSV time_s,kcf.medial,kcf.lateral,kcf.total (N; kcf.total \
      alone is allowed) named <trial>_forces.csv or given as TRIAL=FILE. See docs/IMPORT.md.
      """)

  @Argument(help: "The folder with the .trc and GRF files.")
  var source: String

  @OptionGroup var output: ImportOutput

  @Option(
    parsing: .upToNextOption,
    help: ArgumentHelp("Contact-force CSV per trial: FILE or TRIAL=FILE.", valueName: "file"))
  var forces: [String] = []

  @Option(
    name: .customLong("body-mass"),
    help: "Body mass in kg (\(massRange.lowerBound)-\(massRange.upperBound)).")
  var bodyMass: Double

  @Option(help: "Subject id (default: the trial-name prefix, upper case).")
  var subject: String?

  @Option(help: "The instrumented leg: L or R.")
  var side: Side = .right

  @Option(
    help: ArgumentHelp(
      "Marker mapping `role,marker` (default: the built-in Grand Challenge mapping).",
      valueName: "file"))
  var markers: String?

  func validate() throws {
    guard !forces.isEmpty else { throw ValidationError("give at least one --forces FILE") }
    try checkRange(bodyMass, massRange, "--body-mass")
    try output.check("import opensim")
  }

  func run() throws {
    var importer = OpenSimImporter(source: source, bodyMassKg: bodyMass, side: side)
    importer.subject = subject
    importer.forceFiles = forces
    if let markers {
      importer.mapping = try MarkerMapping.parse(
        String(decoding: try RegularFile.read(markers), as: UTF8.self), file: markers)
    }
    let result = try importer.run()
    try output.write(result.dataset, log: result.log, command: "import opensim")
  }
}

struct CAMSImport: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cams",
    abstract: "Import CAMS-Knee full-data trial CSVs (*_export_proc_data.csv).",
    discussion: """
      Layout in docs/IMPORT.md (from ../shared/CAMS_KNEE_FORMAT.md). Body weight, side and \
      gait events from the header; total force from the implant's Fres; medial and lateral \
      from Fz and the frontal-plane moment (Mx) where the implant block has it.
      """)

  @Argument(help: "A trial CSV or a folder of them.")
  var source: String

  @OptionGroup var output: ImportOutput

  @Option(
    help: ArgumentHelp("Marker mapping `role,marker` (docs/IMPORT.md).", valueName: "file"))
  var markers: String

  @Option(
    name: .customLong("condylar-distance"),
    help: "Medial-lateral distance of the condylar contact points, mm (10-100).")
  var condylarDistance: Double = CAMSKneeImporter.defaultCondylarDistanceMM

  func validate() throws {
    try checkRange(condylarDistance, 10.0...100.0, "--condylar-distance")
    try output.check("import cams")
  }

  func run() throws {
    let mapping = try MarkerMapping.parse(
      String(decoding: try RegularFile.read(markers), as: UTF8.self), file: markers)
    var importer = CAMSKneeImporter(source: source, mapping: mapping)
    importer.condylarDistanceMM = condylarDistance
    let result = try importer.run()
    try output.write(result.dataset, log: result.log, command: "import cams")
  }
}
