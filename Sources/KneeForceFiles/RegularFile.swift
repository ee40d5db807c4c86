import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Reads a whole input file with messages in words: "is a folder, expected a file", "is a
/// FIFO (named pipe), expected a regular file" (never opened, so never blocks), "permission
/// denied", instead of Foundation's "The file doesn't exist" for all of them.
public enum RegularFile {
  public static func read(_ path: String) throws -> Data {
    let kind = FileKind(path: path)
    switch kind {
    case .regular: break
    case .missing: throw RegularFileError(path: path, reason: "does not exist")
    case .directory: throw RegularFileError(path: path, reason: "is a folder, expected a file")
    default: throw RegularFileError(path: path, reason: "\(kind.words), expected a regular file")
    }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw RegularFileError(path: path, reason: "cannot be opened: \(FileError.reason(errno))")
    }
    defer { close(fd) }
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw RegularFileError(path: path, reason: "cannot be read: \(FileError.reason(errno))")
      }
      if n == 0 { break }
      data.append(contentsOf: buffer[0..<n])
    }
    return data
  }
}

public struct RegularFileError: Error, CustomStringConvertible, Equatable {
  public let path: String
  public let reason: String
  public var description: String { "\(path) \(reason)" }
}
