import ArgumentParser
import Foundation
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

  @Option(help: "Write markers.csv, analogs.csv and forceplates.csv into this folder.")
  var csv: String?

  @Flag(help: "Print the summary as JSON (fields in docs/C3D.md).")
  var json = false

  func validate() throws {
    if let csv, csv.isEmpty { throw ValidationError("--csv needs a folder") }
  }

  func run() throws {
    do {
      let c3d = try C3DFile.read(URL(fileURLWithPath: file))
      let summary = try C3DSummary(c3d)
      if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(summary), as: UTF8.self))
      } else {
        print(summary.render())
      }
      if let csv {
        let folder = URL(fileURLWithPath: csv)
        var written = ["markers.csv": try c3d.markersCSV(), "analogs.csv": c3d.analogsCSV()]
        if let plates = try c3d.forcePlatesCSV() { written["forceplates.csv"] = plates }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in written.sorted(by: { $0.key < $1.key }) {
          try writeOutput(text, to: folder.appendingPathComponent(name))
        }
        if !json {
          print("")
          print("Wrote \(written.keys.sorted().joined(separator: ", ")) to \(csv)")
        }
      }
    } catch let error as LabFileError {
      FileHandle.standardError.write(Data("error: \(error)\n".utf8))
      throw ExitCode(1)
    }
  }

  /// The one place output files are written, so the atomic writer replaces it in one line.
  private func writeOutput(_ text: String, to url: URL) throws {
    try Data(text.utf8).write(to: url, options: .atomic)
  }
}
