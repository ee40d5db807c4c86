import ArgumentParser
import Foundation
import KneeForceData
import KneeForceFiles
import KneeForceTraining

#if canImport(Glibc)
  import Glibc
#endif

struct SlurmCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "slurm",
    abstract: "Run a sweep on a Slurm cluster: a job array of shards, then a merge job.",
    discussion: """
      Writes OUT/slurm/sweep.sbatch, a job array (--array=1-N) whose task i runs \
      `kneeforce sweep ... --shard i/N --resume --out OUT/shards/i`, so that a requeued or \
      preempted task continues, and OUT/slurm/merge.sbatch, which merges the shards into \
      OUT/merged (then `kneeforce report OUT/merged` where that command exists). With --submit it submits both, \
      the merge with --dependency=afterany:<array job> so that it runs even when a task \
      failed, and prints the job ids. OUT/slurm/slurm.json records the tasks, the sweep \
      options and the job ids.

      Every option this command does not know is a sweep option, passed to each task \
      unchanged (`kneeforce help sweep`): `kneeforce slurm --data D --out O --tasks 8 \
      --models tcn --epochs 60 --submit`. Threads per task follow SLURM_CPUS_PER_TASK \
      (--cpus-per-task). OUT and DATA must be on a filesystem every node sees.

      When the merge finds shards without `"complete": true` in their sweep.json it names \
      them and exits 1; `kneeforce slurm --out OUT --resubmit --submit` then submits an \
      array of only those tasks and a new merge job.
      """)

  @Option(help: "Dataset folder, on a filesystem every node sees (not with --resubmit).")
  var data: String?

  @Option(
    help: """
      Output folder, on a filesystem every node sees: created, or empty, or an earlier \
      `kneeforce slurm` folder with --force or --resubmit. Marked with .kneeforce-out.json.
      """)
  var out: String

  @Option(help: "Array tasks, one shard of the sweep each (\(Self.taskRange.helpText)).")
  var tasks: Int?

  @Option(help: "Slurm partition (letters, digits, . _ - and commas; default: the cluster's).")
  var partition: String?

  @Option(help: "Time limit per task, HH:MM:SS or D-HH:MM:SS (default: the partition's).")
  var time: String?

  @Option(help: "Cores per task, and threads of each sweep (\(Self.cpuRange.helpText); default 1).")
  var cpusPerTask: Int?

  @Option(help: "GPUs per task (\(Self.gpuRange.helpText); default 0: none requested).")
  var gpusPerTask: Int?

  @Option(help: "Memory per task as Slurm writes it: a number with K, M, G or T (4G, 800M).")
  var mem: String?

  @Option(
    help: """
      The kneeforce executable the jobs run, on a filesystem every node sees (default: this \
      one).
      """)
  var executable: String?

  @Flag(help: "Submit the scripts with sbatch and print the job ids.")
  var submit = false

  @Flag(
    help: """
      Write (and with --submit, submit) an array of only the tasks whose shard is not \
      complete, and a new merge job; needs only --out.
      """)
  var resubmit = false

  @Flag(help: "Replace OUT if it holds an earlier kneeforce output (never another folder).")
  var force = false

  @Argument(
    parsing: .allUnrecognized,
    help: ArgumentHelp(
      "Sweep options (`kneeforce help sweep`), passed to every task.",
      valueName: "sweep-options"))
  var sweepOptions: [String] = []

  static let taskRange = 1...1000
  static let cpuRange = 1...1024
  static let gpuRange = 0...64
  /// Options that `kneeforce slurm` itself sets on every task's `kneeforce sweep`.
  static let ownedSweepOptions = ["--data", "--out", "--shard", "--resume", "--force"]

  func validate() throws {
    if resubmit {
      var given: [String] = []
      if data != nil { given.append("--data") }
      if tasks != nil { given.append("--tasks") }
      if partition != nil { given.append("--partition") }
      if time != nil { given.append("--time") }
      if cpusPerTask != nil { given.append("--cpus-per-task") }
      if gpusPerTask != nil { given.append("--gpus-per-task") }
      if mem != nil { given.append("--mem") }
      if executable != nil { given.append("--executable") }
      if force { given.append("--force") }
      if !sweepOptions.isEmpty { given.append(sweepOptions.joined(separator: " ")) }
      guard given.isEmpty else {
        throw ValidationError(
          "--resubmit takes the options recorded in OUT/slurm/slurm.json; remove "
            + given.joined(separator: ", "))
      }
      guard !out.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw ValidationError("--out is empty: give the folder of the earlier `kneeforce slurm`")
      }
      return
    }
    guard let data, !data.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw ValidationError("--data is required (or --resubmit to complete an earlier sweep)")
    }
    guard let tasks else {
      throw ValidationError("--tasks is required: the number of array tasks (shards)")
    }
    try checkRange(tasks, Self.taskRange, "--tasks")
    if let cpusPerTask { try checkRange(cpusPerTask, Self.cpuRange, "--cpus-per-task") }
    if let gpusPerTask { try checkRange(gpusPerTask, Self.gpuRange, "--gpus-per-task") }
    if let partition {
      let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-,")
      guard !partition.isEmpty, partition.allSatisfy({ allowed.contains($0) }) else {
        throw ValidationError(
          "--partition must be a partition name (letters, digits, . _ - and commas), got "
            + "'\(partition)'")
      }
    }
    if let time, !Self.isSlurmTime(time) {
      throw ValidationError("--time must be HH:MM:SS or D-HH:MM:SS, got '\(time)'")
    }
    if let mem, !Self.isSlurmMemory(mem) {
      throw ValidationError(
        "--mem must be a number of megabytes or a number with K, M, G or T (4G), got '\(mem)'")
    }
    for option in sweepOptions {
      let name = String(option.split(separator: "=", maxSplits: 1).first ?? "")
      if Self.ownedSweepOptions.contains(name) {
        throw ValidationError(
          "\(name) is set by `kneeforce slurm` for every task (--data and --out here; "
            + "--shard and --resume per task); remove it from the sweep options")
      }
      if name == "--help" || name == "-h" {
        throw ValidationError("sweep options are described by `kneeforce help sweep`")
      }
    }
    try asUsageError {
      try OutputFolder.check(out, command: "slurm", mode: force ? .force : .fresh)
    }
    // The sweep's own parser checks the options now, on the login node, not in every task.
    let probe = URL(fileURLWithPath: out).standardizedFileURL.path + "/shards/1"
    do {
      _ = try SweepCommand.parse(
        ["--data", data, "--out", probe, "--shard", "1/\(tasks)", "--resume"] + sweepOptions)
    } catch {
      throw ValidationError("sweep options: \(SweepCommand.message(for: error))")
    }
  }

  /// `HH:MM:SS` or `D-HH:MM:SS`, minutes and seconds below 60.
  static func isSlurmTime(_ text: String) -> Bool {
    var rest = Substring(text)
    if let dash = rest.firstIndex(of: "-") {
      let days = rest[..<dash]
      guard !days.isEmpty, days.count <= 3, days.allSatisfy(\.isASCII), days.allSatisfy(\.isNumber)
      else { return false }
      rest = rest[rest.index(after: dash)...]
    }
    let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 3,
      parts.allSatisfy({
        !$0.isEmpty && $0.count <= 2 && $0.allSatisfy { $0.isASCII && $0.isNumber }
      }),
      let minutes = Int(parts[1]), let seconds = Int(parts[2]), minutes < 60, seconds < 60
    else { return false }
    return true
  }

  /// `4096`, `800M`, `4G`, `1T`, `512K`.
  static func isSlurmMemory(_ text: String) -> Bool {
    var digits = Substring(text)
    if let last = digits.last, "KMGTkmgt".contains(last) { digits = digits.dropLast() }
    return !digits.isEmpty && digits.count <= 12
      && digits.allSatisfy { $0.isASCII && $0.isNumber } && Int(digits).map { $0 > 0 } == true
  }

  func run() throws {
    if resubmit {
      try runResubmit()
      return
    }
    let plan = try makePlan()
    // Plan the units as every task will, before anything is written or submitted: data
    // errors show here, on the login node, and the shares of the work are printed.
    let sweep = try SweepCommand.parse(
      ["--data", plan.data, "--out", plan.shardFolder(1), "--shard", "1/\(plan.tasks)"]
        + ["--resume"] + sweepOptions)
    let units = try UnitPlanner.plan(
      data: try SweepData(dataset: try Dataset.load(plan.data), options: sweep.training.options),
      options: sweep.training.options)
    try OutputFolder.prepare(out, command: "slurm", mode: force ? .force : .fresh)
    try createFolder(plan.logFolder)
    try createFolder(plan.out + "/shards")
    let all = Array(1...plan.tasks)
    try writeScript(
      SlurmScripts.sweepScript(plan, tasks: all, version: KneeForceVersion.current),
      plan, SlurmScripts.sweepScriptName)
    try writeScript(
      SlurmScripts.mergeScript(plan, version: KneeForceVersion.current), plan,
      SlurmScripts.mergeScriptName)
    var recorded = plan
    recorded.submissions = [
      SlurmSubmission(kind: "sweep", script: SlurmScripts.sweepScriptName, tasks: all)
    ]
    try writePlan(recorded)
    printShares(units, tasks: plan.tasks)
    let sweepPath = plan.slurmFolder + "/" + SlurmScripts.sweepScriptName
    let mergePath = plan.slurmFolder + "/" + SlurmScripts.mergeScriptName
    print(
      "Wrote \(sweepPath): job array \(SlurmScripts.arrayRange(all)), task i runs "
        + "`kneeforce sweep --shard i/\(plan.tasks) --resume` into \(plan.out)/shards/i")
    print(
      "Wrote \(mergePath): merges the shards into \(plan.mergedFolder) when every task has ended")
    if submit {
      try submitArray(&recorded, index: 0)
    } else {
      print("Submit with:")
      print("  jobid=$(sbatch --parsable \(SlurmScripts.shellQuote(sweepPath)))")
      print("  sbatch --dependency=afterany:$jobid \(SlurmScripts.shellQuote(mergePath))")
    }
  }

  /// Each task's units and budget (training sequences x max epochs x seeds), as
  /// `ShardAssignment` gives them to `kneeforce sweep --shard i/N`.
  func printShares(_ units: [PlannedUnit], tasks: Int) {
    let shard = ShardAssignment.assign(
      costs: units.map(\.cost), groups: units.map(\.group), count: tasks)
    let total = units.reduce(0) { $0 + $1.cost }
    print(
      "\(units.count) units, budget \(Int(total)) (training sequences x max epochs x seeds), "
        + "over \(tasks) tasks:")
    for task in 1...tasks {
      let mine = units.indices.filter { shard[$0] == task - 1 }.map { units[$0] }
      let budget = mine.reduce(0) { $0 + $1.cost }
      var groups: [String] = []
      var counts: [String: Int] = [:]
      for unit in mine {
        if counts[unit.group] == nil { groups.append(unit.group) }
        counts[unit.group, default: 0] += 1
      }
      let share = total > 0 ? String(format: "%.0f%%", 100 * budget / total) : "-"
      print(
        "  task \(task): \(mine.count) unit\(mine.count == 1 ? "" : "s"), budget \(Int(budget)) (\(share))"
          + (groups.isEmpty
            ? "" : ": " + groups.map { "\($0) x\(counts[$0]!)" }.joined(separator: ", ")))
    }
    let empty = (1...tasks).filter { t in !shard.contains(t - 1) }
    if !empty.isEmpty {
      warn(
        "\(empty.count) of \(tasks) tasks have no units (there are \(units.count)); they end at "
          + "once. Fewer --tasks would use the cluster better.")
    }
  }

  /// The plan of a fresh run: absolute paths, the resources and the sweep options as typed.
  func makePlan() throws -> SlurmPlan {
    let dataPath = absolute(data ?? "")
    switch FileKind(path: dataPath) {
    case .directory: break
    case .missing: throw CommandFailure("--data \(dataPath) does not exist")
    case let kind: throw CommandFailure("--data \(dataPath) \(kind.words), expected a folder")
    }
    guard FileKind(path: dataPath + "/manifest.csv") == .regular else {
      throw CommandFailure(
        "--data \(dataPath) has no manifest.csv: not a dataset folder (docs/DATASET_FORMAT.md)")
    }
    let executablePath = try executable.map(absolute) ?? Self.currentExecutable()
    guard FileManager.default.isExecutableFile(atPath: executablePath) else {
      throw CommandFailure("--executable \(executablePath) is not an executable file")
    }
    let resources = SlurmResources(
      partition: partition, time: time, cpusPerTask: cpusPerTask ?? 1,
      gpusPerTask: gpusPerTask ?? 0, mem: mem)
    return SlurmPlan(
      executable: executablePath, data: dataPath, out: absolute(out), tasks: tasks ?? 1,
      sweepArguments: sweepOptions, resources: resources)
  }

  func runResubmit() throws {
    let outPath = absolute(out)
    let planURL = URL(fileURLWithPath: outPath + "/slurm/" + SlurmScripts.planName)
    guard let bytes = FileManager.default.contents(atPath: planURL.path) else {
      throw CommandFailure(
        "\(planURL.path) does not exist: --resubmit continues a folder written by "
          + "`kneeforce slurm --data ... --out \(out) --tasks N`")
    }
    var plan: SlurmPlan
    do {
      let decoder = JSONDecoder()
      decoder.keyDecodingStrategy = .convertFromSnakeCase
      plan = try decoder.decode(SlurmPlan.self, from: bytes)
    } catch {
      throw CommandFailure("\(planURL.path) is not a slurm.json of kneeforce: \(error)")
    }
    let missing = SlurmScripts.incompleteTasks(plan)
    let mergePath = plan.slurmFolder + "/" + SlurmScripts.mergeScriptName
    try writeScript(
      SlurmScripts.mergeScript(plan, version: KneeForceVersion.current), plan,
      SlurmScripts.mergeScriptName)
    if missing.isEmpty {
      print("Every shard of \(plan.out) is complete (\(plan.tasks) of \(plan.tasks)).")
      if submit {
        let id = try sbatch(SlurmScripts.sbatchArguments(script: mergePath))
        plan.submissions.append(
          SlurmSubmission(
            kind: "merge", script: SlurmScripts.mergeScriptName, tasks: [], mergeJob: id,
            submitted: Self.now()))
        try writePlan(plan)
        print("Submitted the merge: job \(id)")
      } else {
        print("Merge with: sbatch \(SlurmScripts.shellQuote(mergePath))")
      }
      return
    }
    if submit { try refuseWhileQueued(plan, missing: missing) }
    let number = plan.submissions.filter { $0.kind == "resubmit" }.count + 1
    let name = SlurmScripts.resubmitScriptName(number)
    try createFolder(plan.logFolder)
    try writeScript(
      SlurmScripts.sweepScript(plan, tasks: missing, version: KneeForceVersion.current), plan,
      name)
    plan.submissions.append(SlurmSubmission(kind: "resubmit", script: name, tasks: missing))
    try writePlan(plan)
    let path = plan.slurmFolder + "/" + name
    print(
      "\(missing.count) of \(plan.tasks) shards are not complete: tasks "
        + SlurmScripts.arrayRange(missing))
    print("Wrote \(path): job array \(SlurmScripts.arrayRange(missing)) (the missing tasks only)")
    if submit {
      try submitArray(&plan, index: plan.submissions.count - 1)
    } else {
      print("Submit with:")
      print("  jobid=$(sbatch --parsable \(SlurmScripts.shellQuote(path)))")
      print("  sbatch --dependency=afterany:$jobid \(SlurmScripts.shellQuote(mergePath))")
    }
  }

  /// Submits the array of `plan.submissions[index]` and the merge after it, recording both
  /// job ids in slurm.json as soon as each is known.
  func submitArray(_ plan: inout SlurmPlan, index: Int) throws {
    let script = plan.slurmFolder + "/" + plan.submissions[index].script
    let arrayJob = try sbatch(SlurmScripts.sbatchArguments(script: script))
    plan.submissions[index].arrayJob = arrayJob
    plan.submissions[index].submitted = Self.now()
    try writePlan(plan)
    print(
      "Submitted the sweep array: job \(arrayJob) (tasks "
        + "\(SlurmScripts.arrayRange(plan.submissions[index].tasks)))")
    let mergePath = plan.slurmFolder + "/" + SlurmScripts.mergeScriptName
    let mergeJob = try sbatch(SlurmScripts.sbatchArguments(script: mergePath, afterAny: arrayJob))
    plan.submissions[index].mergeJob = mergeJob
    try writePlan(plan)
    print("Submitted the merge: job \(mergeJob) (--dependency=afterany:\(arrayJob))")
    print("Logs: \(plan.logFolder); queue: squeue -j \(arrayJob),\(mergeJob)")
  }

  /// A resubmission while a task of the same shard still runs or waits would put two writers
  /// in one shard folder: refused, naming the tasks.
  func refuseWhileQueued(_ plan: SlurmPlan, missing: [Int]) throws {
    let jobs = Set(plan.submissions.compactMap(\.arrayJob))
    guard !jobs.isEmpty else { return }
    let result = try runTool("squeue", ["--noheader", "--me", "--array", "--format=%F %K %T"])
    guard result.status == 0 else {
      throw CommandFailure(
        "squeue failed (status \(result.status)): \(result.output)"
          + "; cannot check that no task of \(plan.out) still runs")
    }
    var queued: [String] = []
    for line in result.stdout.split(whereSeparator: \.isNewline) {
      let fields = line.split(separator: " ").map(String.init)
      guard fields.count >= 3, jobs.contains(fields[0]), let task = Int(fields[1]),
        missing.contains(task)
      else { continue }
      queued.append("\(fields[0])_\(task) (\(fields[2]))")
    }
    guard queued.isEmpty else {
      throw CommandFailure(
        "tasks of this sweep are still queued or running: \(queued.joined(separator: ", ")); "
          + "wait for them to end (squeue), or cancel them (scancel), then resubmit")
    }
  }

  // MARK: - Helpers

  func writeScript(_ text: String, _ plan: SlurmPlan, _ name: String) throws {
    try AtomicFile.write(text, to: URL(fileURLWithPath: plan.slurmFolder + "/" + name))
  }

  func writePlan(_ plan: SlurmPlan) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    try AtomicFile.write(
      try encoder.encode(plan) + Data("\n".utf8),
      to: URL(fileURLWithPath: plan.slurmFolder + "/" + SlurmScripts.planName))
  }

  func createFolder(_ path: String) throws {
    do {
      try FileManager.default.createDirectory(
        atPath: path, withIntermediateDirectories: true)
    } catch {
      let ns = error as NSError
      let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError
      let code = underlying?.domain == NSPOSIXErrorDomain ? Int32(underlying!.code) : EIO
      throw FileError.cannotCreateFolder(path, errno: code)
    }
  }

  /// `sbatch ARGUMENTS`; the job id it prints.
  func sbatch(_ arguments: [String]) throws -> String {
    let result = try runTool("sbatch", arguments)
    guard result.status == 0, let id = SlurmScripts.parseJobID(result.stdout) else {
      throw CommandFailure(
        "sbatch \(arguments.map(SlurmScripts.shellQuote).joined(separator: " ")) failed "
          + "(status \(result.status)): "
          + result.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return id
  }

  /// Runs a Slurm client found on PATH.
  func runTool(_ tool: String, _ arguments: [String]) throws -> (
    status: Int32, stdout: String, output: String
  ) {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
      .split(separator: ":").map { "\($0)/\(tool)" }
      .first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let path else {
      throw CommandFailure(
        "\(tool) is not on PATH: submit from a Slurm login node, or without --submit and "
          + "submit the scripts by hand")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    let err = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let outText = String(decoding: out, as: UTF8.self)
    return (
      process.terminationStatus, outText, outText + String(decoding: err, as: UTF8.self)
    )
  }

  func absolute(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
  }

  static func currentExecutable() throws -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard realpath("/proc/self/exe", &buffer) != nil else {
      throw CommandFailure("cannot find this executable's path; give --executable")
    }
    return String(cString: buffer)
  }

  static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
}
