import ArgumentParser
import Foundation
import KneeForceCompute
import KneeForceData
import KneeForceFiles
import KneeForceTraining

// The rules every command follows (README, "Command rules"): typed options with their range
// in --help and checked in `validate()` before any work (usage errors exit 64 with that
// command's usage), errors in data or files exit 1, Ctrl-C exits 130, output folders carry
// the `.kneeforce-out.json` marker and are never overwritten without --force.

extension DeviceSelection: ExpressibleByArgument {
  public static var defaultCompletionKind: CompletionKind {
    .list(["auto", "cpu", "opencl", "opencl:0"])
  }
}

/// A list option such as `--devices cpu,opencl:0` or `--models bilstm_mlp,tcn`, parsed as a
/// whole so that a bad element is a usage error naming it.
struct CommaList<Element: ExpressibleByArgument>: ExpressibleByArgument {
  var values: [Element]

  init(_ values: [Element]) { self.values = values }

  init?(argument: String) {
    var values: [Element] = []
    for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
      guard let value = Element(argument: part.trimmingCharacters(in: .whitespaces)) else {
        return nil
      }
      values.append(value)
    }
    guard !values.isEmpty else { return nil }
    self.values = values
  }

  var defaultValueDescription: String {
    values.map(\.defaultValueDescription).joined(separator: ",")
  }
}

extension ClosedRange where Bound: Comparable {
  /// "1-4096", for help texts.
  var helpText: String { "\(lowerBound)-\(upperBound)" }
}

/// Usage error unless `range` holds `value`.
func checkRange<T: Comparable>(_ value: T, _ range: ClosedRange<T>, _ option: String) throws {
  guard range.contains(value) else {
    throw ValidationError(
      "\(option) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
  }
}

/// The product of `factors` with overflow checks: nil when it does not fit in an Int.
func checkedProduct(_ factors: [Int]) -> Int? {
  var total = 1
  for f in factors {
    let (value, overflow) = total.multipliedReportingOverflow(by: f)
    if overflow { return nil }
    total = value
  }
  return total
}

/// Usage error when `factors` x 4 bytes would overflow or take more than the machine's memory:
/// refused with the computed size before anything is allocated.
func checkMemory(_ what: String, floats factors: [Int]) throws {
  let memory = ProcessInfo.processInfo.physicalMemory
  guard let count = checkedProduct(factors + [MemoryLayout<Float>.size]) else {
    throw ValidationError(
      "\(what): \(factors.map(String.init).joined(separator: " x ")) x 4 bytes overflows a "
        + "64-bit size; make the options smaller")
  }
  guard UInt64(count) <= memory / 2 else {
    throw ValidationError(
      "\(what) would need \(LaneMemory.format(count)) (\(factors.map(String.init).joined(separator: " x ")) "
        + "floats), more than half of this machine's \(LaneMemory.format(Int(memory))); make the "
        + "options smaller")
  }
}

/// Writes a warning to standard error, where it does not mix with results on stdout.
func warn(_ message: String) {
  FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}

/// An error in the data, a file or the computation: printed as `Error: <message>` and exit 1.
struct CommandFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

extension SyntheticCohortOptions.Nuisance: ExpressibleByArgument {}

/// Runs a check from `validate()` so that whatever it throws is a usage error (exit 64, with
/// the command's usage), as every refusal before work starts is.
func asUsageError(_ check: () throws -> Void) throws {
  do {
    try check()
  } catch let error as ValidationError {
    throw error
  } catch {
    throw ValidationError("\(error)")
  }
}
