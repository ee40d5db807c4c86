import Foundation
import KneeForceFiles
import KneeForceTestSupport
import XCTest

@testable import KneeForceReport

#if canImport(FoundationXML)
  import FoundationXML
#endif

final class SweepReportTests: XCTestCase {
  var root: URL!

  override func setUpWithError() throws { root = try temporaryDirectory("report") }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

  func writeFixture(_ fixture: SweepFixture = SweepFixture(), name: String = "sweep") throws
    -> URL
  {
    let url = root.appendingPathComponent(name)
    try fixture.write(to: url)
    return url
  }

  func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

  /// Every `<svg>...</svg>` element of the page.
  func inlineSVGs(_ html: String) -> [String] {
    var out: [String] = []
    var rest = html[...]
    while let start = rest.range(of: "<svg "),
      let end = rest[start.lowerBound...].range(of: "</svg>")
    {
      out.append(String(rest[start.lowerBound..<end.upperBound]))
      rest = rest[end.upperBound...]
    }
    return out
  }

  func assertValidXML(
    _ text: String, _ name: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    let parser = XMLParser(data: Data(text.utf8))
    let ok = parser.parse()
    XCTAssertTrue(
      ok,
      "\(name) is not valid XML: \(parser.parserError.map { "\($0)" } ?? "?") at line "
        + "\(parser.lineNumber)", file: file, line: line)
  }

  /// `src=`, `href=` or `url(` that point at http(s): anything the browser would fetch.
  func networkReferences(_ text: String) -> [String] {
    let pattern =
      #"(?i)(src|href)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//|@import|<link\b|<script[^>]*\bsrc"#
    let regex = try! NSRegularExpression(pattern: pattern)
    let range = NSRange(text.startIndex..., in: text)
    return regex.matches(in: text, range: range).map {
      (text as NSString).substring(with: $0.range)
    }
  }

