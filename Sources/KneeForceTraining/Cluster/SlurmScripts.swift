import Foundation

/// What `kneeforce slurm` records in `OUT/slurm/slurm.json`: enough to write the scripts again
/// and to resubmit the missing tasks with nothing but `--out`.
public struct SlurmPlan: Codable, Equatable, Sendable {
  public var format = 1
  /// The `kneeforce` executable the jobs run (absolute; on a filesystem every node sees).
  public var executable: String
  /// The dataset folder (absolute).
  public var data: String
  /// The sweep's output folder (absolute): scripts in `slurm/`, shards in `shards/<i>`, the
  /// merged sweep in `merged/`.
  public var out: String
  /// Tasks of the job array, that is shards of the sweep (`--shard i/tasks`).
  public var tasks: Int
  /// The sweep options, as typed, passed to every `kneeforce sweep` unchanged.
  public var sweepArguments: [String]
  public var resources: SlurmResources
  /// Every `sbatch` of the folder, in order.
  public var submissions: [SlurmSubmission] = []

  public init(
    executable: String, data: String, out: String, tasks: Int, sweepArguments: [String],
    resources: SlurmResources
  ) {
    self.executable = executable
    self.data = data
    self.out = out
    self.tasks = tasks
    self.sweepArguments = sweepArguments
    self.resources = resources
  }

  public var slurmFolder: String { out + "/slurm" }
  public var logFolder: String { slurmFolder + "/logs" }
  /// Where the merge job writes the merged sweep (docs/SWEEP_OUTPUTS.md).
  public var mergedFolder: String { out + "/merged" }
  /// The folder of shard `task` (1-based).
  public func shardFolder(_ task: Int) -> String { out + "/shards/\(task)" }
}

/// The resources of each array task (and of the merge job, which takes the same partition and
/// time limit but one CPU and no GPU).
public struct SlurmResources: Codable, Equatable, Sendable {
  public var partition: String?
  /// `HH:MM:SS` or `D-HH:MM:SS`; nil: the partition's default.
  public var time: String?
  public var cpusPerTask = 1
  public var gpusPerTask = 0
  /// Memory per node as Slurm writes it (`4G`, `800M`); nil: the partition's default.
  public var mem: String?

  public init(
    partition: String? = nil, time: String? = nil, cpusPerTask: Int = 1, gpusPerTask: Int = 0,
    mem: String? = nil
  ) {
    self.partition = partition
    self.time = time
    self.cpusPerTask = cpusPerTask
    self.gpusPerTask = gpusPerTask
    self.mem = mem
  }
}

/// One `kneeforce slurm` submission: an array of sweep tasks and the merge that follows it.
public struct SlurmSubmission: Codable, Equatable, Sendable {
  /// `sweep` (the first array) or `resubmit` (an array of the missing tasks only).
  public var kind: String
  /// The array's script, relative to `OUT/slurm`.
  public var script: String
  public var tasks: [Int]
  public var arrayJob: String?
  public var mergeJob: String?
  public var submitted: String?

  public init(
    kind: String, script: String, tasks: [Int], arrayJob: String? = nil,
    mergeJob: String? = nil, submitted: String? = nil
  ) {
    self.kind = kind
    self.script = script
    self.tasks = tasks
    self.arrayJob = arrayJob
    self.mergeJob = mergeJob
    self.submitted = submitted
  }
}

/// The job scripts of `kneeforce slurm`: pure functions of a `SlurmPlan`, so that tests can
/// read every line. The scripts are plain bash with `#SBATCH` directives, commented, and
/// meant to be edited.
public enum SlurmScripts {
  public static let sweepScriptName = "sweep.sbatch"
  public static let mergeScriptName = "merge.sbatch"
  public static let planName = "slurm.json"

  /// The script of the `n`-th resubmission (1-based).
  public static func resubmitScriptName(_ n: Int) -> String { "resubmit-\(n).sbatch" }

  // MARK: - Quoting

