import CKneeForce
import Foundation

/// An OpenCL or CLBlast failure, with the call that failed and, for program builds, the log.
public enum OpenCLError: Error, CustomStringConvertible {
  /// The OpenCL loader or CLBlast could not be opened, or lacks an entry point.
  case unavailable(OpenCLLibraries.Failure)
  case call(String, Int32)
  case noPlatform(String)
  case noDevice(String)
  case build(device: String, log: String)
  case clblast(String, Int32)
  case kernelSource(String)

  public var description: String {
    switch self {
    case .unavailable(let failure): return "OpenCL unavailable: \(failure.reason)"
    case .call(let name, let code):
      return "OpenCL call \(name) failed with \(openCLErrorName(code))"
    case .noPlatform(let why): return "no OpenCL platform: \(why)"
    case .noDevice(let why): return why
    case .build(let device, let log):
      return "OpenCL program build failed on \(device):\n\(log)"
    case .clblast(let name, let code): return "CLBlast \(name) failed with status \(code)"
    case .kernelSource(let why): return "kernel sources: \(why)"
    }
  }
}

func openCLErrorName(_ code: Int32) -> String {
  let names: [Int32: String] = [
    -1: "CL_DEVICE_NOT_FOUND", -2: "CL_DEVICE_NOT_AVAILABLE", -3: "CL_COMPILER_NOT_AVAILABLE",
    -4: "CL_MEM_OBJECT_ALLOCATION_FAILURE", -5: "CL_OUT_OF_RESOURCES", -6: "CL_OUT_OF_HOST_MEMORY",
    -11: "CL_BUILD_PROGRAM_FAILURE", -30: "CL_INVALID_VALUE", -33: "CL_INVALID_DEVICE",
    -36: "CL_INVALID_COMMAND_QUEUE", -38: "CL_INVALID_MEM_OBJECT", -42: "CL_INVALID_BINARY",
    -45: "CL_INVALID_PROGRAM_EXECUTABLE", -46: "CL_INVALID_KERNEL_NAME", -48: "CL_INVALID_KERNEL",
    -49: "CL_INVALID_ARG_INDEX", -50: "CL_INVALID_ARG_VALUE", -51: "CL_INVALID_ARG_SIZE",
    -52: "CL_INVALID_KERNEL_ARGS", -54: "CL_INVALID_WORK_GROUP_SIZE", -61: "CL_INVALID_BUFFER_SIZE",
    -1001: "CL_PLATFORM_NOT_FOUND_KHR (no OpenCL ICD installed or found)",
  ]
  return names[code].map { "\($0) (\(code))" } ?? "error \(code)"
}

@inline(__always) func clCheck(_ code: cl_int, _ name: @autoclosure () -> String) throws {
  if code != CL_SUCCESS { throw OpenCLError.call(name(), code) }
}

/// The OpenCL ICD loader and CLBlast, opened at run time by the C shim (`kf_opencl_load`), so
/// the executable links neither and starts on nodes without them. Opened once per process.
public enum OpenCLLibraries {
  public struct Failure: Sendable {
    /// The loader or CLBlast library, its file name or the missing entry point, as dlopen
    /// and dlsym report it.
    public let reason: String
    /// False when only the OpenCL loader is absent at its default name: a CPU-only node,
    /// where running on the CPU backend is expected. True when a library named by
    /// KNEEFORCE_OPENCL_LIBRARY / KNEEFORCE_CLBLAST_LIBRARY is missing, when CLBlast is
    /// missing beside an OpenCL loader, or when a library lacks an entry point: the
    /// installation is not what the user meant, so `--device auto` warns.
    public let unexpected: Bool
  }

  /// nil once both libraries are open with every entry point resolved.
  public static let failure: Failure? = {
    var reason = [CChar](repeating: 0, count: 1024)
    let code = kf_opencl_load(&reason, reason.count)
    guard code != 0 else { return nil }
    let text = String(
      decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return Failure(reason: text.isEmpty ? "error \(code)" : text, unexpected: code != 1)
  }()

  /// Throws `OpenCLError.unavailable` unless both libraries are usable.
  public static func load() throws {
    if let failure { throw OpenCLError.unavailable(failure) }
  }
}

/// What `kneeforce devices` shows of one OpenCL device, in the order it lists them.
public struct OpenCLDeviceInfo: @unchecked Sendable {
  public let index: Int
  public let platformName: String
  public let platformVersion: String
  public let name: String
  public let vendor: String
  public let driverVersion: String
  public let type: String
  public let computeUnits: Int
  public let globalMemoryBytes: UInt64
  public let maxWorkGroupSize: Int
  public let hasFP64: Bool
  public let openCLCVersion: String
  let id: cl_device_id

