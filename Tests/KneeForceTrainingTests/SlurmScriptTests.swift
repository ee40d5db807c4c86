import Foundation
import KneeForceTraining
import XCTest

/// The job scripts of `kneeforce slurm`: array ranges, the arguments each task gives
/// `kneeforce sweep`, the merge's dependency and refusal, and quoting of awkward paths. The
/// scripts are run by bash here with a stub `kneeforce` that prints its arguments, so the
/// quoting is checked by the shell itself, not by string comparison. scripts/test-slurm.sh
/// runs them on a real Slurm.
final class SlurmScriptTests: XCTestCase {
  /// Spaces, both quotes, `$`, a backtick, `%` (sbatch's pattern character) and `#`.
  static let awkward = "/tmp/kf test/it's \"a\" $HOME `x` 50% #1"

  func plan(out: String = "/scratch/kf/out", data: String = "/scratch/kf/data", tasks: Int = 4)
    -> SlurmPlan
  {
    SlurmPlan(
      executable: "/opt/kneeforce/bin/kneeforce", data: data, out: out, tasks: tasks,
      sweepArguments: ["--models", "tcn", "--epochs", "2", "--activities", "walking,squat"],
      resources: SlurmResources(
        partition: "gpu", time: "02:00:00", cpusPerTask: 4, gpusPerTask: 1, mem: "8G"))
  }

  func testArrayRangeJoinsRunsOfConsecutiveTasks() {
    XCTAssertEqual(SlurmScripts.arrayRange([1, 2, 3]), "1-3")
    XCTAssertEqual(SlurmScripts.arrayRange([2]), "2")
    XCTAssertEqual(SlurmScripts.arrayRange([8, 1, 2, 3, 5, 7, 3]), "1-3,5,7-8")
    XCTAssertEqual(SlurmScripts.arrayRange([]), "")
  }