  func testReportOfASmallSweepHasEverySectionAndFigure() throws {
    let fixture = SweepFixture()
    let out = try writeFixture(fixture)
    let written = try SweepReport.write(folder: out)
    XCTAssertEqual(written.page, out.appendingPathComponent("report.html"))
    let html = try text(written.page)
    XCTAssertEqual(written.pageBytes, html.utf8.count)

    for id in ["run", "table", "curves", "scores", "lofo", "training"] {
      XCTAssertTrue(html.contains("<section id=\"\(id)\">"), "no section \(id)")
    }
    XCTAssertTrue(html.contains("class=\"synthetic\""), "no SYNTHETIC banner")
    XCTAssertTrue(html.contains("SYNTHETIC DATA"))
    // The run: data set, options, device, version, wall time, fingerprint.
    for fact in [
      "/data/synthetic-cohort", "9f2c4e1a77b0c3d5", "cpu (2 threads, OpenBLAS)", "0.2.0",
      "5 min 13 s", "S01, S02, S03", "stair_ascent 6", "walking 6", "per_activity",
    ] {
      XCTAssertTrue(html.contains(fact), "the run section lacks \(fact)")
    }
    XCTAssertFalse(html.contains("Incomplete"))
    // JSON numbers 0 and 1 stay numbers (on Linux they would cast to Bool).
    XCTAssertTrue(html.contains("<th>seed</th><td><code>0</code></td>"), "seed 0 as a number")
    XCTAssertTrue(html.contains("<th>per_activity</th><td><code>false</code></td>"))

    // One curves figure per (activity, target), inline and as a file.
    let figures = out.appendingPathComponent("figures")
    var expected: Set<String> = ["lofo.svg"]
    for activity in fixture.activities {
      for target in SweepFixture.targets {
        let name = "curves_\(activity)_\(target).svg"
        expected.insert(name)
        XCTAssertEqual(
          html.components(separatedBy: "href=\"figures/\(name)\"").count - 1, 1, name)
      }
    }
    for target in SweepFixture.targets { expected.insert("rmse_\(target).svg") }
    for unit in fixture.units where !SweepReportBaselines.contains(unit.model) {
      expected.insert("training_\(unit.folder).svg")
    }
    let files = Set(try FileManager.default.contentsOfDirectory(atPath: figures.path))
    XCTAssertEqual(files, expected)
    XCTAssertEqual(Set(written.figures.map(\.lastPathComponent)), expected)
    let curveFigures = html.components(separatedBy: "<title>").filter {
      $0.hasPrefix("Medial knee contact force") || $0.hasPrefix("Lateral knee contact force")
        || $0.hasPrefix("Total knee contact force")
    }.filter { $0.contains("predicted vs measured") }
    XCTAssertEqual(curveFigures.count, fixture.activities.count * 3)

    // Valid XML, axis titles with units, a legend; nothing fetched from the network.
    for name in files {
      let svg = try text(figures.appendingPathComponent(name))
      assertValidXML(svg, name)
      XCTAssertEqual(networkReferences(svg), [], name)
      XCTAssertTrue(svg.contains("(BW") || svg.contains("BW²"), "\(name) has no unit on an axis")
      XCTAssertTrue(svg.contains("SYNTHETIC"), "\(name) is not labelled synthetic")
    }
    let inline = inlineSVGs(html)
    XCTAssertEqual(inline.count, files.count)
    for (index, svg) in inline.enumerated() { assertValidXML(svg, "inline figure \(index)") }
    XCTAssertEqual(networkReferences(html), [])
    XCTAssertTrue(html.contains("Time (% of movement)"))
    XCTAssertTrue(html.contains("measured mean ± SD"))
    XCTAssertTrue(html.contains("± SD of seed members"), "2 seeds: the members' band")

    // The table: every model and baseline, best per column marked once per activity.
    for model in ["biLSTM-MLP", "TCN", "mean curve", "ridge"] {
      XCTAssertTrue(html.contains("<td>\(model)</td>"), model)
    }
    let table = html.components(separatedBy: "<table class=\"results\">")[1]
      .components(separatedBy: "</table>")[0]
    let groups = table.components(separatedBy: "<tr class=\"group\">").dropFirst()
    XCTAssertEqual(groups.count, 1 + fixture.activities.count)
    for group in groups {
      XCTAssertEqual(group.components(separatedBy: "class=\"num best\"").count - 1, 6, group)
    }
    // LOFO: one bar per model and target for the left-out group.
    let lofo = try text(figures.appendingPathComponent("lofo.svg"))
    XCTAssertTrue(lofo.contains("ΔRMSE vs all (BW)"))
    XCTAssertTrue(lofo.contains(">EMG</text>"))
  }

  func testCurvesShowTheMeasuredMeanOfTheSubjectsTrials() throws {
    var fixture = SweepFixture()
    fixture.trials = 3
    let out = try writeFixture(fixture)
    let folder = try SweepFolder.read(out)
    let content = try ReportContent(folder)
    XCTAssertEqual(content.curves.count, 6)
    XCTAssertEqual(content.curveKeys.first?.activity, "stair_ascent")
    XCTAssertTrue(content.curves[0].svg.contains("held out: S02 (3 sequences)"))
    // The pooled RMSE in the table is the mean of results.csv over subjects.
    let rows = folder.results.filter {
      $0.model == "tcn" && $0.features == "all" && $0.activity == "walking" && $0.target == "total"
    }
    XCTAssertEqual(rows.count, 3)
    let cell = content.table[ReportContent.tableKey("tcn", "all", "walking", "total")]!
    XCTAssertEqual(cell.rmse!.mean, rows.compactMap(\.rmse).reduce(0, +) / 3, accuracy: 1e-12)
    XCTAssertEqual(cell.subjects, 3)
  }

