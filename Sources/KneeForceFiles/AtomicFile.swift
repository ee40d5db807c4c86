import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The project's one way to write a file that a user keeps: results, checkpoints, CSVs,
/// manifests. A reader (or a resumed run after SIGKILL or power loss) sees the old file or
/// the new one, never a mix: the bytes go to a hidden sibling, are fsynced, renamed over the
/// target, and the folder is fsynced so that the rename itself survives a crash.
public enum AtomicFile {
  /// Hidden siblings carry this marker so that a later run can recognise (and remove) the
  /// leftovers of a process that was killed with SIGKILL.
  public static let temporaryMarker = ".kneeforce-tmp."

  public static func write(_ text: String, to url: URL, durable: Bool = true) throws {
    try write(Array(text.utf8), to: url, durable: durable)
  }

  public static func write(_ data: Data, to url: URL, durable: Bool = true) throws {
    try write([UInt8](data), to: url, durable: durable)
  }

  /// `durable: false` skips the fsyncs (the rename stays atomic): for the many small trial
  /// files of a dataset that is itself published by one rename of its folder.
  public static func write(_ bytes: [UInt8], to url: URL, durable: Bool = true) throws {
    let folder = url.deletingLastPathComponent()
    let temp = folder.appendingPathComponent(
      "\(temporaryMarker)\(getpid()).\(UUID().uuidString.prefix(8)).\(url.lastPathComponent)")
    let token = Interruption.register(temp)
    defer { Interruption.unregister(token) }
    let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw FileError.cannotWrite(url.path, errno: errno) }
    var failure: Int32 = 0
    bytes.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          failure = errno
          return
        }
        offset += n
      }
    }
    if failure == 0, durable, fsync(fd) != 0 { failure = errno }
    if close(fd) != 0, failure == 0 { failure = errno }
    if failure == 0, rename(temp.path, url.path) != 0 { failure = errno }
    if failure != 0 {
      unlink(temp.path)
      throw FileError.cannotWrite(url.path, errno: failure)
    }
    if durable { syncFolder(folder) }
  }

  /// Makes a rename or a new entry in `folder` durable. Failure only weakens crash safety,
  /// never correctness, so it is not an error.
  public static func syncFolder(_ folder: URL) {
    let fd = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    _ = fsync(fd)
    close(fd)
  }

  /// Removes hidden temporaries in `folder` left by processes that no longer run (SIGKILL,
  /// power loss). Those of live processes are kept: they may be writing right now.
  public static func removeStaleTemporaries(in folder: URL) {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    for name in names where name.contains(temporaryMarker) {
      guard let pid = processID(inTemporaryName: name), !isAlive(pid) else { continue }
      try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
    }
  }

  static func processID(inTemporaryName name: String) -> Int32? {
    guard let range = name.range(of: temporaryMarker) else { return nil }
    let rest = name[range.upperBound...]
    return Int32(rest.prefix { $0.isNumber })
  }

  static func isAlive(_ pid: Int32) -> Bool {
    pid == getpid() || kill(pid, 0) == 0 || errno == EPERM
  }
}
