import Foundation

#if canImport(Glibc)
  import Glibc
#endif

public struct OutputFolderError: Error, CustomStringConvertible, Equatable {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Every folder a command writes carries `.kneeforce-out.json`: which command wrote it, when,
/// and with which version. The marker is what makes `--force`, `--resume`, `report` and
/// `merge` safe: they only ever replace or extend a folder that KneeForce itself made, never
/// a user's folder that happens to have the same name.
public struct OutputMarker: Codable, Equatable, Sendable {
  public var tool = "kneeforce"
  public var command: String
  public var version: String
  public var created: String

  public init(command: String, version: String = KneeForceVersion.current, created: Date = Date()) {
    self.command = command
    self.version = version
    self.created = ISO8601DateFormatter().string(from: created)
  }
}

public enum KneeForceVersion {
  /// The package version; `sweep.json` and checkpoints also record the commit.
  public static let current = "0.2.0"
}

public enum OutputFolder {
  public static let markerName = ".kneeforce-out.json"

  public enum Mode: Sendable, Equatable {
    /// Only an absent or empty folder is written.
    case fresh
    /// A marked folder's contents are removed first; an unmarked non-empty folder is still
    /// refused.
    case force
    /// A marked folder is kept as it is (the command continues its work); absent or empty
    /// starts fresh.
    case resume
  }

  public enum State: Equatable, Sendable {
    case absent
    case empty
    case marked(OutputMarker)
    case unmarked
    case notAFolder
  }

  public static func state(of url: URL) -> State {
    switch FileKind(path: url.path) {
    case .missing: return .absent
    case .directory: break
    default: return .notAFolder
    }
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [])
      .filter { !$0.hasPrefix(AtomicFile.temporaryMarker) }
    if names.isEmpty { return .empty }
    if let marker = readMarker(url) { return .marked(marker) }
    return .unmarked
  }

  public static func readMarker(_ url: URL) -> OutputMarker? {
    guard
      let data = FileManager.default.contents(atPath: url.appendingPathComponent(markerName).path)
    else { return nil }
    return try? JSONDecoder().decode(OutputMarker.self, from: data)
  }

