import CKneeForce
import Foundation

/// CLBlast tuning parameters for devices its database does not know (new GPUs run its generic
/// defaults, often several times below the device's GEMM speed). A JSON file maps CLBlast
/// kernel names to their complete parameter sets for single precision, as CLBlast's tuners
/// print them, e.g. `{"XgemmDirect": {"WGD": 32, "MDIMCD": 8, ...}, "Xgemm": {...}}`, and
/// `KNEEFORCE_CLBLAST_TUNING=FILE` applies it when the OpenCL backend starts.
public enum CLBlastTuning {
  public static let variable = "KNEEFORCE_CLBLAST_TUNING"

  public struct TuningError: Error, CustomStringConvertible {
    public let description: String
  }

  /// Parses a tuning file: kernel name -> parameter name -> non-negative integer.
  public static func parse(_ data: Data, file: String) throws -> [String: [String: Int]] {
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw TuningError(
        description: "\(file): expected a JSON object of CLBlast kernels, e.g. "
          + #"{"XgemmDirect": {"WGD": 32, ...}}"#)
    }
    var result: [String: [String: Int]] = [:]
    for (kernel, value) in object {
      guard let parameters = value as? [String: Any], !parameters.isEmpty else {
        throw TuningError(
          description: "\(file): kernel '\(kernel)' must map to an object of parameters")
      }
      var values: [String: Int] = [:]
      for (name, raw) in parameters {
        guard let number = raw as? NSNumber, let int = Int(exactly: number.doubleValue), int >= 0
        else {
          throw TuningError(
            description: "\(file): parameter '\(name)' of '\(kernel)' must be a non-negative "
              + "integer, got \(raw)")
        }
        values[name] = int
      }
      result[kernel] = values
    }
    return result
  }

  /// Hands every kernel's parameters to CLBlast for `device`; CLBlast recompiles that kernel on
  /// its next use. CLBlast rejects unknown kernels and incomplete parameter sets.
  public static func apply(_ tuning: [String: [String: Int]], device: OpenCLDeviceInfo) throws {
    for (kernel, parameters) in tuning.sorted(by: { $0.key < $1.key }) {
      let names = parameters.keys.sorted()
      let values = names.map { parameters[$0]! }
      let cNames = names.map { strdup($0) }
      defer { cNames.forEach { free($0) } }
      var pointers = cNames.map { UnsafePointer<CChar>($0) }
      let status = pointers.withUnsafeMutableBufferPointer { namePointers in
        values.withUnsafeBufferPointer { valuePointers in
          kf_CLBlastOverrideParameters(
            device.id, kernel, CLBlastPrecisionSingle, names.count, namePointers.baseAddress,
            valuePointers.baseAddress)
        }
      }
      if status != CLBlastSuccess {
        throw TuningError(
          description:
            "CLBlast rejected the tuning of '\(kernel)' (\(names.joined(separator: ", "))) "
            + "on \(device.name): status \(status.rawValue); every parameter of the kernel is "
            + "required, with values its tuner accepts")
      }
    }
  }

  /// Applies the file named by `KNEEFORCE_CLBLAST_TUNING`, if set.
  static func applyFromEnvironment(
    device: OpenCLDeviceInfo, environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws {
    guard let path = environment[variable], !path.isEmpty else { return }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TuningError(description: "\(variable)=\(path): cannot read the file")
    }
    try apply(try parse(data, file: path), device: device)
  }
}