  /// `text` as one bash word: unchanged when it holds only characters bash never
  /// interprets, otherwise in single quotes (a single quote written as `'\''`).
  public static func shellQuote(_ text: String) -> String {
    let plain = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=,+-@%")
    if !text.isEmpty, text.allSatisfy({ plain.contains($0) }) { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// `text` as one argument of an `#SBATCH` line. sbatch splits those lines itself (not
  /// bash): double quotes group, a backslash escapes the next character, and an unquoted `#`
  /// starts a comment. So the value goes in double quotes with `\` and `"` escaped.
  public static func directiveQuote(_ text: String) -> String {
    let plain = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=,+-@%")
    if !text.isEmpty, text.allSatisfy({ plain.contains($0) }) { return text }
    var out = "\""
    for c in text {
      if c == "\\" || c == "\"" { out.append("\\") }
      out.append(c)
    }
    return out + "\""
  }

  /// A path in an sbatch `--output` pattern: `%` is Slurm's pattern character (`%A`, `%a`,
  /// `%j`), so a literal one is written `%%`.
  public static func filenamePatternEscape(_ path: String) -> String {
    path.replacingOccurrences(of: "%", with: "%%")
  }

  // MARK: - Array ranges

  /// Slurm's `--array` value for `tasks`: sorted, runs of consecutive ids as `a-b`
  /// (`[1, 2, 3, 5]` -> `1-3,5`).
  public static func arrayRange(_ tasks: [Int]) -> String {
    let sorted = Array(Set(tasks)).sorted()
    var parts: [String] = []
    var i = 0
    while i < sorted.count {
      var j = i
      while j + 1 < sorted.count, sorted[j + 1] == sorted[j] + 1 { j += 1 }
      parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
      i = j + 1
    }
    return parts.joined(separator: ",")
  }

  // MARK: - Scripts

  /// The command every task runs, as bash words; `$kneeforce`, `$task`, `$tasks` and `$out`
  /// are the script's variables.
  public static func sweepCommand(_ plan: SlurmPlan) -> String {
    var words = [
      "\"$kneeforce\"", "sweep", "--data", shellQuote(plan.data), "--out",
      "\"$out/shards/$task\"", "--shard", "\"$task/$tasks\"", "--resume",
    ]
    words += plan.sweepArguments.map(shellQuote)
    return words.joined(separator: " ")
  }

  static func header(_ plan: SlurmPlan, version: String) -> [String] {
    [
      "#!/bin/bash",
      "# Written by `kneeforce slurm` (KneeForce \(version)); plain bash, edit as you need.",
    ]
  }

  static func resourceDirectives(_ resources: SlurmResources, merge: Bool) -> [String] {
    var lines: [String] = []
    if let partition = resources.partition {
      lines.append("#SBATCH --partition=\(directiveQuote(partition))")
    }
    if let time = resources.time { lines.append("#SBATCH --time=\(directiveQuote(time))") }
    lines.append("#SBATCH --cpus-per-task=\(merge ? 1 : resources.cpusPerTask)")
    if !merge, resources.gpusPerTask > 0 {
      lines.append("#SBATCH --gpus-per-task=\(resources.gpusPerTask)")
    }
    if let mem = resources.mem { lines.append("#SBATCH --mem=\(directiveQuote(mem))") }
    return lines
  }

  /// The job array: task `i` runs shard `i` of `plan.tasks` into `OUT/shards/i`, resuming
  /// whatever an earlier run of the same task journalled. `tasks` are the array ids (every
  /// task, or the missing ones of a resubmission).
  public static func sweepScript(
    _ plan: SlurmPlan, tasks: [Int], version: String
  ) -> String {
    var lines = header(plan, version: version)
    lines += [
      "#",
      "# The LOSO sweep as a Slurm job array. Array task i runs shard i of \(plan.tasks)",
      "# (`kneeforce sweep --shard i/\(plan.tasks) --resume`) into OUT/shards/i: a task that is",
      "# requeued, preempted or resubmitted continues with the units it has not journalled.",
      "# The shards are balanced by training sequences x maximum epochs (README, \"Running on",
      "# a cluster\"); merge.sbatch joins them into OUT/merged once every task has ended.",
      "#",
      "# Submit by hand: jobid=$(sbatch --parsable \(shellQuote(plan.slurmFolder + "/" + sweepScriptName)))",
      "#SBATCH --job-name=kneeforce-sweep",
      "#SBATCH --array=\(arrayRange(tasks))",
      "#SBATCH --output="
        + directiveQuote(filenamePatternEscape(plan.logFolder) + "/sweep-%A_%a.out"),
      "#SBATCH --open-mode=append",
      "#SBATCH --requeue",
    ]
    lines += resourceDirectives(plan.resources, merge: false)
    lines += [
      "set -euo pipefail",
      "",
      "kneeforce=\(shellQuote(plan.executable))",
      "out=\(shellQuote(plan.out))",
      "tasks=\(plan.tasks)",
      "task=\"${SLURM_ARRAY_TASK_ID:?run this script with sbatch as a job array}\"",
      "",
      "# Threads follow --cpus-per-task: the CPU backend starts KNEEFORCE_THREADS workers.",
      "threads=\"${SLURM_CPUS_PER_TASK:-1}\"",
      "export KNEEFORCE_THREADS=\"$threads\" OMP_NUM_THREADS=\"$threads\" OPENBLAS_NUM_THREADS=\"$threads\"",
      "# OpenCL program binaries are cached per node: a local folder unless you set one.",
      "export KNEEFORCE_CACHE_DIR=\"${KNEEFORCE_CACHE_DIR:-${TMPDIR:-/tmp}/kneeforce-cache-$(id -u)}\"",
      "",
      "echo \"kneeforce sweep shard $task/$tasks on $(hostname) (job ${SLURM_JOB_ID:-?}), $threads threads\"",
      "exec " + sweepCommand(plan),
      "",
    ]
    return lines.joined(separator: "\n")
  }

  /// The merge job, submitted with `--dependency=afterany:<array>` so that it runs even when
  /// a task failed. It checks every shard's `sweep.json` for `"complete": true`, then runs
  /// `kneeforce merge` of the shards into `OUT/merged` (merge refuses incomplete shards in
  /// its own words); when a shard is incomplete it also names the tasks, prints the one
  /// command that completes the sweep and exits 1. After a merge it writes the report when
  /// this kneeforce has `report`.
  public static func mergeScript(_ plan: SlurmPlan, version: String) -> String {
    var lines = header(plan, version: version)
    lines += [
      "#",
      "# Runs after every task of the sweep array has ended (--dependency=afterany), also when",
      "# a task failed or was cancelled. Merges OUT/shards/1..\(plan.tasks) into OUT/merged",
      "# (results.csv, summary.md, units/, sweep.json: docs/SWEEP_OUTPUTS.md), then writes",
      "# the report. If a shard is not complete, `kneeforce merge` refuses, this script names",
      "# the tasks, prints the command that completes the sweep and exits 1.",
      "#",
      "# Submit by hand: sbatch --dependency=afterany:$jobid "
        + shellQuote(plan.slurmFolder + "/" + mergeScriptName),
      "#SBATCH --job-name=kneeforce-merge",
      "#SBATCH --output="
        + directiveQuote(filenamePatternEscape(plan.logFolder) + "/merge-%j.out"),
    ]
    lines += resourceDirectives(plan.resources, merge: true)
    lines += [
      "set -uo pipefail",
      "",
      "kneeforce=\(shellQuote(plan.executable))",
      "out=\(shellQuote(plan.out))",
      "merged=\"$out/merged\"",
      "tasks=\(plan.tasks)",
      "",
      "# A shard is complete when its sweep.json says \"complete\": true.",
      "shards=()",
      "missing=()",
      "for ((i = 1; i <= tasks; i++)); do",
      "  shards+=(\"$out/shards/$i\")",
      "  if ! grep -Eq '\"complete\"[[:space:]]*:[[:space:]]*true' \"$out/shards/$i/sweep.json\" 2>/dev/null; then",
      "    missing+=(\"$i\")",
      "  fi",
      "done",
      "",
      "export KNEEFORCE_CACHE_DIR=\"${KNEEFORCE_CACHE_DIR:-${TMPDIR:-/tmp}/kneeforce-cache-$(id -u)}\"",
      "# --force replaces only an earlier merge in OUT/merged, and only once the new one is whole.",
      "\"$kneeforce\" merge --force --out \"$merged\" \"${shards[@]}\"",
      "status=$?",
      "if [ \"${#missing[@]}\" -gt 0 ]; then",
      "  echo \"error: ${#missing[@]} of $tasks shards are not complete (no \\\"complete\\\": true in sweep.json): tasks ${missing[*]}\" >&2",
      "  for i in \"${missing[@]}\"; do echo \"  $out/shards/$i\" >&2; done",
      "  echo 'Complete the sweep with:' >&2",
      "  echo \(shellQuote("  " + resubmitHint(plan.out))) >&2",
      "  exit 1",
      "fi",
      "[ \"$status\" -eq 0 ] || exit \"$status\"",
      "",
      "# The HTML report, when this kneeforce has the `report` command (`help report` exits 0",
      "# either way, so its usage line tells).",
      "if \"$kneeforce\" help report 2>&1 | grep -q '^USAGE: kneeforce report'; then",
      "  \"$kneeforce\" report \"$merged\" || exit $?",
      "else",
      "  echo \"kneeforce report is not in this version; skipped (results are in $merged)\"",
      "fi",
      "",
    ]
    return lines.joined(separator: "\n")
  }

  /// The one command that completes a sweep whose shards are not all complete.
  public static func resubmitHint(_ out: String) -> String {
    "kneeforce slurm --out \(shellQuote(out)) --resubmit --submit"
  }

  // MARK: - sbatch

  /// The arguments of `sbatch` for a script, after `dependency` (a job id) when given.
  public static func sbatchArguments(script: String, afterAny dependency: String? = nil)
    -> [String]
  {
    var arguments = ["--parsable"]
    if let dependency { arguments.append("--dependency=afterany:\(dependency)") }
    return arguments + [script]
  }

  /// The job id in `sbatch --parsable` output (`1234` or `1234;cluster`), nil when there is
  /// none.
  public static func parseJobID(_ output: String) -> String? {
    for line in output.split(whereSeparator: \.isNewline).reversed() {
      let id = line.split(separator: ";").first.map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      if let id, !id.isEmpty, id.allSatisfy(\.isNumber) { return id }
    }
    return nil
  }

  // MARK: - Shards

  /// The tasks (1-based) whose shard folder has no `sweep.json` with `"complete": true`:
  /// what a resubmission runs again.
  public static func incompleteTasks(_ plan: SlurmPlan) -> [Int] {
    (1...max(1, plan.tasks)).filter { !shardIsComplete(plan.shardFolder($0)) }
  }

  /// Whether `folder/sweep.json` says the shard is complete.
  public static func shardIsComplete(_ folder: String) -> Bool {
    guard let data = FileManager.default.contents(atPath: folder + "/sweep.json"),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return false }
    return (object["complete"] as? Bool) == true
  }
}
