import Foundation

/// `--device auto | cpu | opencl[:INDEX]`. INDEX counts devices in the order
/// `kneeforce devices` lists them, across platforms, from 0.
public enum DeviceSelection: Equatable, CustomStringConvertible, Sendable {
  case auto
  case cpu
  case opencl(index: Int?)

  public init?(argument: String) {
    let text = argument.lowercased()
    switch text {
    case "auto": self = .auto
    case "cpu": self = .cpu
    case "opencl", "gpu": self = .opencl(index: nil)
    default:
      guard text.hasPrefix("opencl:"), let index = Int(text.dropFirst(7)), index >= 0 else {
        return nil
      }
      self = .opencl(index: index)
    }
  }

  public var description: String {
    switch self {
    case .auto: return "auto"
    case .cpu: return "cpu"
    case .opencl(let index?): return "opencl:\(index)"
    case .opencl(nil): return "opencl"
    }
  }
}

public struct DeviceSelectionError: Error, CustomStringConvertible {
  public let description: String
  public init(description: String) { self.description = description }
}

/// Turns a selection into a backend. `auto` prefers an OpenCL GPU or accelerator (a CPU
/// OpenCL such as PoCL is slower than BLAS on the same cores) and otherwise runs on the CPU
/// backend; if the chosen OpenCL device cannot be used it falls back to the CPU with one
/// warning. Where the OpenCL libraries cannot be opened (`OpenCLLibraries`), `auto` runs on
/// the CPU, warning once unless the node simply has no OpenCL loader. A device the user named
/// explicitly never falls back: it fails with the reason.
public func makeBackend(
  _ selection: DeviceSelection, cache: ProgramCache = ProgramCache(),
  warn: (String) -> Void = { FileHandle.standardError.write(Data("warning: \($0)\n".utf8)) }
) throws -> ComputeBackend {
  switch selection {
  case .cpu:
    return CPUBackend()
  case .auto:
    let devices: [OpenCLDeviceInfo]
    do {
      devices = try listOpenCLDevices()
    } catch OpenCLError.unavailable(let failure) {
      // Silent on a node without an OpenCL loader; one warning when the libraries are
      // there but broken or a library named by the environment is missing.
      if failure.unexpected { warn("OpenCL unavailable, running on the CPU: \(failure.reason)") }
      return CPUBackend()
    } catch {
      return CPUBackend()
    }
    guard let gpu = devices.first(where: { $0.isGPUOrAccelerator }) else { return CPUBackend() }
    do {
      return try OpenCLBackend(device: gpu, cache: cache)
    } catch {
      warn("OpenCL device \(gpu.index) (\(gpu.name)) is unusable, running on the CPU: \(error)")
      return CPUBackend()
    }
  case .opencl(let index):
    let devices: [OpenCLDeviceInfo]
    do {
      devices = try listOpenCLDevices()
    } catch {
      if case OpenCLError.unavailable = error {
        throw DeviceSelectionError(description: "--device \(selection): \(error)")
      }
      throw DeviceSelectionError(
        description: "--device \(selection): OpenCL is not available: \(error)")
    }
    guard !devices.isEmpty else {
      throw DeviceSelectionError(
        description: "--device \(selection): OpenCL platforms exist but list no device")
    }
    let chosen: OpenCLDeviceInfo
    if let index {
      guard index < devices.count else {
        throw DeviceSelectionError(
          description:
            "--device opencl:\(index): there are \(devices.count) OpenCL device(s), "
            + "numbered 0..\(devices.count - 1); see `kneeforce devices`")
      }
      chosen = devices[index]
    } else {
      chosen = devices.first(where: { $0.isGPUOrAccelerator }) ?? devices[0]
    }
    do {
      return try OpenCLBackend(device: chosen, cache: cache)
    } catch {
      throw DeviceSelectionError(
        description: "--device \(selection): OpenCL device \(chosen.index) (\(chosen.name)) "
          + "could not be used: \(error)")
    }
  }
}
