import ArgumentParser
import Foundation
import KneeForceCompute

struct DevicesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "devices",
    abstract: "List every OpenCL device and the CPU backend, and self-check each.",
    discussion: """
      Devices are numbered across platforms from 0; `--device opencl:INDEX` uses that number. \
      The self-check runs one GEMM and one custom kernel (the fused LSTM cell) on each device \
      and compares them with plain scalar reference loops (max |error| / max |value| <= 1e-4 \
      passes). \
      OpenCL programs are cached on disk (KNEEFORCE_CACHE_DIR, default ~/.cache/kneeforce).
      """)

  @Flag(help: "Only list; skip the self-checks.")
  var noCheck = false

  @Option(
    help: ArgumentHelp(
      "Resolve this selection (auto | cpu | opencl[:INDEX]) as training would, self-check "
        + "only that backend, and print which one it is.", valueName: "device"))
  var device: DeviceSelection?

  func run() throws {
    if let selection = device {
      let backend = try makeBackend(selection)
      print("--device \(selection) -> \(backend.kind.rawValue): \(backend.deviceName)")
      let result = try selfCheck(backend)
      print("self-check: \(describe(result))")
      if !result.passed { throw ExitCode(1) }
      return
    }
    var failed = false
    print("CPU backend")
    print("  BLAS:        \(CPUBackend.blasDescription)")
    print("  cores:       \(ProcessInfo.processInfo.activeProcessorCount)")
    if !noCheck {
      let result = try selfCheck(CPUBackend())
      print("  self-check:  \(describe(result))")
      failed = failed || !result.passed
    }
    let devices: [OpenCLDeviceInfo]
    do {
      devices = try listOpenCLDevices()
    } catch {
      if case OpenCLError.unavailable = error {
        print("\n\(error)")
      } else {
        print("\nOpenCL unavailable: \(error)")
      }
      if failed { throw ExitCode(1) }
      return
    }
    for device in devices {
      print("\nopencl:\(device.index)  \(device.name)")
      print("  platform:    \(device.platformName) (\(device.platformVersion))")
      print("  vendor:      \(device.vendor), driver \(device.driverVersion)")
      print("  type:        \(device.type)")
      print("  compute units: \(device.computeUnits)")
      print(
        "  global memory: \(String(format: "%.1f", Double(device.globalMemoryBytes) / 1_073_741_824)) GiB"
      )
      print("  max work-group size: \(device.maxWorkGroupSize)")
      print("  fp64:        \(device.hasFP64 ? "yes" : "no")")
      print("  OpenCL C:    \(device.openCLCVersion)")
      guard !noCheck else { continue }
      do {
        let backend = try OpenCLBackend(device: device)
        print(
          "  program:     \(String(format: "%.2f", backend.buildSeconds)) s "
            + "(cache \(backend.cacheOutcome.rawValue), kernels \(backend.kernelOrigin))")
        let result = try selfCheck(backend)
        print("  self-check:  \(describe(result))")
        failed = failed || !result.passed
      } catch {
        print("  self-check:  FAILED: \(error)")
        failed = true
      }
    }
    if failed { throw ExitCode(1) }
  }

  func describe(_ r: SelfCheckResult) -> String {
    let verdict = r.passed ? "passed" : "FAILED"
    return "\(verdict) (GEMM error \(String(format: "%.1e", r.gemmError)), LSTM cell error "
      + "\(String(format: "%.1e", r.kernelError)), \(String(format: "%.2f", r.seconds)) s)"
  }
}
