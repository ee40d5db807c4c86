import XCTest

@testable import KneeForceCompute

/// The CPU backend's default thread count: KNEEFORCE_THREADS (set by the Slurm scripts from
/// SLURM_CPUS_PER_TASK), else the process's affinity mask.
final class CPUThreadsTests: XCTestCase {
  func testEnvironmentSetsTheCount() {
    XCTAssertEqual(CPUThreads.defaultCount(environment: ["KNEEFORCE_THREADS": "3"]), 3)
    let fallback = CPUThreads.defaultCount(environment: [:])
    XCTAssertGreaterThanOrEqual(fallback, 1)
    XCTAssertLessThanOrEqual(fallback, ProcessInfo.processInfo.activeProcessorCount)
    XCTAssertEqual(CPUThreads.defaultCount(environment: ["KNEEFORCE_THREADS": "0"]), fallback)
    XCTAssertEqual(CPUThreads.defaultCount(environment: ["KNEEFORCE_THREADS": "x"]), fallback)
  }

  func testCPUListsAreCounted() {
    XCTAssertEqual(CPUThreads.cpuListCount("0"), 1)
    XCTAssertEqual(CPUThreads.cpuListCount(" 0-3,8,10-11\n"), 7)
    XCTAssertNil(CPUThreads.cpuListCount("3-1"))
    XCTAssertNil(CPUThreads.cpuListCount("a"))
    XCTAssertNotNil(CPUThreads.affinityCount())
  }
}
