import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// How many worker threads the CPU backend starts when a command does not say:
/// `KNEEFORCE_THREADS` when set (the Slurm scripts set it from `SLURM_CPUS_PER_TASK`),
/// otherwise the cores this process may run on (its affinity mask, which Slurm, taskset and
/// cpusets narrow), never more than the machine's. Results do not depend on it: the CPU
/// backend cuts work by shape, not by thread count.
public enum CPUThreads {
  public static var defaultCount: Int {
    defaultCount(environment: ProcessInfo.processInfo.environment)
  }

  static func defaultCount(environment: [String: String]) -> Int {
    if let text = environment["KNEEFORCE_THREADS"], let n = Int(text), n >= 1 {
      return min(n, 4096)
    }
    return max(1, min(affinityCount() ?? Int.max, ProcessInfo.processInfo.activeProcessorCount))
  }

  /// The CPUs in this process's affinity mask (`Cpus_allowed_list` of /proc/self/status),
  /// nil where it cannot be read.
  static func affinityCount() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
      let line = status.split(separator: "\n").first(where: {
        $0.hasPrefix("Cpus_allowed_list:")
      })
    else { return nil }
    return cpuListCount(String(line.dropFirst("Cpus_allowed_list:".count)))
  }

  /// The number of CPUs in a Linux CPU list such as `0-3,8,10-11`; nil when malformed.
  static func cpuListCount(_ list: String) -> Int? {
    var count = 0
    for part in list.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
      let bounds = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
      switch bounds.count {
      case 1:
        guard bounds[0] != nil else { return nil }
        count += 1
      case 2:
        guard let lo = bounds[0], let hi = bounds[1], hi >= lo else { return nil }
        count += hi - lo + 1
      default:
        return nil
      }
    }
    return count > 0 ? count : nil
  }
}
