import Foundation
import KneeForceData
import KneeForceFiles

/// A 64-bit hash (FNV-1a over 64-bit words, hex) of a dataset as read: every trial's
/// manifest fields, channel names, time stamps and samples, and the events. Two folders with
/// the same numbers have the same fingerprint however their files are formatted; any changed
/// sample changes it. `--resume` and `merge` compare it.
public enum DataFingerprint {
  public static func of(_ dataset: Dataset) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix(_ word: UInt64) { h = (h ^ word) &* 0x0000_0100_0000_01b3 }
    func mix(_ text: String) {
      mix(UInt64(text.utf8.count))
      for byte in text.utf8 { mix(UInt64(byte)) }
    }
    mix(UInt64(dataset.trials.count))
    for trial in dataset.trials {
      let info = trial.info
      for text in [info.trialID, info.subject, info.activity, "\(info.side)"] { mix(text) }
      mix(info.bodyWeightN.bitPattern)
      for key in info.extra.keys.sorted() {
        mix(key)
        mix(info.extra[key]!)
      }
      mix(UInt64(trial.channels.count))
      for name in trial.channels { mix(name) }
      mix(UInt64(trial.time.count))
      for t in trial.time { mix(t.bitPattern) }
      for column in trial.values {
        for v in column { mix(v.bitPattern) }
      }
    }
    for id in dataset.events.keys.sorted() {
      mix(id)
      for e in dataset.events[id]! {
        mix(e.event)
        mix(e.time.bitPattern)
      }
    }
    return String(format: "%016llx", h)
  }

  /// Whether every trial's manifest row says `synthetic = yes` (a `synthetic` column with
  /// other values does not make a dataset synthetic).
  public static func isSynthetic(_ dataset: Dataset) -> Bool {
    !dataset.trials.isEmpty
      && dataset.trials.allSatisfy {
        $0.info.extra["synthetic"]?.trimmingCharacters(in: .whitespaces).lowercased() == "yes"
      }
  }
}

/// The package version and, where the binary runs inside a git checkout, its commit.
public enum BuildInfo {
  public static var version: String { KneeForceVersion.current }

  /// The commit of the checkout holding the executable or the working folder, read from
  /// `.git` without running git; "unknown" elsewhere.
  public static var commit: String {
    var starts = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
    if let exe = CommandLine.arguments.first {
      starts.insert(
        URL(fileURLWithPath: exe).standardizedFileURL.deletingLastPathComponent(), at: 0)
    }
    for start in starts {
      var folder = start
      for _ in 0..<12 {
        if let commit = readHead(folder.appendingPathComponent(".git")) { return commit }
        let parent = folder.deletingLastPathComponent()
        if parent.path == folder.path { break }
        folder = parent
      }
    }
    return "unknown"
  }

  static func readHead(_ git: URL) -> String? {
    var gitDir = git
    // A worktree's .git is a file: "gitdir: <path>".
    if let text = try? String(contentsOf: git, encoding: .utf8), text.hasPrefix("gitdir:") {
      gitDir = URL(
        fileURLWithPath: text.dropFirst(7).trimmingCharacters(in: .whitespacesAndNewlines),
        relativeTo: git.deletingLastPathComponent())
    }
    guard let head = try? String(contentsOf: gitDir.appendingPathComponent("HEAD"), encoding: .utf8)
    else { return nil }
    let line = head.trimmingCharacters(in: .whitespacesAndNewlines)
    guard line.hasPrefix("ref: ") else { return line.isEmpty ? nil : line }
    let ref = String(line.dropFirst(5))
    var dirs = [gitDir]
    if let common = try? String(
      contentsOf: gitDir.appendingPathComponent("commondir"), encoding: .utf8)
    {
      dirs.append(
        URL(
          fileURLWithPath: common.trimmingCharacters(in: .whitespacesAndNewlines),
          relativeTo: gitDir))
    }
    for dir in dirs {
      if let value = try? String(contentsOf: dir.appendingPathComponent(ref), encoding: .utf8) {
        return value.trimmingCharacters(in: .whitespacesAndNewlines)
      }
      if let packed = try? String(
        contentsOf: dir.appendingPathComponent("packed-refs"), encoding: .utf8),
        let row = packed.split(separator: "\n").first(where: { $0.hasSuffix(" " + ref) })
      {
        return String(row.prefix { $0 != " " })
      }
    }
    return nil
  }
}
