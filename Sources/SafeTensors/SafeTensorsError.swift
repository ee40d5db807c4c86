/// Everything that can be wrong with a safetensors file or with tensors about to be written.
///
/// Every case carries the file (or `"(in memory)"`) and, where one is involved, the tensor, so
/// that a message read in a training log is enough to find and fix the broken checkpoint.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file could not be opened, read, written or renamed.
  case io(file: String, reason: String)
  /// The file ends before the 8-byte length, the header, or a tensor's data.
  case truncated(file: String, reason: String)
  /// The header is not a JSON object of the expected form.
  case malformedHeader(file: String, reason: String)
  /// A tensor entry lacks `dtype`, `shape` or `data_offsets`.
  case missingField(file: String, tensor: String, field: String)
  /// A tensor field is present but has the wrong JSON type or an impossible value.
  case invalidField(file: String, tensor: String, field: String, reason: String)
  /// The dtype string is not one the safetensors format defines.
  case unknownDType(file: String, tensor: String, dtype: String)
  /// The byte range does not hold exactly shape × element size bytes.
  case sizeMismatch(file: String, tensor: String, expectedBytes: Int, actualBytes: Int)
  /// Two tensors claim some of the same bytes.
  case overlappingOffsets(file: String, tensor: String, other: String)
  /// A `__metadata__` value is not a string (the format allows only string to string).
  case nonStringMetadata(file: String, key: String)
  /// The tensor exists but its element type is not the one the caller needs.
  case unsupportedDType(file: String, tensor: String, dtype: DType, expected: DType)
  /// The caller asked for a tensor the file does not have.
  case missingTensor(file: String, tensor: String)

  /// Stands in for a file name when the bytes never came from or went to disk.
  public static let inMemory = "(in memory)"

  public var description: String {
    switch self {
    case .io(let file, let reason):
      return "\(file): \(reason)"
    case .truncated(let file, let reason):
      return "\(file): truncated safetensors file: \(reason)"
    case .malformedHeader(let file, let reason):
      return "\(file): malformed safetensors header: \(reason)"
    case .missingField(let file, let tensor, let field):
      return "\(file): tensor '\(tensor)' has no '\(field)' in the header"
    case .invalidField(let file, let tensor, let field, let reason):
      return "\(file): tensor '\(tensor)' has an invalid '\(field)': \(reason)"
    case .unknownDType(let file, let tensor, let dtype):
      return "\(file): tensor '\(tensor)' has unknown dtype '\(dtype)'"
    case .sizeMismatch(let file, let tensor, let expected, let actual):
      return "\(file): tensor '\(tensor)' has \(actual) bytes of data "
        + "but its shape and dtype need \(expected)"
    case .overlappingOffsets(let file, let tensor, let other):
      return "\(file): data of tensors '\(other)' and '\(tensor)' overlap"
    case .nonStringMetadata(let file, let key):
      return "\(file): metadata value for '\(key)' is not a string"
    case .unsupportedDType(let file, let tensor, let dtype, let expected):
      return "\(file): tensor '\(tensor)' has dtype \(dtype.rawValue) "
        + "but \(expected.rawValue) is required"
    case .missingTensor(let file, let tensor):
      return "\(file): no tensor named '\(tensor)'"
    }
  }
}
