import Foundation
import KneeForceFiles
import KneeForceTestSupport
import SafeTensors
import XCTest

/// The shared command rules (README, "Command rules") through the real executable: no
/// option value traps, refused overwrites, one exit-status scheme, interrupted writes.
final class CommandRulesTests: XCTestCase {
  var root: URL!

  override func setUpWithError() throws { root = try temporaryDirectory("rules") }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

  func fixture(_ name: String) -> URL {
    repositoryRoot.appendingPathComponent("Tests/KneeForceModelsTests/Fixtures/\(name)")
  }

  func names(_ url: URL) -> Set<String> {
    Set((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [])
  }

  /// Each used to trap (stride by 0, overflow, allocation failure) or exit 0 with nonsense.
  func testOutOfRangeBenchOptionsAreUsageErrorsBeforeAnyWork() throws {
    let cases: [([String], String)] = [
      (["--batch", "0"], "--batch must be in 1...65536, got 0"),
      (["--batch=-1"], "--batch must be in 1...65536, got -1"),
      (["--batch", "-1"], "Missing value for '--batch <batch>'"),
      (["--length", "0"], "--length must be in"),
      (["--sequences", "0"], "--sequences must be in"),
      (["--epochs", "0"], "--epochs must be in 1...1000"),
      (["--sequences", "4611686018427387904"], "--sequences must be in"),
      (["--levels", "64"], "--levels must be in 1...24, got 64"),
      (["--length", "1000000", "--sequences", "10000000"], "would need"),
      (["--hidden", "100000"], "--hidden must be in 1...4096"),
      (["--channels", "1000000"], "--channels must be in 1...4096"),
      (["--kernel", "1000000"], "--kernel must be in 1...64"),
      (["--mlp", "128"], "--mlp: expected two widths"),
      (["--threads", "0"], "--threads must be in 1...1024"),
    ]
    for (arguments, expected) in cases {
      let run = try runKneeforce(["bench"] + arguments)
      XCTAssertEqual(run.reason, .exit, "\(arguments) trapped: \(run.stderr.prefix(300))")
      XCTAssertEqual(run.status, ExitStatus.usage, "\(arguments): \(run.output)")
      XCTAssertTrue(run.stderr.contains(expected), "\(arguments): \(run.stderr)")
      XCTAssertTrue(run.stderr.contains("Usage: kneeforce bench"), "\(arguments): \(run.stderr)")
      XCTAssertFalse(run.stdout.contains("seq/s"), "\(arguments) did work: \(run.stdout)")
    }
  }

  func testHelpStatesTheRanges() throws {
    let help = try runKneeforce(["bench", "--help"])
    XCTAssertEqual(help.status, 0)
    for range in ["1-65536", "1-24", "1-4096", "1-64"] {
      XCTAssertTrue(help.stdout.contains(range), "help lacks \(range):\n\(help.stdout)")
    }
  }

  func testSynthRefusesAUsersFolderAndReplacesOnlyItsOwnWithForce() throws {
    let mine = root.appendingPathComponent("thesis")
    try FileManager.default.createDirectory(at: mine, withIntermediateDirectories: true)
    try Data("precious".utf8).write(to: mine.appendingPathComponent("notes.txt"))
    for force in [false, true] {
      let run = try runKneeforce(
        ["synth", "--out", mine.path, "--subjects", "2", "--trials", "1"]
          + (force ? ["--force"] : []))
      XCTAssertEqual(run.status, ExitStatus.usage, run.output)
      XCTAssertTrue(run.stderr.contains("was not written by kneeforce"), run.stderr)
    }
    XCTAssertEqual(names(mine), ["notes.txt"])

    let data = root.appendingPathComponent("data")
    let first = try runKneeforce(
      ["synth", "--out", data.path, "--subjects", "3", "--trials", "1"])
    XCTAssertEqual(first.status, 0, first.output)
    let again = try runKneeforce(
      ["synth", "--out", data.path, "--subjects", "2", "--trials", "1"])
    XCTAssertEqual(again.status, ExitStatus.usage, again.output)
    XCTAssertTrue(again.stderr.contains("--force"), again.stderr)
    // With --force the old trials do not stay beside the new manifest.
    let forced = try runKneeforce(
      ["synth", "--out", data.path, "--subjects", "2", "--trials", "1", "--force"])
    XCTAssertEqual(forced.status, 0, forced.output)
    let trials = names(data.appendingPathComponent("trials"))
    XCTAssertFalse(trials.contains { $0.hasPrefix("S3") }, "old trials left: \(trials.sorted())")
    XCTAssertTrue(names(data).contains(OutputFolder.markerName))
    XCTAssertEqual(names(root), ["thesis", "data"])
  }

  func testEmptyOutputPathsAreRefused() throws {
    for command in [["demo", "--out", ""], ["synth", "--out", ""]] {
      let run = try runKneeforce(command)
      XCTAssertEqual(run.status, ExitStatus.usage, "\(command): \(run.output)")
      XCTAssertTrue(run.stderr.contains("--out is empty"), run.stderr)
    }
  }

  func testDemoRefusesANonEmptyFolderBeforeTraining() throws {
    let out = root.appendingPathComponent("results")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    try Data("x".utf8).write(to: out.appendingPathComponent("results.csv"))
    let run = try runKneeforce(["demo", "--out", out.path, "--epochs", "1"])
    XCTAssertEqual(run.status, ExitStatus.usage, run.output)
    XCTAssertEqual(names(out), ["results.csv"])
    XCTAssertEqual(
      try String(contentsOf: out.appendingPathComponent("results.csv"), encoding: .utf8), "x")
  }

  func testForwardNeverWritesOverItsInputs() throws {
    let checkpoint = root.appendingPathComponent("ck.safetensors")
    let input = root.appendingPathComponent("io.safetensors")
    try FileManager.default.copyItem(at: fixture("tcn_small.ckpt.safetensors"), to: checkpoint)
    try FileManager.default.copyItem(at: fixture("tcn_small.io.safetensors"), to: input)
    let link = root.appendingPathComponent("link.safetensors")
    try FileManager.default.createSymbolicLink(at: link, withDestinationURL: checkpoint)
    let before = try Data(contentsOf: checkpoint)
    for output in [checkpoint.path, input.path, link.path, root.path + "/./ck.safetensors"] {
      let run = try runKneeforce([
        "forward", "--checkpoint", checkpoint.path, "--input", input.path, "--output", output,
        "--device", "cpu", "--force",
      ])
      XCTAssertEqual(run.status, ExitStatus.usage, "\(output): \(run.output)")
      XCTAssertTrue(run.stderr.contains("is the same file as"), run.stderr)
    }
    XCTAssertEqual(try Data(contentsOf: checkpoint), before)

    let out = root.appendingPathComponent("y.safetensors")
    let args = [
      "forward", "--checkpoint", checkpoint.path, "--input", input.path, "--output", out.path,
      "--device", "cpu",
    ]
    XCTAssertEqual(try runKneeforce(args).status, 0)
    let again = try runKneeforce(args)
    XCTAssertEqual(again.status, ExitStatus.usage, again.output)
    XCTAssertTrue(again.stderr.contains("exists"), again.stderr)
    XCTAssertEqual(try runKneeforce(args + ["--force"]).status, 0)
  }

  func testForwardNamesWhatIsWrongWithAnInputPath() throws {
    let fifo = root.appendingPathComponent("pipe")
    XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
    let cases: [(String, String)] = [
      (root.appendingPathComponent("none").path, "does not exist"),
      (root.path, "is a folder, expected a file"),
      (fifo.path, "is a FIFO (named pipe), expected a regular file"),
    ]
    for (path, reason) in cases {
      let run = try runKneeforce([
        "forward", "--checkpoint", path, "--input", fixture("tcn_small.io.safetensors").path,
        "--output", root.appendingPathComponent("y.safetensors").path, "--device", "cpu",
      ])
      XCTAssertEqual(run.status, ExitStatus.failure, run.output)
      XCTAssertTrue(run.stderr.contains("error: \(path): \(reason)"), run.stderr)
      XCTAssertFalse(run.stderr.contains("NSCocoaErrorDomain"), run.stderr)
    }
  }

  /// A self-consistent TCN checkpoint with 64 levels used to overflow computing 2^63.
  func testForwardRefusesATCNCheckpointWithTooManyLevels() throws {
    let file = try SafeTensorsFile.read(from: fixture("tcn_small.ckpt.safetensors"))
    var metadata = file.metadata
    let key = "kneeforce"
    var object =
      try JSONSerialization.jsonObject(with: Data((metadata[key] ?? "{}").utf8))
      as? [String: Any] ?? [:]
    object["levels"] = 64
    metadata[key] = String(
      decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    let checkpoint = root.appendingPathComponent("deep.safetensors")
    try SafeTensorsFile(tensors: file.tensors, metadata: metadata).write(to: checkpoint)
    let run = try runKneeforce([
      "forward", "--checkpoint", checkpoint.path, "--input",
      fixture("tcn_small.io.safetensors").path, "--output",
      root.appendingPathComponent("y.safetensors").path, "--device", "cpu",
    ])
    XCTAssertEqual(run.reason, .exit, "trapped: \(run.stderr.prefix(300))")
    XCTAssertEqual(run.status, ExitStatus.failure, run.output)
    XCTAssertTrue(run.stderr.contains("levels"), run.stderr)
  }

  func testForwardWarnsAboutNonFiniteInputs() throws {
    let io = try SafeTensorsFile.read(from: fixture("tcn_small.io.safetensors"))
    var x = try io.floats("x")
    x[5] = .nan
    let input = root.appendingPathComponent("nan.safetensors")
    try SafeTensorsFile(tensors: ["x": Tensor(floats: x, shape: try io.tensor("x").shape)])
      .write(to: input)
    let run = try runKneeforce([
      "forward", "--checkpoint", fixture("tcn_small.ckpt.safetensors").path, "--input",
      input.path, "--output", root.appendingPathComponent("y.safetensors").path,
      "--device", "cpu",
    ])
    XCTAssertEqual(run.status, 0, run.output)
    XCTAssertTrue(
      run.stderr.contains("tensor 'x' has 1 non-finite value(s)")
        && run.stderr.contains("at index 5"), run.stderr)
    XCTAssertTrue(run.stderr.contains("output 'y' has"), run.stderr)
  }

  /// SIGINT and SIGTERM while the data set is staged: no folder, no hidden leftovers, 130.
  /// SIGKILL: no published folder; the next run removes the leftovers.
  func testAnInterruptedSynthLeavesNothingThatCheckAccepts() throws {
    let data = root.appendingPathComponent("data")
    for signal in [SIGINT, SIGTERM] {
      let run = try BackgroundKneeforce(
        ["synth", "--out", data.path, "--subjects", "2", "--trials", "1"],
        environment: ["KNEEFORCE_TEST_HOLD_BEFORE_PUBLISH": "30"])
      XCTAssertTrue(
        run.wait(upTo: 30) {
          self.names(self.root).contains { $0.contains(AtomicFile.temporaryMarker) }
        },
        "no staging folder appeared: \(run.stderr)")
      run.send(signal)
      let end = run.finish()
      XCTAssertEqual(end.reason, .exit, "signal \(signal)")
      XCTAssertEqual(end.status, ExitStatus.interrupted, run.stderr)
      XCTAssertTrue(run.stderr.contains("interrupted"), run.stderr)
      XCTAssertEqual(names(root), [], "left behind after signal \(signal)")
    }
    let killed = try BackgroundKneeforce(
      ["synth", "--out", data.path, "--subjects", "2", "--trials", "1"],
      environment: ["KNEEFORCE_TEST_HOLD_BEFORE_PUBLISH": "30"])
    XCTAssertTrue(
      killed.wait(upTo: 30) {
        self.names(self.root).contains { $0.contains(AtomicFile.temporaryMarker) }
      })
    killed.send(SIGKILL)
    _ = killed.finish()
    XCTAssertFalse(names(root).contains("data"), "a half-written data set was published")
    let check = try runKneeforce(["check", data.path])
    XCTAssertEqual(check.status, ExitStatus.failure, check.output)
    let next = try runKneeforce(["synth", "--out", data.path, "--subjects", "2", "--trials", "1"])
    XCTAssertEqual(next.status, 0, next.output)
    XCTAssertEqual(names(root), ["data"], "stale staging folder not cleaned")
    XCTAssertEqual(try runKneeforce(["check", data.path]).status, 0)
  }

  /// Progress reaches a redirected log line by line: a killed run's log is not empty.
  func testProgressIsFlushedWhenStdoutIsAFile() throws {
    let out = root.appendingPathComponent("demo")
    let run = try BackgroundKneeforce([
      "demo", "--out", out.path, "--epochs", "100000", "--device", "cpu",
    ])
    let printed = run.wait(upTo: 120) { run.stdout.contains("SYNTHETIC cohort") }
    run.send(SIGKILL)
    _ = run.finish()
    XCTAssertTrue(printed, "nothing reached the log before the kill: '\(run.stdout)' \(run.stderr)")
  }
}
