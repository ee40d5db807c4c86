import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Progress of a sweep: on a terminal one status line rewritten in place (batch, epoch,
/// loss, validation loss, ETA); otherwise plain lines, flushed, at the first, every fifth of
/// the epochs and the last epoch of each fold batch, and one per finished unit.
public final class SweepProgress: @unchecked Sendable {
  let terminal: Bool
  let write: (String) -> Void
  let started = Date()
  private var totalCost = 0.0
  private var doneCost = 0.0
  private var batchCost = 0.0
  private var statusShown = false

  /// `terminal` nil: whether standard output is a terminal (`isatty(1)`).
  public init(terminal: Bool? = nil, write: @escaping (String) -> Void = { print($0) }) {
    self.terminal = terminal ?? (isatty(1) != 0)
    self.write = write
  }

  /// A line of the log (ends a status line first).
  public func log(_ line: String) {
    clearStatus()
    write(line)
  }

  func plan(networkCost: Double) { totalCost = networkCost }

  func beginBatch(cost: Double) { batchCost = cost }

  func endBatch() { doneCost += batchCost }

  func epoch(
    label: String, epoch: Int, of epochs: Int, loss: Double?, validation: Double?,
    activeLanes: Int, lanes: Int
  ) {
    let done = doneCost + batchCost * Double(epoch) / Double(max(epochs, 1))
    let elapsed = Date().timeIntervalSince(started)
    let eta = done > 0 && totalCost > done ? elapsed * (totalCost - done) / done : 0
    var line =
      "\(label): epoch \(epoch)/\(epochs), loss \(loss.map { String(format: "%.4f", $0) } ?? "-")"
    if let validation { line += String(format: ", validation %.4f", validation) }
    line += ", \(activeLanes)/\(lanes) members training, ETA \(SweepProgress.duration(eta))"
    if terminal {
      fputs("\r\u{1B}[K" + line, stdout)
      fflush(stdout)
      statusShown = true
    } else if epoch == 1 || epoch == epochs || epoch % max(1, epochs / 5) == 0 {
      write(line)
    }
  }

  func finished(_ record: UnitRecord) {
    let epochs =
      record.epochsTrained.isEmpty
      ? "" : ", epochs \(record.epochsTrained.map(String.init).joined(separator: "/"))"
    let best =
      record.bestEpochs.isEmpty
      ? "" : ", best \(record.bestEpochs.map(String.init).joined(separator: "/"))"
    let status =
      record.failed
      ? "FAILED at epoch \(record.failure?.epoch ?? 0) (member \(record.failure?.member ?? 0)): "
        + (record.failure?.what ?? "non-finite loss")
      : "done"
    log("unit \(record.unit.folderName): \(status)\(epochs)\(best)")
  }

  private func clearStatus() {
    guard statusShown else { return }
    fputs("\r\u{1B}[K", stdout)
    fflush(stdout)
    statusShown = false
  }

  static func duration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return s >= 60 ? "\(s / 60) min \(s % 60) s" : "\(s) s"
  }
}
