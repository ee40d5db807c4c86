import ArgumentParser
import Foundation
import KneeForceFiles
import KneeForceLabFiles

struct C3DCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "c3d",
    abstract: "Summarise a C3D file and export its markers, analogs and force plates as CSV.",
    discussion: """
      Reads Intel, DEC and SGI/MIPS files with integer or float storage. The summary lists \
      format, rates, frames, point and analog labels with units, force plates and events. \
      --csv DIR writes markers.csv (mm, an empty cell where a point is invalid), analogs.csv \
      (scaled) and forceplates.csv (N, m, N·m, lab frame). See docs/C3D.md.
      """)

  @Argument(help: "The C3D file.")
  var file: String

  @Option(
    help: ArgumentHelp(
      """
      Write markers.csv, analogs.csv and forceplates.csv into this folder: created, or an \
      empty folder; written whole and marked with .kneeforce-out.json.
      """, valueName: "dir"))
  var csv: String?

  @Flag(help: "Replace the --csv folder if it holds an earlier kneeforce output.")
  var force = false

  @Flag(help: "Print the summary as JSON (fields in docs/C3D.md).")
  var json = false

  func validate() throws {
    if let csv {
      try asUsageError {
        try OutputFolder.check(csv, command: "c3d", mode: mode, option: "--csv")
      }
    }
  }

  private var mode: OutputFolder.Mode { force ? .force : .fresh }

  func run() throws {
    let c3d = try C3DFile.parse(RegularFile.read(file), name: file)
    let summary = try C3DSummary(c3d)
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: try encoder.encode(summary), as: UTF8.self))
    } else {
      print(summary.render())
    }
    guard let csv else { return }
    // Every table is built before the folder is touched: a file error leaves it as it was.
    var tables = [("markers.csv", try c3d.markersCSV()), ("analogs.csv", c3d.analogsCSV())]
    if let plates = try c3d.forcePlatesCSV() { tables.append(("forceplates.csv", plates)) }
    _ = try OutputFolder.writeWhole(csv, command: "c3d", mode: mode, option: "--csv") { folder in
      for (name, text) in tables {
        try AtomicFile.write(text, to: folder.appendingPathComponent(name))
      }
    }
    if !json {
      print("")
      print("Wrote \(tables.map(\.0).joined(separator: ", ")) to \(csv)")
    }
  }
}