  /// `--per-activity`: one unit per activity; the curves of an activity come from its own
  /// units, the table's `all activities` rows from results.csv's pooled rows.
  func testPerActivitySweep() throws {
    var fixture = SweepFixture()
    fixture.perActivity = true
    fixture.seeds = 1
    let out = try writeFixture(fixture)
    XCTAssertTrue(
      FileManager.default.fileExists(
        atPath: out.appendingPathComponent("units/tcn__all__walking__S01/predictions.csv").path))
    let written = try SweepReport.write(folder: out)
    let names = Set(written.figures.map(\.lastPathComponent))
    XCTAssertEqual(names.filter { $0.hasPrefix("curves_") }.count, 6)
    XCTAssertEqual(names.filter { $0.hasPrefix("training_") }.count, 2 * 2 * 2 * 3)
    XCTAssertTrue(names.contains("training_bilstm_mlp__no_emg__walking__S03.svg"))
    let html = try text(written.page)
    XCTAssertTrue(html.contains("<h3>biLSTM-MLP, all inputs, stair ascent</h3>"), html)
    XCTAssertFalse(html.contains("± SD of seed members"), "one seed: no members' band")
    XCTAssertFalse(html.contains("(per_activity)"), "one kind of model: no label")
    let content = try ReportContent(try SweepFolder.read(out))
    // Every panel of the walking curves has all four models, from the walking units.
    let walking = try XCTUnwrap(
      zip(content.curveKeys, content.curves).first {
        $0.0.activity == "walking" && $0.0.target == "total"
      }?.1)
    XCTAssertEqual(walking.svg.components(separatedBy: "<title>TCN, S0").count - 1, 3)
    XCTAssertEqual(walking.svg.components(separatedBy: "<title>ridge (baseline), S0").count - 1, 3)
  }

  func testRebuildReplacesTheReportAndItsOldFigures() throws {
    let out = try writeFixture()
    try SweepReport.write(folder: out)
    let figures = out.appendingPathComponent("figures")
    try "<svg/>".write(
      to: figures.appendingPathComponent("training_gone__all__all__S09.svg"), atomically: true,
      encoding: .utf8)
    try "mine".write(
      to: figures.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
    try "old".write(
      to: out.appendingPathComponent("report.html"), atomically: true, encoding: .utf8)
    try SweepReport.write(folder: out)
    let names = try FileManager.default.contentsOfDirectory(atPath: figures.path)
    XCTAssertFalse(names.contains("training_gone__all__all__S09.svg"))
    XCTAssertTrue(names.contains("notes.txt"), "a file that is not the report's is kept")
    XCTAssertTrue(try text(out.appendingPathComponent("report.html")).hasPrefix("<!DOCTYPE html>"))
    XCTAssertFalse(names.contains { $0.contains(AtomicFile.temporaryMarker) })
  }

  func testRealDataHasNoSyntheticLabelAndFailedUnitsAreNamed() throws {
    var fixture = SweepFixture()
    fixture.synthetic = false
    fixture.failed = ["tcn__all__all__S02"]
    let out = try writeFixture(fixture)
    let written = try SweepReport.write(folder: out)
    let html = try text(written.page)
    XCTAssertFalse(html.contains("SYNTHETIC"))
    XCTAssertTrue(html.contains("no (measured data)"))
    XCTAssertTrue(html.contains("1 failed unit"))
    XCTAssertTrue(
      html.contains("<code>tcn__all__all__S02</code> (epoch 3, member 0: validation loss is nan)"))
    // The failed unit's subject is left out of TCN's mean: n = 2 in the TCN row.
    XCTAssertTrue(html.contains("<td>TCN</td><td class=\"num\">2</td>"), html)
  }

  func testIncompleteSweepSaysSo() throws {
    let out = try writeFixture()
    try FileManager.default.createDirectory(
      at: out.appendingPathComponent("units/bilstm_mlp__no_kin__all__S01"),
      withIntermediateDirectories: true)
    let html = try text(try SweepReport.write(folder: out).page)
    XCTAssertTrue(html.contains("<strong>Incomplete:</strong>"))
    XCTAssertTrue(html.contains("1 started but not finished"))
  }

  // MARK: Bad input

  func assertReportError(
    _ out: URL, contains parts: [String], file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertThrowsError(try SweepReport.write(folder: out), file: file, line: line) { error in
      XCTAssertTrue(
        error is ReportInputError, "\(type(of: error)): \(error)", file: file, line: line)
      let message = "\(error)"
      for part in parts {
        XCTAssertTrue(message.contains(part), "\(message) lacks \(part)", file: file, line: line)
      }
    }
    XCTAssertFalse(
      FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path),
      "a report was written from bad input", file: file, line: line)
  }

