import ArgumentParser
import Foundation
import KneeForceFiles
import KneeForceReport
import KneeForceTraining

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Rebuild the HTML report of a sweep output folder from its files.",
    discussion: """
      Reads OUT's sweep.json, results.csv and units/*/ (unit.json, predictions.csv, \
      history.csv; docs/SWEEP_OUTPUTS.md) and writes OUT/report.html, one self-contained page \
      (inline SVG and CSS, nothing fetched from the network), and the same figures as \
      standalone SVG files in OUT/figures/ (curves_<activity>_<target>.svg, \
      rmse_<target>.svg, lofo.svg, training_<unit>.svg). `kneeforce sweep` and `merge` write \
      the report themselves; use this after copying, resuming or merging by hand. \
      OUT must carry the .kneeforce-out.json marker and hold sweep.json; any other folder is \
      refused. An existing report.html and figures/ are the report's own outputs and are \
      replaced without --force. A missing or malformed input file is an error naming the \
      file and line (exit 1).
      """)

  @Argument(help: "The sweep output folder (with .kneeforce-out.json and sweep.json).")
  var out: String

  @Flag(
    help: """
      Also report a sweep whose sweep.json says it is not complete (running or killed): the \
      page then says how many units are missing. Not needed to replace an earlier report.
      """)
  var force = false

  func validate() throws {
    guard !out.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw ValidationError("OUT is empty: give a sweep output folder")
    }
    let url = URL(fileURLWithPath: out)
    let kind = FileKind(path: url.path)
    guard kind == .directory else {
      throw ValidationError("\(out) \(kind.words), expected a sweep output folder")
    }
    guard let marker = OutputFolder.readMarker(url) else {
      throw ValidationError(
        "\(out) was not written by kneeforce (no \(OutputFolder.markerName)); the report is "
          + "only written into a sweep's output folder")
    }
    let sweepJSON = url.appendingPathComponent("sweep.json")
    guard FileKind(path: sweepJSON.path) == .regular else {
      throw ValidationError(
        "\(out) holds the output of `kneeforce \(marker.command)`, not of a sweep "
          + "(no sweep.json); nothing was changed")
    }
    if !force,
      let data = FileManager.default.contents(atPath: sweepJSON.path),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let complete = object["complete"] as? Bool, !complete
    {
      throw ValidationError(
        "\(out)/sweep.json says the sweep is not complete (still running, or killed: continue "
          + "it with --resume); add --force to report the units finished so far")
    }
  }

  func run() throws {
    let start = Date()
    let written = try SweepReport.write(folder: URL(fileURLWithPath: out))
    print(
      "Wrote \(written.page.path) (\(LaneMemory.format(written.pageBytes))) and "
        + "\(written.figures.count) figures in \(out)/figures in "
        + String(format: "%.2f", Date().timeIntervalSince(start)) + " s")
  }
}
