import Dispatch
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Ctrl-C or a scheduler's SIGTERM must not leave hidden temporary files or half-built
/// folders behind. Writers register what they are building; on SIGINT/SIGTERM the handler
/// removes all of it and exits with status 130. The handler runs on a dispatch queue, not in
/// signal context, so it may use the file manager. SIGKILL cannot be caught: those leftovers
/// carry `AtomicFile.temporaryMarker` and the next run removes them.
public enum Interruption {
  public struct Token: Hashable, Sendable { let id: Int }

  public static let exitStatus: Int32 = 130

  private static let lock = NSLock()
  nonisolated(unsafe) private static var paths: [Int: URL] = [:]
  nonisolated(unsafe) private static var next = 0
  nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
  nonisolated(unsafe) private static var onInterrupt: [() -> Void] = []

  /// Installs the handlers once per process (the CLI's entry point calls it).
  public static func install() {
    lock.lock()
    defer { lock.unlock() }
    guard sources.isEmpty else { return }
    for number in [SIGINT, SIGTERM] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { interrupted(signal: number) }
      source.resume()
      sources.append(source)
    }
  }

  public static func register(_ url: URL) -> Token {
    lock.lock()
    defer { lock.unlock() }
    next += 1
    paths[next] = url
    return Token(id: next)
  }

  public static func unregister(_ token: Token) {
    lock.lock()
    defer { lock.unlock() }
    paths[token.id] = nil
  }

  /// Work to do before exiting on a signal (e.g. a last progress line).
  public static func onInterrupt(_ action: @escaping () -> Void) {
    lock.lock()
    defer { lock.unlock() }
    onInterrupt.append(action)
  }

  /// Paths registered right now (for tests).
  public static var registered: [URL] {
    lock.lock()
    defer { lock.unlock() }
    return Array(paths.values)
  }

  private static func interrupted(signal number: Int32) {
    // Holding the lock until exit keeps any writer from registering (and so creating) more.
    lock.lock()
    for action in onInterrupt { action() }
    for url in paths.values { try? FileManager.default.removeItem(at: url) }
    let name = number == SIGINT ? "SIGINT" : "SIGTERM"
    let message = "\ninterrupted (\(name)): temporary files removed; finished results are kept\n"
    FileHandle.standardError.write(Data(message.utf8))
    fflush(stdout)
    _exit(exitStatus)
  }
}
