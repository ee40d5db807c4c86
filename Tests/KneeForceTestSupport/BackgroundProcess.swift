import Foundation
import XCTest

/// A `kneeforce` run in the background, for tests that interrupt it (SIGINT, SIGTERM,
/// SIGKILL) or read its log while it runs. Its standard output and error go to files.
public final class BackgroundKneeforce {
  public let process = Process()
  public let stdoutURL: URL
  public let stderrURL: URL
  private let folder: URL

  public init(_ arguments: [String], environment: [String: String] = [:]) throws {
    folder = try temporaryDirectory("background")
    stdoutURL = folder.appendingPathComponent("stdout")
    stderrURL = folder.appendingPathComponent("stderr")
    try Data().write(to: stdoutURL)
    try Data().write(to: stderrURL)
    process.executableURL = try kneeforceExecutable()
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
    process.standardError = try FileHandle(forWritingTo: stderrURL)
    try process.run()
  }

  deinit {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    try? FileManager.default.removeItem(at: folder)
  }

  public var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
  public var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

  /// Polls `condition` every 50 ms until it holds or `timeout` seconds pass.
  @discardableResult
  public func wait(upTo timeout: Double, until condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if condition() { return true }
      if !process.isRunning { return condition() }
      Thread.sleep(forTimeInterval: 0.05)
    }
    return condition()
  }

  public func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

  /// Waits for the process to end and returns its exit status (or the signal number).
  public func finish(timeout: Double = 60) -> (reason: Process.TerminationReason, status: Int32) {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    return (process.terminationReason, process.terminationStatus)
  }
}
