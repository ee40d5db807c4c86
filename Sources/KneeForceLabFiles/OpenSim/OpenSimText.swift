import Foundation
import KneeForceFiles

/// Lines of an OpenSim text file with their 1-based numbers, so every error can point at
/// `file:line:column` (column = the 1-based field number, as a spreadsheet shows it).
struct OpenSimText {
  let file: String
  let lines: [Substring]

  init(_ data: Data, file: String) throws {
    self.file = file
    guard let text = String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1)
    else {
      throw LabFileError(file: file, location: .whole, message: "not a text file")
    }
    lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
  }

  static func load(_ url: URL) throws -> Data {
    do { return try RegularFile.read(url.path) } catch let error as RegularFileError {
      throw LabFileError(file: url.path, location: .whole, message: error.reason)
    }
  }

  func error(line: Int, column: Int = 1, _ message: String) -> LabFileError {
    LabFileError(file: file, location: .line(line, column: column), message: message)
  }

  /// Tab-separated fields; files written by hand sometimes use runs of spaces instead.
  static func fields(_ line: Substring) -> [Substring] {
    if line.contains("\t") {
      return line.split(separator: "\t", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)[...]
      }
    }
    return line.split(whereSeparator: { $0 == " " })
  }

  /// A number cell; empty means missing (NaN), anything else that is not a number is an error.
  func number(_ field: Substring, line: Int, column: Int) throws -> Double {
    if field.isEmpty { return .nan }
    let lowered = field.lowercased()
    if lowered == "nan" || lowered == "-nan" { return .nan }
    guard let value = Double(field) else {
      throw error(line: line, column: column, "expected a number, found \"\(field)\"")
    }
    return value
  }
}
