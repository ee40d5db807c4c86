import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The one way input files are read: anything but a regular file is refused by name before it
/// is opened (so a FIFO never blocks), and failures say why in words — "is a folder, expected
/// a file", "cannot be read: Permission denied" — instead of Foundation's "The file doesn't
/// exist" for all of them.
public enum RegularFile {
  /// Why a path could not be read.
  public enum Problem: Error, Equatable, Sendable {
    /// Missing, or not a regular file (a folder, FIFO, device, socket).
    case kind(FileKind)
    /// `open` or `read` failed with this errno.
    case system(errno: Int32)

    /// The words that follow the file's name.
    public var predicate: String {
      switch self {
      case .kind(.missing): return "does not exist"
      case .kind(.directory): return "is a folder, expected a file"
      case .kind(.inaccessible(let code)): return "cannot be read: \(FileError.reason(code))"
      case .kind(let kind): return "\(kind.words), expected a regular file"
      case .system(let code): return "cannot be read: \(FileError.reason(code))"
      }
    }
  }

  /// Bytes read per `read(2)` call, and so the most a streaming reader holds of a file.
  public static let chunkSize = 1 << 20

  /// Streams the file to `body` in chunks of at most `chunkSize` bytes (every chunk but the
  /// last is full; a small file comes in one chunk). `body` returns false to stop early.
  /// Returns nil when the file was read (or `body` stopped), else the problem.
  public static func stream(
    _ path: String, chunkSize: Int = chunkSize, _ body: (UnsafeBufferPointer<UInt8>) -> Bool
  ) -> Problem? {
    let kind = FileKind(path: path)
    guard kind == .regular else { return .kind(kind) }
    // O_NONBLOCK: should the path be swapped for a FIFO after the check, open does not wait
    // for a writer; fstat below then refuses it.
    let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard descriptor >= 0 else { return .system(errno: errno) }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { return .system(errno: errno) }
    guard info.st_mode & S_IFMT == S_IFREG else { return .kind(.other) }
    // One byte more than the file's size sees its end in the first chunk.
    let size = max(1, min(chunkSize, max(Int(info.st_size) + 1, 1 << 16)))
    let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: size)
    defer { buffer.deallocate() }
    while true {
      var filled = 0
      while filled < size {
        let count = Glibc.read(descriptor, buffer.baseAddress! + filled, size - filled)
        if count < 0 {
          if errno == EINTR || errno == EAGAIN { continue }
          return .system(errno: errno)
        }
        if count == 0 { break }
        filled += count
      }
      if filled > 0, !body(UnsafeBufferPointer(rebasing: buffer[..<filled])) { return nil }
      if filled < size { return nil }
    }
  }

  /// The whole file.
  public static func read(_ path: String) throws -> Data {
    var data = Data()
    if let problem = stream(
      path,
      {
        data.append($0); return true
      })
    {
      throw RegularFileError(path: path, reason: problem.predicate)
    }
    return data
  }
}

public struct RegularFileError: Error, CustomStringConvertible, Equatable {
  public let path: String
  public let reason: String
  public var description: String { "\(path) \(reason)" }
}
