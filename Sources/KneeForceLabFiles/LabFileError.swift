import Foundation

/// Where in a file a problem is: a byte offset for binary files, a line and column for text,
/// so that a user can open the file at the spot instead of guessing.
public enum LabFileLocation: Sendable, Equatable {
  case byte(Int)
  case line(Int, column: Int)
  case whole
}

/// Every problem in a lab file is reported through this one error, so the command line can
/// print `error: <file>: <where>: <what>` the same way for C3D and OpenSim files.
public struct LabFileError: Error, CustomStringConvertible, Sendable, Equatable {
  public let file: String
  public let location: LabFileLocation
  public let message: String

  public init(file: String, location: LabFileLocation, message: String) {
    self.file = file
    self.location = location
    self.message = message
  }

  public var description: String {
    switch location {
    case .byte(let offset): return "\(file): byte \(offset): \(message)"
    case .line(let line, let column): return "\(file):\(line):\(column): \(message)"
    case .whole: return "\(file): \(message)"
    }
  }
}