  func replaceLine(_ url: URL, _ number: Int, with: (String) -> String) throws {
    var lines = try text(url).components(separatedBy: "\n")
    lines[number - 1] = with(lines[number - 1])
    try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
  }

  func testMissingOrMalformedResultsNameTheFileAndLine() throws {
    let out = try writeFixture()
    let results = out.appendingPathComponent("results.csv")
    let good = try text(results)

    try FileManager.default.removeItem(at: results)
    assertReportError(out, contains: ["\(results.path): does not exist"])

    try good.write(to: results, atomically: true, encoding: .utf8)
    try replaceLine(results, 5) { $0.replacingOccurrences(of: ",ok", with: ",ok,extra") }
    assertReportError(out, contains: ["\(results.path):5:", "expected 12 fields", "found 13"])

    try good.write(to: results, atomically: true, encoding: .utf8)
    try replaceLine(results, 7) {
      var fields = $0.components(separatedBy: ",")
      fields[5] = "0.1x"
      return fields.joined(separator: ",")
    }
    assertReportError(out, contains: ["\(results.path):7:", "rmse_bw", "'0.1x'"])

    try good.replacingOccurrences(of: "pearson_r", with: "r").write(
      to: results, atomically: true, encoding: .utf8)
    assertReportError(out, contains: ["\(results.path):1:", "no column pearson_r"])

    try "".write(to: results, atomically: true, encoding: .utf8)
    assertReportError(out, contains: ["\(results.path): is empty"])
  }

  func testMissingOrMalformedPredictionsNameTheFileAndLine() throws {
    let out = try writeFixture()
    let predictions = out.appendingPathComponent("units/tcn__all__all__S02/predictions.csv")
    let good = try text(predictions)

    try replaceLine(predictions, 9) {
      var fields = $0.components(separatedBy: ",")
      fields[8] = "high"
      return fields.joined(separator: ",")
    }
    assertReportError(out, contains: ["\(predictions.path):9:", "predicted.medial", "'high'"])

    try good.write(to: predictions, atomically: true, encoding: .utf8)
    try replaceLine(predictions, 4) {
      $0.components(separatedBy: ",").prefix(9).joined(separator: ",")
    }
    assertReportError(out, contains: ["\(predictions.path):4:", "expected 14 fields", "found 9"])

    try good.write(to: predictions, atomically: true, encoding: .utf8)
    try replaceLine(predictions, 3) { $0.replacingOccurrences(of: ",0,1,", with: ",0,0,") }
    assertReportError(out, contains: ["\(predictions.path):3:", "step 0", "appears twice"])

    try FileManager.default.removeItem(at: predictions)
    assertReportError(out, contains: ["\(predictions.path): does not exist", "unit.json"])
  }

  func testMalformedJournalAndSweepJSONAreNamed() throws {
    let out = try writeFixture()
    let journal = out.appendingPathComponent("units/ridge__all__all__S01/unit.json")
    try "{\"unit\": ".write(to: journal, atomically: true, encoding: .utf8)
    assertReportError(out, contains: ["\(journal.path): is not valid JSON"])
    try FileManager.default.removeItem(at: journal)
    try FileManager.default.removeItem(at: out.appendingPathComponent("sweep.json"))
    assertReportError(out, contains: ["sweep.json: does not exist"])
  }

