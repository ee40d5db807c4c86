// swift-tools-version:6.0
import Foundation
import PackageDescription

/// The CPU backend's SIMD loops (gate activations, dropout, Adam) are compiled for
/// Haswell-class x86-64 (AVX2 + FMA, every x86 server and workstation since 2013): twice the
/// vector width of the baseline and fused multiply-adds. KNEEFORCE_PORTABLE=1 builds for
/// baseline x86-64 instead.
let cpuTuning: [SwiftSetting] = {
  #if arch(x86_64)
    if ProcessInfo.processInfo.environment["KNEEFORCE_PORTABLE"] != "1" {
      return [.unsafeFlags(["-target-cpu", "haswell"])]
    }
  #endif
  return []
}()

/// The compute kernels are built optimised in debug builds too: the test suite trains real
/// sweeps, and unoptimised SIMD loops and GEMM micro-kernels are some 20 times slower, which
/// would put the recipe guard test out of CI's reach. Other modules keep debug settings.
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]
let optimisedCInDebug: [CSetting] = [.unsafeFlags(["-O2"], .when(configuration: .debug))]

let package = Package(
  name: "KneeForce",
  products: [
    .executable(name: "kneeforce", targets: ["kneeforce"]),
    .library(name: "KneeForceModels", targets: ["KneeForceModels"]),
    .library(name: "KneeForceData", targets: ["KneeForceData"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // C shim over OpenCL 1.2, CLBlast's C API and CBLAS (OpenBLAS). Only OpenBLAS is linked:
    // the shim opens OpenCL and CLBlast at run time (dlopen), so one executable runs on nodes
    // without them (CPU backend) and uses OpenCL where it exists.
    .target(
      name: "CKneeForce",
      cSettings: [.define("CL_TARGET_OPENCL_VERSION", to: "120")] + optimisedCInDebug,
      linkerSettings: [.linkedLibrary("openblas"), .linkedLibrary("dl")]
    ),
    // The one atomic writer, output-folder markers, exit statuses, signal clean-up.
    .target(name: "KneeForceFiles"),
    // Buffers, GEMM and the custom kernels on two backends (OpenCL, CPU).
    .target(
      name: "KneeForceCompute", dependencies: ["CKneeForce", "KneeForceFiles"],
      swiftSettings: cpuTuning + optimisedInDebug),
    // Reading and writing safetensors files (no other dependency).
    .target(name: "SafeTensors", dependencies: ["KneeForceFiles"]),
    // The two networks, their layers, the optimiser and checkpoints.
    .target(
      name: "KneeForceModels", dependencies: ["KneeForceCompute", "SafeTensors", "KneeForceFiles"]),
    // The dataset folder format, its checker, the feature pipeline and the synthetic cohort.
    .target(name: "KneeForceData", dependencies: ["KneeForceFiles"]),
    // Readers for gait-lab files: C3D, OpenSim .trc/.sto/.mot (Foundation only).
    .target(name: "KneeForceLabFiles", dependencies: ["KneeForceFiles"]),
    // Importers of lab data (Grand Challenge, OpenSim, CAMS-Knee) into dataset folders.
    .target(
      name: "KneeForceImport",
      dependencies: ["KneeForceLabFiles", "KneeForceData", "KneeForceFiles"]),
    // Experiments: training runs over dataset folds, metrics, result files.
    .target(
      name: "KneeForceTraining",
      dependencies: ["KneeForceCompute", "KneeForceModels", "KneeForceData", "KneeForceFiles"]),
    // The sweep report: report.html and figures/ from a sweep's output files alone.
    .target(name: "KneeForceReport", dependencies: ["KneeForceFiles"]),
    .executableTarget(
      name: "kneeforce",
      dependencies: [
        "KneeForceCompute", "KneeForceModels", "KneeForceData", "KneeForceTraining", "SafeTensors",
        "KneeForceFiles", "KneeForceReport", "KneeForceLabFiles", "KneeForceImport",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // Helpers for tests that run the `kneeforce` executable (used by test targets only).
    .target(name: "KneeForceTestSupport", path: "Tests/KneeForceTestSupport"),
    .testTarget(
      name: "KneeForceComputeTests",
      dependencies: ["KneeForceCompute", "CKneeForce", "KneeForceTestSupport"]),
    .testTarget(
      name: "KneeForceModelsTests",
      dependencies: ["KneeForceModels", "KneeForceCompute", "SafeTensors"],
      resources: [.copy("Fixtures")]),
    .testTarget(name: "KneeForceDataTests", dependencies: ["KneeForceData"]),
    .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
    .testTarget(
      name: "KneeForceFilesTests",
      dependencies: ["KneeForceFiles", "KneeForceTestSupport", "SafeTensors"]),
    .testTarget(
      name: "KneeForceLabFilesTests", dependencies: ["KneeForceLabFiles", "KneeForceTestSupport"],
      resources: [.copy("References")]),
    .testTarget(
      name: "KneeForceImportTests",
      dependencies: ["KneeForceImport", "KneeForceData", "KneeForceTestSupport"]),
    .testTarget(
      name: "KneeForceTrainingTests",
      dependencies: [
        "KneeForceTraining", "KneeForceModels", "KneeForceData", "KneeForceCompute",
        "KneeForceTestSupport",
      ]),
    .testTarget(
      name: "KneeForceReportTests",
      dependencies: ["KneeForceReport", "KneeForceFiles", "KneeForceTestSupport"]),
  ],
  swiftLanguageModes: [.v5]
)
