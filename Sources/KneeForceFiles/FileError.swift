import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// File-system failures in words, with the operating system's reason: "permission denied",
/// "is a directory", "no space left on device", never a raw NSCocoaErrorDomain code.
public enum FileError: Error, CustomStringConvertible, Equatable {
  case cannotWrite(String, errno: Int32)
  case cannotRead(String, errno: Int32)
  case cannotCreateFolder(String, errno: Int32)
  case notAFolder(String)
  case emptyPath(option: String)

  public var description: String {
    switch self {
    case .cannotWrite(let path, let code):
      return "cannot write \(path): \(Self.reason(code))"
    case .cannotRead(let path, let code):
      return "cannot read \(path): \(Self.reason(code))"
    case .cannotCreateFolder(let path, let code):
      return "cannot create the folder \(path): \(Self.reason(code))"
    case .notAFolder(let path):
      return "\(path) exists and is not a folder"
    case .emptyPath(let option):
      return "\(option) is empty: give a folder name"
    }
  }

  public static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// What a path is, for messages that say "is a FIFO" instead of "does not exist".
public enum FileKind: Equatable, Sendable {
  case missing
  case regular
  case directory
  case fifo
  case device
  case socket
  case other
  /// It exists but `stat` failed for another reason (permissions of a parent, a loop).
  case inaccessible(errno: Int32)

  public init(path: String) {
    var info = stat()
    guard stat(path, &info) == 0 else {
      self = errno == ENOENT || errno == ENOTDIR ? .missing : .inaccessible(errno: errno)
      return
    }
    switch info.st_mode & S_IFMT {
    case S_IFREG: self = .regular
    case S_IFDIR: self = .directory
    case S_IFIFO: self = .fifo
    case S_IFCHR, S_IFBLK: self = .device
    case S_IFSOCK: self = .socket
    default: self = .other
    }
  }

  /// "is a directory, expected a file" style words, for messages.
  public var words: String {
    switch self {
    case .missing: return "does not exist"
    case .regular: return "is a file"
    case .directory: return "is a folder"
    case .fifo: return "is a FIFO (named pipe)"
    case .device: return "is a device"
    case .socket: return "is a socket"
    case .other: return "is not a regular file"
    case .inaccessible(let code): return "cannot be examined: \(FileError.reason(code))"
    }
  }
}

/// Two paths name the same file when they resolve to the same device and inode (hard links,
/// symbolic links, `./a` and `a`): an output must never be one of the command's inputs.
public enum FileIdentity {
  public static func same(_ a: String, _ b: String) -> Bool {
    var sa = stat()
    var sb = stat()
    if stat(a, &sa) == 0, stat(b, &sb) == 0 {
      return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
    let ra = URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath().path
    let rb = URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath().path
    return ra == rb
  }

  /// Throws when `output` is the same file as any of `inputs` (each named by its option).
  public static func refuseOverwriting(
    output: (option: String, path: String), inputs: [(option: String, path: String)]
  ) throws {
    for input in inputs where same(output.path, input.path) {
      throw OutputFolderError(
        "\(output.option) \(output.path) is the same file as \(input.option) \(input.path); "
          + "write the output somewhere else")
    }
  }
}