  func testSweepScriptIsAnArrayOfShardsThatResume() {
    let script = SlurmScripts.sweepScript(plan(), tasks: Array(1...4), version: "test")
    let lines = script.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.first, "#!/bin/bash")
    XCTAssertTrue(lines.contains("#SBATCH --array=1-4"), script)
    XCTAssertTrue(lines.contains("#SBATCH --partition=gpu"), script)
    XCTAssertTrue(lines.contains("#SBATCH --time=02:00:00"), script)
    XCTAssertTrue(lines.contains("#SBATCH --cpus-per-task=4"), script)
    XCTAssertTrue(lines.contains("#SBATCH --gpus-per-task=1"), script)
    XCTAssertTrue(lines.contains("#SBATCH --mem=8G"), script)
    XCTAssertTrue(lines.contains("#SBATCH --requeue"), script)
    XCTAssertTrue(
      lines.contains("#SBATCH --output=/scratch/kf/out/slurm/logs/sweep-%A_%a.out"), script)
    XCTAssertTrue(lines.contains("tasks=4"), script)
    XCTAssertTrue(lines.contains("threads=\"${SLURM_CPUS_PER_TASK:-1}\""), script)
    // Every #SBATCH line comes before the first command: sbatch stops reading them there.
    let firstCommand = lines.firstIndex { !$0.hasPrefix("#") && !$0.isEmpty }!
    XCTAssertFalse(lines[firstCommand...].contains { $0.hasPrefix("#SBATCH") })
  }

  func testEachTaskRunsItsShardWithTheSweepOptions() throws {
    let p = plan()
    let script = SlurmScripts.sweepScript(p, tasks: [1, 2, 3, 4], version: "test")
    // Slurm sets SLURM_CPUS_PER_TASK from the script's --cpus-per-task.
    let run = try runWithStub(
      script, p, environment: ["SLURM_ARRAY_TASK_ID": "3", "SLURM_CPUS_PER_TASK": "4"])
    XCTAssertEqual(run.status, 0, run.output)
    XCTAssertEqual(
      run.arguments,
      [
        "sweep", "--data", "/scratch/kf/data", "--out", "/scratch/kf/out/shards/3", "--shard",
        "3/4", "--resume", "--models", "tcn", "--epochs", "2",
        "--activities", "walking,squat",
      ])
    XCTAssertEqual(run.threads, "4", "threads follow SLURM_CPUS_PER_TASK")
  }

  func testResubmissionIsAnArrayOfTheMissingTasksOfTheSameShards() throws {
    let p = plan()
    let script = SlurmScripts.sweepScript(p, tasks: [4, 2], version: "test")
    XCTAssertTrue(script.contains("\n#SBATCH --array=2,4\n"), script)
    let run = try runWithStub(script, p, environment: ["SLURM_ARRAY_TASK_ID": "4"])
    XCTAssertEqual(run.status, 0, run.output)
    XCTAssertEqual(Array(run.arguments.prefix(8)).suffix(3), ["--shard", "4/4", "--resume"])
  }

  func testPathsWithSpacesAndQuotesReachTheSweepUnchanged() throws {
    let p = plan(out: Self.awkward + "/out", data: Self.awkward + "/data")
    var withAwkwardOption = p
    withAwkwardOption.sweepArguments = ["--held-out", "S 01's"]
    let script = SlurmScripts.sweepScript(withAwkwardOption, tasks: [1], version: "test")
    let run = try runWithStub(
      script, withAwkwardOption,
      environment: ["SLURM_ARRAY_TASK_ID": "1", "SLURM_CPUS_PER_TASK": "2"])
    XCTAssertEqual(run.status, 0, run.output)
    XCTAssertEqual(
      run.arguments,
      [
        "sweep", "--data", Self.awkward + "/data", "--out", Self.awkward + "/out/shards/1",
        "--shard", "1/4", "--resume", "--held-out", "S 01's",
      ])
  }

  func testQuoting() {
    XCTAssertEqual(SlurmScripts.shellQuote("/plain/path-1_2.x"), "/plain/path-1_2.x")
    XCTAssertEqual(SlurmScripts.shellQuote("a b"), "'a b'")
    XCTAssertEqual(SlurmScripts.shellQuote("it's"), "'it'\\''s'")
    XCTAssertEqual(SlurmScripts.shellQuote(""), "''")
    XCTAssertEqual(SlurmScripts.shellQuote("$HOME"), "'$HOME'")
    // sbatch's own splitting of #SBATCH lines: double quotes, backslash escapes, '#' inside
    // quotes kept, '%' doubled in --output patterns.
    XCTAssertEqual(SlurmScripts.directiveQuote("gpu"), "gpu")
    XCTAssertEqual(
      SlurmScripts.directiveQuote("/a b/it's \"x\" \\ #1"), "\"/a b/it's \\\"x\\\" \\\\ #1\"")
    XCTAssertEqual(SlurmScripts.filenamePatternEscape("/a/50%/b"), "/a/50%%/b")
    let script = SlurmScripts.sweepScript(plan(out: "/a b/it's \"q\" 5%"), tasks: [1], version: "t")
    XCTAssertTrue(
      script.contains(
        "\n#SBATCH --output=\"/a b/it's \\\"q\\\" 5%%/slurm/logs/sweep-%A_%a.out\"\n"), script)
  }

  func testMergeIsSubmittedAfterAnyEndOfTheArray() {
    XCTAssertEqual(
      SlurmScripts.sbatchArguments(script: "/o/slurm/merge.sbatch", afterAny: "1234"),
      ["--parsable", "--dependency=afterany:1234", "/o/slurm/merge.sbatch"])
    XCTAssertEqual(
      SlurmScripts.sbatchArguments(script: "/o/slurm/sweep.sbatch"),
      ["--parsable", "/o/slurm/sweep.sbatch"])
    XCTAssertEqual(SlurmScripts.parseJobID("1234\n"), "1234")
    XCTAssertEqual(SlurmScripts.parseJobID("1234;cluster\n"), "1234")
    XCTAssertEqual(SlurmScripts.parseJobID("sbatch: warning: x\n77\n"), "77")
    XCTAssertNil(SlurmScripts.parseJobID("sbatch: error: invalid partition\n"))
    let merge = SlurmScripts.mergeScript(plan(), version: "test")
    XCTAssertFalse(merge.contains("--array"), merge)
    XCTAssertFalse(merge.contains("--gpus-per-task"), "the merge needs no GPU")
    XCTAssertTrue(merge.contains("\n#SBATCH --cpus-per-task=1\n"), merge)
  }

  func testMergeRefusesIncompleteShardsNamesThemAndPrintsTheResubmitCommand() throws {
    let folder = try makeTemporaryFolder("slurm-merge")
    defer { try? FileManager.default.removeItem(at: folder) }
    let out = folder.appendingPathComponent("it's a \"run\"").path
    let p = plan(out: out, tasks: 3)
    try writeShard(p, 1, complete: true)
    try writeShard(p, 2, complete: false)
    try writeShard(p, 3, complete: true, spacing: "  \"complete\":true")
    XCTAssertEqual(SlurmScripts.incompleteTasks(p), [2])

    let merge = SlurmScripts.mergeScript(p, version: "test")
    let refused = try runWithStub(merge, p, environment: ["STUB_STATUS": "1"])
    XCTAssertEqual(refused.status, 1, refused.output)
    XCTAssertEqual(refused.arguments.first, "merge", "merge refuses in its own words too")
    XCTAssertFalse(refused.arguments.contains("report"), "no report of a refused merge")
    XCTAssertTrue(refused.output.contains("tasks 2"), refused.output)
    XCTAssertTrue(refused.output.contains(out + "/shards/2"), refused.output)
    let hint = try XCTUnwrap(
      refused.output.split(separator: "\n").first { $0.contains("--resubmit") })
    XCTAssertEqual(
      hint.trimmingCharacters(in: .whitespaces), SlurmScripts.resubmitHint(out))
    // The hint is one command a user can paste: bash reads --out back as the folder.
    let words = try bashWords(String(hint))
    XCTAssertEqual(words, ["kneeforce", "slurm", "--out", out, "--resubmit", "--submit"])

    try writeShard(p, 2, complete: true)
    XCTAssertEqual(SlurmScripts.incompleteTasks(p), [])
    let merged = try runWithStub(merge, p, environment: [:])
    XCTAssertEqual(merged.status, 0, merged.output)
    XCTAssertEqual(
      merged.arguments,
      ["merge", "--force", "--out", out + "/merged"]
        + [out + "/shards/1", out + "/shards/2", out + "/shards/3"] + ["help", "report"])
    XCTAssertTrue(merged.output.contains("kneeforce report is not in this version"))

    // A kneeforce with `report`: the merged folder gets its report.
    let reported = try runWithStub(merge, p, environment: ["STUB_REPORT": "1"])
    XCTAssertEqual(reported.status, 0, reported.output)
    XCTAssertEqual(
      Array(reported.arguments.suffix(4)), ["help", "report", "report", out + "/merged"])
  }

  func testSlurmJSONRoundTrips() throws {
    var p = plan()
    p.submissions = [
      SlurmSubmission(kind: "sweep", script: "sweep.sbatch", tasks: [1, 2], arrayJob: "5")
    ]
    let data = try JSONEncoder().encode(p)
    XCTAssertEqual(try JSONDecoder().decode(SlurmPlan.self, from: data), p)
  }

  // MARK: - The command

  func testCommandRefusesBadOptionsAsUsageErrors() throws {
    let folder = try makeTemporaryFolder("slurm-usage")
    defer { try? FileManager.default.removeItem(at: folder) }
    let out = folder.appendingPathComponent("out").path
    let base = ["slurm", "--data", folder.path, "--out", out]
    for (extra, words) in [
      (["--tasks", "0"], "--tasks must be in 1...1000"),
      (["--tasks", "2", "--time", "90:00"], "--time must be HH:MM:SS"),
      (["--tasks", "2", "--mem", "lots"], "--mem must be"),
      (["--tasks", "2", "--cpus-per-task", "0"], "--cpus-per-task must be in"),
      (["--tasks", "2", "--shard", "1/2"], "--shard is set by `kneeforce slurm`"),
      (["--tasks", "2", "--resume"], "--resume is set by `kneeforce slurm`"),
      (["--tasks", "2", "--shard=1/2"], "--shard is set by `kneeforce slurm`"),
      (["--tasks", "2", "--partition", "a b"], "--partition must be"),
      ([], "--tasks is required"),
      (["--tasks", "2", "--epochs", "0"], "sweep options: --epochs must be in 1...100000"),
      (["--tasks", "2", "--modles", "tcn"], "sweep options: "),
    ] {
      let run = try kneeforce(base + extra)
      XCTAssertEqual(run.status, 64, "\(extra): \(run.output)")
      XCTAssertTrue(run.output.contains(words), "\(extra): \(run.output)")
    }
    let resubmit = try kneeforce(["slurm", "--out", out, "--resubmit", "--tasks", "3"])
    XCTAssertEqual(resubmit.status, 64, resubmit.output)
    XCTAssertTrue(resubmit.output.contains("--resubmit takes the options recorded"))
  }

  func testCommandWritesScriptsAndPlanAndRefusesToOverwrite() throws {
    let folder = try makeTemporaryFolder("slurm-write")
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = folder.appendingPathComponent("data")
    XCTAssertEqual(
      try kneeforce(["synth", "--out", data.path, "--subjects", "3", "--trials", "1"]).status, 0)
    let out = folder.appendingPathComponent("my out's").path
    let run = try kneeforce([
      "slurm", "--data", data.path, "--out", out, "--tasks", "3", "--cpus-per-task", "2",
      "--models", "tcn", "--epochs", "2",
    ])
    XCTAssertEqual(run.status, 0, run.output)
    XCTAssertTrue(run.stdout.contains("sbatch --dependency=afterany:$jobid"), run.stdout)
    for name in ["sweep.sbatch", "merge.sbatch", "slurm.json", "logs"] {
      XCTAssertTrue(
        FileManager.default.fileExists(atPath: out + "/slurm/" + name), "\(name) missing")
    }
    XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/.kneeforce-out.json"))
    let json = try XCTUnwrap(FileManager.default.contents(atPath: out + "/slurm/slurm.json"))
    let object = try XCTUnwrap(JSONSerialization.jsonObject(with: json) as? [String: Any])
    XCTAssertEqual(object["tasks"] as? Int, 3)
    XCTAssertEqual(object["sweep_arguments"] as? [String], ["--models", "tcn", "--epochs", "2"])
    XCTAssertEqual(object["out"] as? String, out)

    let again = try kneeforce(["slurm", "--data", data.path, "--out", out, "--tasks", "3"])
    XCTAssertEqual(again.status, 64, again.output)
    XCTAssertTrue(again.output.contains("--force"), again.output)

    // No shard has run: a resubmission (without --submit) is an array of every task.
    let resubmit = try kneeforce(["slurm", "--out", out, "--resubmit"])
    XCTAssertEqual(resubmit.status, 0, resubmit.output)
    XCTAssertTrue(resubmit.stdout.contains("3 of 3 shards are not complete: tasks 1-3"))
    let script = try String(contentsOfFile: out + "/slurm/resubmit-1.sbatch", encoding: .utf8)
    XCTAssertTrue(script.contains("\n#SBATCH --array=1-3\n"), script)
  }

  // MARK: - Helpers

  struct StubRun {
    var status: Int32
    var output: String
    /// Every argument the stub `kneeforce` received, over all its calls.
    var arguments: [String]
    /// KNEEFORCE_THREADS as the stub saw it.
    var threads: String
  }

  /// Runs `script` with bash, its `kneeforce=` line pointing at a stub that records its
  /// arguments (NUL-separated). `help report` answers as a kneeforce without `report` does
  /// (general usage, exit 0), or with STUB_REPORT=1 as one with it.
  func runWithStub(_ script: String, _ plan: SlurmPlan, environment: [String: String]) throws
    -> StubRun
  {
    let folder = try makeTemporaryFolder("slurm-stub")
    defer { try? FileManager.default.removeItem(at: folder) }
    let record = folder.appendingPathComponent("arguments")
    let stub = folder.appendingPathComponent("kneeforce")
    try """
    #!/bin/bash
    for a in "$@"; do printf '%s\\0' "$a" >> "$STUB_RECORD"; done
    printf '%s' "${KNEEFORCE_THREADS:-}" > "$STUB_RECORD.threads"
    # An old kneeforce: `help report` prints the general usage and exits 0.
    if [ "$1" = help ]; then
      [ -n "${STUB_REPORT:-}" ] && echo "USAGE: kneeforce report <folder>" \
        || echo "USAGE: kneeforce <subcommand>"
      exit 0
    fi
    exit "${STUB_STATUS:-0}"
    """.write(to: stub, atomically: true, encoding: .utf8)
    chmod(stub.path, 0o755)
    let quoted = SlurmScripts.shellQuote(plan.executable)
    let edited = script.replacingOccurrences(
      of: "\nkneeforce=\(quoted)\n", with: "\nkneeforce=\(SlurmScripts.shellQuote(stub.path))\n")
    XCTAssertNotEqual(edited, script, "no kneeforce= line")
    let path = folder.appendingPathComponent("job.sh")
    try edited.write(to: path, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [path.path]
    var env = ["PATH": "/usr/bin:/bin", "STUB_RECORD": record.path, "TMPDIR": folder.path]
    env.merge(environment) { $1 }
    process.environment = env
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let recorded = FileManager.default.contents(atPath: record.path) ?? Data()
    let arguments = recorded.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    let threads = (try? String(contentsOfFile: record.path + ".threads", encoding: .utf8)) ?? ""
    return StubRun(
      status: process.terminationStatus, output: output, arguments: arguments, threads: threads)
  }

  /// The words bash makes of `line`.
  func bashWords(_ line: String) throws -> [String] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", "for w in \(line); do printf '%s\\0' \"$w\"; done"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
  }

  func writeShard(
    _ plan: SlurmPlan, _ task: Int, complete: Bool, spacing: String? = nil
  ) throws {
    let folder = plan.shardFolder(task)
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let line = spacing ?? "  \"complete\" : \(complete)"
    try "{\n  \"format\" : 1,\n\(line)\n}\n".write(
      toFile: folder + "/sweep.json", atomically: true, encoding: .utf8)
  }
}