  func testRefusesAFolderWithoutTheMarker() throws {
    let out = try writeFixture()
    try FileManager.default.removeItem(at: out.appendingPathComponent(OutputFolder.markerName))
    assertReportError(out, contains: ["is not a kneeforce output folder"])
  }

  // MARK: The command

  func testReportCommandRebuildsAndRefusesOtherFolders() throws {
    let out = try writeFixture()
    let run = try runKneeforce(["report", out.path])
    XCTAssertEqual(run.status, 0, run.output)
    XCTAssertTrue(run.stdout.contains("Wrote \(out.path)/report.html"), run.stdout)
    XCTAssertTrue(
      FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
    // Again, without --force: the report replaces its own outputs.
    XCTAssertEqual(try runKneeforce(["report", out.path]).status, 0)

    let help = try runKneeforce(["report", "--help"])
    XCTAssertTrue(help.stdout.contains("replaced without --force"), help.stdout)

    let user = root.appendingPathComponent("thesis")
    try FileManager.default.createDirectory(at: user, withIntermediateDirectories: true)
    try "draft".write(
      to: user.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
    let refused = try runKneeforce(["report", user.path])
    XCTAssertEqual(refused.status, ExitStatus.usage, refused.output)
    XCTAssertTrue(refused.stderr.contains("was not written by kneeforce"), refused.stderr)
    XCTAssertFalse(
      FileManager.default.fileExists(atPath: user.appendingPathComponent("report.html").path))

    let dataset = root.appendingPathComponent("cohort")
    try FileManager.default.createDirectory(at: dataset, withIntermediateDirectories: true)
    try OutputFolder.writeMarker(dataset, command: "synth")
    let notSweep = try runKneeforce(["report", dataset.path])
    XCTAssertEqual(notSweep.status, ExitStatus.usage, notSweep.output)
    XCTAssertTrue(notSweep.stderr.contains("`kneeforce synth`, not of a sweep"), notSweep.stderr)

    let missing = try runKneeforce(["report", root.appendingPathComponent("nothing").path])
    XCTAssertEqual(missing.status, ExitStatus.usage, missing.output)

    let results = out.appendingPathComponent("results.csv")
    try replaceLine(results, 3) { $0.replacingOccurrences(of: ",ok", with: ",fine") }
    let bad = try runKneeforce(["report", out.path])
    XCTAssertEqual(bad.status, ExitStatus.failure, bad.output)
    XCTAssertTrue(
      bad.stderr.hasPrefix("error: \(results.path):3: status: expected ok or failed"), bad.stderr)
  }

  func testIncompleteSweepNeedsForce() throws {
    let out = try writeFixture()
    let sweepJSON = out.appendingPathComponent("sweep.json")
    var object =
      try JSONSerialization.jsonObject(with: Data(contentsOf: sweepJSON)) as! [String: Any]
    object["complete"] = false
    try JSONSerialization.data(withJSONObject: object).write(to: sweepJSON)
    let refused = try runKneeforce(["report", out.path])
    XCTAssertEqual(refused.status, ExitStatus.usage, refused.output)
    XCTAssertTrue(refused.stderr.contains("not complete"), refused.stderr)
    let forced = try runKneeforce(["report", out.path, "--force"])
    XCTAssertEqual(forced.status, 0, forced.output)
  }

  // MARK: A large sweep

  /// The issue's full `--lofo` sweep of 6 subjects: 48 network units (+ 48 baseline units),
  /// 6 activities, 5 trials, 101 steps, 100 epochs. The page must stay under 5 MB.
  /// KNEEFORCE_REPORT_FIXTURE=DIR keeps the folder there (scripts/screenshot-report.sh).
  func testLargeLOFOSweepPageStaysUnderFiveMegabytes() throws {
    let keep = ProcessInfo.processInfo.environment["KNEEFORCE_REPORT_FIXTURE"]
    let out = keep.map { URL(fileURLWithPath: $0) } ?? root.appendingPathComponent("large")
    if keep != nil { try? FileManager.default.removeItem(at: out) }
    let fixture = SweepFixture.largeLOFO
    XCTAssertEqual(fixture.units.filter { !SweepReportBaselines.contains($0.model) }.count, 48)
    let start = Date()
    try fixture.write(to: out)
    let built = Date()
    let written = try SweepReport.write(folder: out)
    let seconds = Date().timeIntervalSince(built)
    print(
      "large LOFO fixture: written in \(String(format: "%.2f", built.timeIntervalSince(start))) s; "
        + "report \(written.pageBytes) bytes, \(written.figures.count) figures, built in "
        + "\(String(format: "%.2f", seconds)) s")
    XCTAssertLessThan(written.pageBytes, 5_000_000)
    XCTAssertEqual(written.figures.filter { $0.lastPathComponent.hasPrefix("curves_") }.count, 18)
    XCTAssertEqual(written.figures.filter { $0.lastPathComponent.hasPrefix("training_") }.count, 48)
    let html = try text(written.page)
    XCTAssertEqual(networkReferences(html), [])
    for name in ["lofo.svg", "curves_walking_total.svg", "rmse_medial.svg"] {
      assertValidXML(try text(out.appendingPathComponent("figures/\(name)")), name)
    }
  }
}

extension SweepReportTests {
  /// With inputs chosen per fold, the table shows the `selected` rows and the curves come
  /// from each fold's chosen unit (selection.csv).
  func testSelectedInputsAreTheMainTableAndTheirCurvesComeFromTheChosenUnits() throws {
    var fixture = SweepFixture()
    fixture.features = ["grf", "all"]
    fixture.seeds = 1
    let out = try writeFixture(fixture)
    let chosen = ["S01": "grf", "S02": "all", "S03": "grf"]
    var selection = "model,activities,subject,features,inner_validation_mse,chosen\n"
    for model in fixture.models {
      for (subject, features) in chosen.sorted(by: { $0.key < $1.key }) {
        for f in fixture.features {
          selection += "\(model),all,\(subject),\(f),0.1,\(f == features ? 1 : 0)\n"
        }
      }
    }
    try selection.write(
      to: out.appendingPathComponent("selection.csv"), atomically: true, encoding: .utf8)
    // The sweep's `selected` rows: the chosen set's rows under features `selected`.
    let results = out.appendingPathComponent("results.csv")
    var lines = try text(results).split(separator: "\n").map(String.init)
    for line in lines.dropFirst() {
      let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      guard fixture.models.contains(f[0]), chosen[f[3]] == f[1] else { continue }
      var copy = f
      copy[1] = "selected"
      lines.append(copy.joined(separator: ","))
    }
    try (lines.joined(separator: "\n") + "\n").write(
      to: results, atomically: true, encoding: .utf8)

    let content = try ReportContent(try SweepFolder.read(out))
    let cell = try XCTUnwrap(content.table[ReportContent.tableKey("tcn", "all", "all", "total")])
    XCTAssertEqual(cell.subjects, 3)
    let expected = try SweepFolder.read(out).results.filter {
      $0.model == "tcn" && $0.activity == "all" && $0.target == "total"
        && $0.features == chosen[$0.subject]
    }.compactMap(\.rmse)
    XCTAssertEqual(expected.count, 3)
    XCTAssertEqual(cell.rmse?.mean ?? .nan, expected.reduce(0, +) / 3, accuracy: 1e-12)
    let walking = try XCTUnwrap(
      zip(content.curveKeys, content.curves).first {
        $0.0.activity == "walking" && $0.0.target == "total"
      }?.1)
    XCTAssertEqual(walking.svg.components(separatedBy: "<title>TCN, S0").count - 1, 3)
    let html = try text(try SweepReport.write(folder: out).page)
    XCTAssertTrue(html.contains("GRF inputs"), "a +-joined set is named by its groups")
  }
}