  /// Throws the refusal that `prepare` or `writeWhole` would throw, changing nothing: commands
  /// call it from `validate()`, so a refused folder is a usage error reported before any work.
  public static func check(
    _ path: String, command: String, mode: Mode, option: String = "--out",
    allowsResume: Bool = false
  ) throws {
    guard !path.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw FileError.emptyPath(option: option)
    }
    switch state(of: URL(fileURLWithPath: path)) {
    case .notAFolder:
      throw OutputFolderError("\(option) \(path) \(FileKind(path: path).words), expected a folder")
    case .unmarked:
      throw OutputFolderError(
        "\(option) \(path) is not empty and was not written by kneeforce (no \(markerName)); "
          + "nothing was changed. Choose another folder, or empty this one yourself "
          + "(--force only replaces folders that kneeforce wrote)")
    case .marked(let marker) where mode == .fresh:
      throw OutputFolderError(
        "\(option) \(path) holds the output of `kneeforce \(marker.command)` written "
          + "\(marker.created); nothing was changed. Choose another folder, add --force to "
          + "replace its contents" + (allowsResume ? ", or --resume to continue it" : ""))
    default:
      break
    }
  }

  /// Makes `path` ready for `command` under `mode` and returns its URL. `option` names the
  /// argument in messages ("--out").
  ///
  /// Returns whether existing contents were kept (resume of a marked folder).
  @discardableResult
  public static func prepare(
    _ path: String, command: String, mode: Mode, option: String = "--out"
  ) throws -> (url: URL, resumed: Bool) {
    try check(path, command: command, mode: mode, option: option)
    let url = URL(fileURLWithPath: path)
    switch state(of: url) {
    case .notAFolder, .unmarked:
      throw OutputFolderError("\(option) \(path) changed while it was being prepared")
    case .marked:
      switch mode {
      case .fresh:
        throw OutputFolderError("\(option) \(path) changed while it was being prepared")
      case .resume:
        if let marker = readMarker(url), marker.command != command {
          throw OutputFolderError(
            "\(option) \(path) holds the output of `kneeforce \(marker.command)`, not of "
              + "`kneeforce \(command)`; it cannot be resumed")
        }
        AtomicFile.removeStaleTemporaries(in: url)
        return (url, true)
      case .force:
        try removeContents(of: url)
      }
    case .absent:
      do {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
      } catch {
        throw FileError.cannotCreateFolder(path, errno: errnoOf(error))
      }
    case .empty:
      AtomicFile.removeStaleTemporaries(in: url)
    }
    try writeMarker(url, command: command)
    return (url, false)
  }

  public static func writeMarker(_ url: URL, command: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(
      try encoder.encode(OutputMarker(command: command)),
      to: url.appendingPathComponent(markerName))
  }

  /// Builds a whole folder elsewhere and publishes it with one rename, so that a reader (and
  /// `kneeforce check`) sees either the old folder or the complete new one, never a
  /// manifest listing trials that are not there yet. `build` writes into the folder it is
  /// given; the marker is added before publishing.
  public static func writeWhole(
    _ path: String, command: String, mode: Mode, option: String = "--out",
    build: (URL) throws -> Void
  ) throws -> URL {
    try check(path, command: command, mode: mode == .resume ? .fresh : mode, option: option)
    let target = URL(fileURLWithPath: path).standardizedFileURL
    let existing = state(of: target)
    let parent = target.deletingLastPathComponent()
    do {
      try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
    } catch {
      throw FileError.cannotCreateFolder(parent.path, errno: errnoOf(error))
    }
    AtomicFile.removeStaleTemporaries(in: parent)
    let stem = "\(AtomicFile.temporaryMarker)\(getpid()).\(UUID().uuidString.prefix(8))"
    let staging = parent.appendingPathComponent("\(stem).\(target.lastPathComponent)")
    let token = Interruption.register(staging)
    defer { Interruption.unregister(token) }
    do {
      try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
      try build(staging)
      try writeMarker(staging, command: command)
      holdForTests()
    } catch {
      try? FileManager.default.removeItem(at: staging)
      throw error
    }
    switch existing {
    case .absent:
      break
    default:
      // An empty or marked (with --force) folder: move it aside, publish, then delete it.
      let old = parent.appendingPathComponent("\(stem).old.\(target.lastPathComponent)")
      let oldToken = Interruption.register(old)
      defer { Interruption.unregister(oldToken) }
      guard rename(target.path, old.path) == 0 else {
        let code = errno
        try? FileManager.default.removeItem(at: staging)
        throw FileError.cannotWrite(target.path, errno: code)
      }
      guard rename(staging.path, target.path) == 0 else {
        let code = errno
        _ = rename(old.path, target.path)
        try? FileManager.default.removeItem(at: staging)
        throw FileError.cannotWrite(target.path, errno: code)
      }
      try? FileManager.default.removeItem(at: old)
      AtomicFile.syncFolder(parent)
      return target
    }
    guard rename(staging.path, target.path) == 0 else {
      let code = errno
      try? FileManager.default.removeItem(at: staging)
      throw FileError.cannotWrite(target.path, errno: code)
    }
    AtomicFile.syncFolder(parent)
    return target
  }

  /// Tests of interruption (SIGINT, SIGKILL) need the process to stop while a folder is
  /// staged but not yet published; KNEEFORCE_TEST_HOLD_BEFORE_PUBLISH=SECONDS waits there.
  static func holdForTests() {
    guard let text = ProcessInfo.processInfo.environment["KNEEFORCE_TEST_HOLD_BEFORE_PUBLISH"],
      let seconds = Double(text), seconds > 0
    else { return }
    Thread.sleep(forTimeInterval: min(seconds, 60))
  }

  static func removeContents(of url: URL) throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: url.path)
    for name in names {
      do {
        try FileManager.default.removeItem(at: url.appendingPathComponent(name))
      } catch {
        throw FileError.cannotWrite(url.appendingPathComponent(name).path, errno: errnoOf(error))
      }
    }
  }

  static func errnoOf(_ error: Error) -> Int32 {
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError,
      underlying.domain == NSPOSIXErrorDomain
    {
      return Int32(underlying.code)
    }
    if ns.domain == NSPOSIXErrorDomain { return Int32(ns.code) }
    return EIO
  }
}