  public var isGPUOrAccelerator: Bool { type == "GPU" || type == "accelerator" }
}

func platformString(_ platform: cl_platform_id, _ param: cl_platform_info) -> String {
  var size = 0
  guard kf_clGetPlatformInfo(platform, param, 0, nil, &size) == CL_SUCCESS, size > 0 else {
    return ""
  }
  var bytes = [CChar](repeating: 0, count: size)
  kf_clGetPlatformInfo(platform, param, size, &bytes, nil)
  return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func deviceString(_ device: cl_device_id, _ param: cl_device_info) -> String {
  var size = 0
  guard kf_clGetDeviceInfo(device, param, 0, nil, &size) == CL_SUCCESS, size > 0 else { return "" }
  var bytes = [CChar](repeating: 0, count: size)
  kf_clGetDeviceInfo(device, param, size, &bytes, nil)
  return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    .trimmingCharacters(in: .whitespaces)
}

func deviceValue<T: FixedWidthInteger>(_ device: cl_device_id, _ param: cl_device_info, _: T.Type)
  -> T
{
  var value: T = 0
  kf_clGetDeviceInfo(device, param, MemoryLayout<T>.size, &value, nil)
  return value
}

/// Every OpenCL device on every platform, numbered across platforms from 0: the numbering
/// that `--device opencl:INDEX` uses.
public func listOpenCLDevices() throws -> [OpenCLDeviceInfo] {
  try OpenCLLibraries.load()
  var platformCount: cl_uint = 0
  let status = kf_clGetPlatformIDs(0, nil, &platformCount)
  if status != CL_SUCCESS || platformCount == 0 {
    throw OpenCLError.noPlatform(
      status == CL_SUCCESS
        ? "the OpenCL loader found no platform (is an ICD such as pocl-opencl-icd installed?)"
        : "clGetPlatformIDs returned \(openCLErrorName(status)); is an OpenCL ICD installed?")
  }
  var platforms = [cl_platform_id?](repeating: nil, count: Int(platformCount))
  try clCheck(kf_clGetPlatformIDs(platformCount, &platforms, nil), "clGetPlatformIDs")
  var result: [OpenCLDeviceInfo] = []
  for case let platform? in platforms {
    var deviceCount: cl_uint = 0
    guard
      kf_clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &deviceCount)
        == CL_SUCCESS, deviceCount > 0
    else { continue }
    var devices = [cl_device_id?](repeating: nil, count: Int(deviceCount))
    try clCheck(
      kf_clGetDeviceIDs(platform, cl_device_type(CL_DEVICE_TYPE_ALL), deviceCount, &devices, nil),
      "clGetDeviceIDs")
    for case let device? in devices {
      let type = deviceValue(device, cl_device_info(CL_DEVICE_TYPE), cl_device_type.self)
      let typeName: String
      if type & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 {
        typeName = "GPU"
      } else if type & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 {
        typeName = "accelerator"
      } else if type & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 {
        typeName = "CPU"
      } else {
        typeName = "other"
      }
      let fp64 = deviceValue(
        device, cl_device_info(CL_DEVICE_DOUBLE_FP_CONFIG), cl_device_fp_config.self)
      result.append(
        OpenCLDeviceInfo(
          index: result.count,
          platformName: platformString(platform, cl_platform_info(CL_PLATFORM_NAME)),
          platformVersion: platformString(platform, cl_platform_info(CL_PLATFORM_VERSION)),
          name: deviceString(device, cl_device_info(CL_DEVICE_NAME)),
          vendor: deviceString(device, cl_device_info(CL_DEVICE_VENDOR)),
          driverVersion: deviceString(device, cl_device_info(CL_DRIVER_VERSION)),
          type: typeName,
          computeUnits: Int(
            deviceValue(device, cl_device_info(CL_DEVICE_MAX_COMPUTE_UNITS), cl_uint.self)),
          globalMemoryBytes: deviceValue(
            device, cl_device_info(CL_DEVICE_GLOBAL_MEM_SIZE), cl_ulong.self),
          maxWorkGroupSize: Int(
            deviceValue(device, cl_device_info(CL_DEVICE_MAX_WORK_GROUP_SIZE), Int.self)),
          hasFP64: fp64 != 0,
          openCLCVersion: deviceString(device, cl_device_info(CL_DEVICE_OPENCL_C_VERSION)),
          id: device))
    }
  }
  return result
}
