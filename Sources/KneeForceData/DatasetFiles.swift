import KneeForceFiles

#if canImport(Glibc)
  import Glibc
#endif

/// Why a file of a dataset could not be read, in words that follow its name: "does not
/// exist", "is a FIFO (named pipe), not a regular file", "cannot be read: Permission denied",
/// "is UTF-16 (little-endian) text; save it as UTF-8 CSV".
enum FileReadProblem: Error, Equatable, Sendable {
  /// Missing, unreadable or not a regular file (the shared reader's words).
  case file(RegularFile.Problem)
  /// Not UTF-8 text: the words after the file's name.
  case encoding(String)

  static func kind(_ kind: FileKind) -> FileReadProblem { .file(.kind(kind)) }

  var predicate: String {
    switch self {
    case .file(.kind(let kind)) where kind != .missing:
      if case .inaccessible = kind { return RegularFile.Problem.kind(kind).predicate }
      return "\(kind.words), not a regular file"
    case .file(let problem): return problem.predicate
    case .encoding(let words): return words
    }
  }

  /// The problem as a sentence about the file `name` (encoding problems name it already).
  func sentence(name: String) -> String {
    if case .encoding(let words) = self { return words }
    return "\(name) \(predicate)"
  }
}

extension DatasetFiles {
  /// Bytes read per `read(2)` call, and so the most a streaming reader holds of the file.
  static let chunkSize = RegularFile.chunkSize

  /// Why `folder` cannot be a dataset folder, or nil: missing, a file, a FIFO, unreadable.
  static func folderProblem(_ folder: String) -> String? {
    let name = quoted(folder, limit: 400)
    let kind = FileKind(path: folder)
    switch kind {
    case .directory:
      guard let directory = opendir(folder) else {
        return "cannot read the dataset folder \(name): \(FileError.reason(errno))"
      }
      closedir(directory)
      return nil
    case .missing:
      return "the dataset folder \(name) does not exist"
    case .regular:
      return "\(name) is a file, not a dataset folder; give the folder that holds manifest.csv"
    case .inaccessible(let code):
      return "cannot reach the dataset folder \(name): \(FileError.reason(code))"
    default:
      return "\(name) \(kind.words), not a dataset folder"
    }
  }

  /// Streams the regular file at `path` to `body` through the shared reader
  /// (`RegularFile.stream`: a FIFO is refused before it is opened); a file that is not UTF-8
  /// text (UTF-16 or UTF-32, a workbook, binary data) is refused from its first chunk.
  /// Returns nil when the whole file was read.
  static func stream(
    _ path: String, chunkSize: Int = chunkSize, _ body: (UnsafeBufferPointer<UInt8>) -> Void
  ) -> FileReadProblem? {
    var first = true
    var encoding: String?
    let problem = RegularFile.stream(path, chunkSize: chunkSize) { chunk in
      if first {
        first = false
        encoding = encodingProblem(chunk, name: fileName(path))
        if encoding != nil { return false }
      }
      body(chunk)
      return true
    }
    if let problem { return .file(problem) }
    return encoding.map { .encoding($0) }
  }

  /// The whole file at `path` (for the manifest and events.csv; trials are streamed).
  static func readAll(_ path: String) -> Result<[UInt8], FileReadProblem> {
    var bytes: [UInt8] = []
    if let problem = stream(path, { bytes.append(contentsOf: $0) }) { return .failure(problem) }
    return .success(bytes)
  }

  /// The last path component, for messages that name a file.
  static func fileName(_ path: String) -> String {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    return quoted(name, limit: 200)
  }

  /// Recognises text that is not UTF-8 (or ASCII) from the first bytes of a file: UTF-16 and
  /// UTF-32 by their byte order mark, UTF-16 without one by its NUL bytes at every other
  /// position, workbooks by their signature, and anything else with NUL bytes as binary.
  /// The words follow `name`.
  static func encodingProblem(_ bytes: UnsafeBufferPointer<UInt8>, name: String) -> String? {
    func starts(_ prefix: [UInt8]) -> Bool {
      bytes.count >= prefix.count && zip(bytes, prefix).allSatisfy { $0 == $1 }
    }
    func unicode(_ form: String) -> String {
      "\(name) is \(form) text; save it as UTF-8 CSV (in a spreadsheet: CSV UTF-8)"
    }
    if starts([0xFF, 0xFE, 0x00, 0x00]) { return unicode("UTF-32 (little-endian)") }
    if starts([0x00, 0x00, 0xFE, 0xFF]) { return unicode("UTF-32 (big-endian)") }
    if starts([0xFF, 0xFE]) { return unicode("UTF-16 (little-endian)") }
    if starts([0xFE, 0xFF]) { return unicode("UTF-16 (big-endian)") }
    if starts([0x50, 0x4B, 0x03, 0x04]) {
      return "\(name) is a ZIP archive (an .xlsx or .ods workbook?), not CSV text; export "
        + "the sheet as CSV UTF-8"
    }
    if starts([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
      return "\(name) is an OLE2 document (an .xls workbook?), not CSV text; export the "
        + "sheet as CSV UTF-8"
    }
    let sample = UnsafeBufferPointer(rebasing: bytes[..<min(bytes.count, 1 << 16)])
    guard let firstNUL = sample.firstIndex(of: 0) else { return nil }
    var nulAtEven = 0
    var nulAtOdd = 0
    for (i, byte) in sample.enumerated() where byte == 0 {
      if i % 2 == 0 { nulAtEven += 1 } else { nulAtOdd += 1 }
    }
    let pairs = sample.count / 2
    if pairs > 0, nulAtOdd * 10 >= pairs * 9, nulAtEven == 0 {
      return unicode("UTF-16 (little-endian, without a byte order mark)")
    }
    if pairs > 0, nulAtEven * 10 >= pairs * 9, nulAtOdd == 0 {
      return unicode("UTF-16 (big-endian, without a byte order mark)")
    }
    return "\(name) contains NUL bytes (the first at byte \(firstNUL + 1)): it is binary "
      + "data, not CSV text"
  }
}
