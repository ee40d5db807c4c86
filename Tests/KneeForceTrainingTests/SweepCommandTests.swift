import Foundation
import KneeForceTestSupport
import XCTest

/// `kneeforce sweep`, `train` and `predict` as a user runs them: a sweep killed with SIGKILL
/// and resumed, refused resumes, final models predicting a patient without `kcf.*` columns.
final class SweepCommandTests: XCTestCase {
  static let tiny = [
    "--device", "cpu", "--activities", "walking,squat", "--hidden", "4", "--mlp", "4,4",
    "--channels", "4", "--levels", "1", "--batch", "4", "--patience", "1",
  ]

  func makeData(_ root: URL) throws -> URL {
    let data = root.appendingPathComponent("data")
    let synth = try runKneeforce([
      "synth", "--out", data.path, "--subjects", "3", "--trials", "1", "--seed", "2",
    ])
    XCTAssertEqual(synth.status, 0, synth.output)
    return data
  }

  func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

  func testKilledSweepResumesToTheSameResults() throws {
    let root = try temporaryDirectory("sweep-kill")
    defer { try? FileManager.default.removeItem(at: root) }
    let data = try makeData(root)
    let arguments = Self.tiny + ["--data", data.path, "--epochs", "8", "--fold-batch", "1"]
    let reference = root.appendingPathComponent("reference")
    let whole = try runKneeforce(["sweep", "--out", reference.path] + arguments)
    XCTAssertEqual(whole.status, 0, whole.output)

    let out = root.appendingPathComponent("killed")
    let process = Process()
    process.executableURL = try kneeforceExecutable()
    process.arguments = ["sweep", "--out", out.path] + arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    // SIGKILL once the first network unit is journalled (baselines finish first).
    let units = out.appendingPathComponent("units")
    let deadline = Date().addingTimeInterval(300)
    var journalled = false
    while process.isRunning, Date() < deadline, !journalled {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: units.path)) ?? []
      journalled = names.contains {
        ($0.hasPrefix("bilstm_mlp") || $0.hasPrefix("tcn"))
          && FileManager.default.fileExists(
            atPath: units.appendingPathComponent("\($0)/unit.json").path)
      }
      if !journalled { usleep(10_000) }
    }
    XCTAssertTrue(process.isRunning, "the sweep finished before it could be killed")
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationReason, .uncaughtSignal)
    let record = try text(out.appendingPathComponent("sweep.json"))
    XCTAssertTrue(record.contains("\"complete\" : false"), record)

    let resumed = try runKneeforce(["sweep", "--out", out.path, "--resume"] + arguments)
    XCTAssertEqual(resumed.status, 0, resumed.output)
    XCTAssertTrue(resumed.stdout.contains("already finished (resumed)"), resumed.stdout)
    XCTAssertEqual(
      try text(out.appendingPathComponent("results.csv")),
      try text(reference.appendingPathComponent("results.csv")))

    // Changed options or data are refused; so is a plain re-run into the folder.
    let changed = try runKneeforce(
      ["sweep", "--out", out.path, "--resume"] + arguments + ["--lr", "0.01"])
    XCTAssertEqual(changed.status, 1, changed.output)
    XCTAssertTrue(changed.stderr.contains("options differ: lr"), changed.stderr)
    let manifest = data.appendingPathComponent("manifest.csv")
    let trial = try text(manifest).split(separator: "\n")[1].split(separator: ",")
    let file = data.appendingPathComponent(
      String(
        trial[
          try XCTUnwrap(
            text(manifest).split(separator: "\n")[0].split(separator: ",").firstIndex(of: "file"))])
    )
    var lines = try text(file).split(separator: "\n", omittingEmptySubsequences: false)
    lines[2] = Substring(
      lines[2].replacingOccurrences(
        of: ",", with: ",1", options: [], range: lines[2].range(of: ",")))
    try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
    let otherData = try runKneeforce(["sweep", "--out", out.path, "--resume"] + arguments)
    XCTAssertEqual(otherData.status, 1, otherData.output)
    XCTAssertTrue(otherData.stderr.contains("the data differ"), otherData.stderr)
    let fresh = try runKneeforce(["sweep", "--out", out.path] + arguments)
    XCTAssertEqual(fresh.status, 64, fresh.output)
    XCTAssertTrue(fresh.stderr.contains("--resume"), fresh.stderr)
  }

  func testFinalModelsPredictAPatientWithoutTargets() throws {
    let root = try temporaryDirectory("sweep-predict")
    defer { try? FileManager.default.removeItem(at: root) }
    let data = try makeData(root)
    let out = root.appendingPathComponent("final")
    let train = try runKneeforce(
      [
        "train", "--all-subjects", "--data", data.path, "--out", out.path, "--models", "tcn",
        "--epochs", "2", "--seeds", "2",
      ] + Self.tiny + ["--patience", "0"])
    XCTAssertEqual(train.status, 0, train.output)
    let checkpoint = out.appendingPathComponent("units/tcn__all__all__none/checkpoint.safetensors")
    XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.path), train.output)
    let results = try text(out.appendingPathComponent("results.csv"))
    XCTAssertEqual(results.split(separator: "\n").count, 1, "nothing to score: \(results)")

    // The patient: the walking trial of one subject, without kcf.* columns.
    let patient = root.appendingPathComponent("patient")
    try FileManager.default.createDirectory(
      at: patient.appendingPathComponent("trials"), withIntermediateDirectories: true)
    let manifest = try text(data.appendingPathComponent("manifest.csv")).split(separator: "\n")
    let row = try XCTUnwrap(manifest.first { $0.contains("walking") && $0.hasPrefix("S1") })
    try ([String(manifest[0]), String(row)].joined(separator: "\n") + "\n").write(
      to: patient.appendingPathComponent("manifest.csv"), atomically: true, encoding: .utf8)
    let id = String(row.split(separator: ",")[0])
    let source = try text(data.appendingPathComponent("trials/\(id).csv")).split(separator: "\n")
    let header = source[0].split(separator: ",")
    let keep = header.indices.filter { !header[$0].hasPrefix("kcf.") }
    func strip(_ keepColumns: [Int]) -> String {
      source.map { line in
        let f = line.split(separator: ",", omittingEmptySubsequences: false)
        return keepColumns.map { String(f[$0]) }.joined(separator: ",")
      }.joined(separator: "\n") + "\n"
    }
    try strip(keep).write(
      to: patient.appendingPathComponent("trials/\(id).csv"), atomically: true, encoding: .utf8)
    let predicted = root.appendingPathComponent("predicted")
    let predict = try runKneeforce([
      "predict", "--checkpoint", checkpoint.path, "--data", patient.path, "--out", predicted.path,
    ])
    XCTAssertEqual(predict.status, 0, predict.output)
    let csv = try text(predicted.appendingPathComponent("\(id).csv")).split(separator: "\n")
    XCTAssertEqual(csv.count, source.count, "one line per trial sample")
    XCTAssertEqual(
      csv[0],
      "time_s,predicted.medial_n,predicted.lateral_n,predicted.total_n,predicted.medial_bw,"
        + "predicted.lateral_bw,predicted.total_bw,sd.medial_n,sd.lateral_n,sd.total_n,"
        + "sd.medial_bw,sd.lateral_bw,sd.total_bw")
    for (line, sample) in zip(csv.dropFirst(), source.dropFirst()) {
      let f = line.split(separator: ",", omittingEmptySubsequences: false)
      XCTAssertEqual(
        Double(String(f[0])), Double(String(sample.split(separator: ",")[0])),
        "the trial's own time stamps")
      XCTAssertTrue(
        f.dropFirst().allSatisfy { Double(String($0))?.isFinite ?? false }, String(line))
    }

    // Without an EMG channel the checkpoint is refused, naming it.
    let emg = try XCTUnwrap(keep.last { header[$0].hasPrefix("emg.") })
    try strip(keep.filter { $0 != emg }).write(
      to: patient.appendingPathComponent("trials/\(id).csv"), atomically: true, encoding: .utf8)
    let refused = try runKneeforce([
      "predict", "--checkpoint", checkpoint.path, "--data", patient.path, "--out",
      root.appendingPathComponent("refused").path,
    ])
    XCTAssertEqual(refused.status, 1, refused.output)
    XCTAssertTrue(refused.stderr.contains(String(header[emg])), refused.stderr)
  }

  func testSweepUsageErrors() throws {
    for (arguments, message) in [
      (["--shard", "3/2"], "--shard I"), (["--epochs", "0"], "--epochs"),
      (["--inputs", "kin,xyz"], "xyz"), (["--resume", "--force"], "exclude"),
    ] {
      let run = try runKneeforce(
        ["sweep", "--data", "/nonexistent", "--out", "/tmp/never"] + arguments)
      XCTAssertEqual(run.status, 64, "\(arguments): \(run.output)")
      XCTAssertTrue(run.stderr.contains(message), "\(arguments): \(run.stderr)")
    }
  }

  /// `--segmentation cycle` cuts each walking trial (3 cycles) into its gait cycles.
  func testSegmentationCycleScoresEveryGaitCycle() throws {
    let root = try temporaryDirectory("sweep-cycles")
    defer { try? FileManager.default.removeItem(at: root) }
    let data = try makeData(root)
    for (segmentation, sequences) in [("trial", 3), ("cycle", 9)] {
      let out = root.appendingPathComponent(segmentation)
      let run = try runKneeforce(
        ["sweep", "--out", out.path, "--data", data.path, "--epochs", "1"] + Self.tiny
          + ["--activities", "walking", "--models", "tcn", "--segmentation", segmentation])
      XCTAssertEqual(run.status, 0, run.output)
      let summary = try text(out.appendingPathComponent("summary.md"))
      XCTAssertTrue(summary.contains("(3 subjects, \(sequences) sequences)"), summary)
    }
    let wrong = try runKneeforce(
      ["sweep", "--data", data.path, "--out", "/tmp/never", "--segmentation", "windows"])
    XCTAssertEqual(wrong.status, 64, wrong.output)
    XCTAssertTrue(wrong.stderr.contains("--segmentation"), wrong.stderr)
  }
}
