import Foundation
import KneeForceCompute
import KneeForceTestSupport
import XCTest

final class ProgramCacheTests: XCTestCase {
  var directories: [URL] = []

  override func tearDown() {
    for directory in directories { try? FileManager.default.removeItem(at: directory) }
    directories = []
    super.tearDown()
  }

  func freshCache() throws -> ProgramCache {
    let directory = try temporaryDirectory("cache")
    directories.append(directory)
    return ProgramCache(directory: directory)
  }

  func cacheFiles(_ cache: ProgramCache) throws -> [URL] {
    try FileManager.default.contentsOfDirectory(atPath: cache.directory!.path)
      .filter { $0.hasPrefix("program-") && $0.hasSuffix(".bin") }
      .map { cache.directory!.appendingPathComponent($0) }
  }

  /// Proof that a backend built from a (cached or rebuilt) program computes: a custom kernel
  /// and a CLBlast GEMM against hand-derived values.
  func assertWorks(_ backend: OpenCLBackend, _ what: String, line: UInt = #line) throws {
    let x = try backend.makeBuffer([1, 2, 3])
    let y = try backend.makeBuffer([10, 20, 30])
    try backend.add(BufferSlice(x), into: BufferSlice(y), count: 3)
    XCTAssertEqual(try backend.download(y), [11, 22, 33], "\(what): add", line: line)
    // [1 2 3; 4 5 6] x [1; 2; 3] = [14; 32]
    let a = try backend.makeBuffer([1, 2, 3, 4, 5, 6])
    let c = try backend.makeBuffer(count: 2)
    try backend.gemm(
      Gemm(
        m: 2, n: 1, k: 3, a: BufferSlice(a), lda: 3, b: BufferSlice(x), ldb: 1,
        c: BufferSlice(c), ldc: 1))
    XCTAssertEqual(try backend.download(c), [14, 32], "\(what): gemm", line: line)
  }

  func testSecondConstructionHitsCache() throws {
    let device = try TestBackends.requireDevice()
    let cache = try freshCache()
    let first = try OpenCLBackend(device: device, cache: cache)
    XCTAssertEqual(first.cacheOutcome, .miss)
    XCTAssertEqual(try cacheFiles(cache).count, 1, "one program binary stored")
    let second = try OpenCLBackend(device: device, cache: cache)
    XCTAssertEqual(second.cacheOutcome, .hit)
    try assertWorks(second, "from cache")
    XCTAssertEqual(try cacheFiles(cache).count, 1)
  }

  func testDisabledCache() throws {
    let device = try TestBackends.requireDevice()
    let backend = try OpenCLBackend(device: device, cache: ProgramCache(directory: nil))
    XCTAssertEqual(backend.cacheOutcome, .disabled)
    try assertWorks(backend, "uncached")
  }

  /// A truncated entry, a flipped payload byte, and a well-formed entry whose payload the
  /// driver rejects: each is reported as corrupt, rebuilt, works, and is rewritten, so the
  /// next start is a hit.
  func testCorruptEntryIsRebuilt() throws {
    let device = try TestBackends.requireDevice()
    let corruptions: [(String, (URL, ProgramCache) throws -> Void)] = [
      (
        "truncated",
        { url, _ in
          let bytes = try Data(contentsOf: url)
          try bytes.prefix(bytes.count / 2).write(to: url)
        }
      ),
      (
        "flipped payload byte",
        { url, _ in
          var bytes = [UInt8](try Data(contentsOf: url))
          bytes[24 + (bytes.count - 24) / 2] ^= 0x5a
          try Data(bytes).write(to: url)
        }
      ),
      (
        "valid checksum, garbage binary",
        { url, cache in
          let key = String(
            url.deletingPathExtension().lastPathComponent.dropFirst("program-".count))
          cache.store(key: key, binary: Array(repeating: 0xab, count: 64))
          XCTAssertEqual(cache.load(key: key).1, .hit, "the garbage entry is well formed")
        }
      ),
    ]
    for (name, corrupt) in corruptions {
      let cache = try freshCache()
      XCTAssertEqual(try OpenCLBackend(device: device, cache: cache).cacheOutcome, .miss, name)
      let url = try XCTUnwrap(try cacheFiles(cache).first, name)
      let original = try Data(contentsOf: url)
      try corrupt(url, cache)
      XCTAssertNotEqual(try Data(contentsOf: url), original, "\(name): file not changed")

      let rebuilt = try OpenCLBackend(device: device, cache: cache)
      XCTAssertEqual(rebuilt.cacheOutcome, .corrupt, name)
      try assertWorks(rebuilt, name)
      XCTAssertEqual(try cacheFiles(cache), [url], "\(name): entry rewritten under the same key")
      XCTAssertEqual(try Data(contentsOf: url).count, original.count, "\(name): rewritten size")
      let next = try OpenCLBackend(device: device, cache: cache)
      XCTAssertEqual(next.cacheOutcome, .hit, "\(name): the start after the rebuild")
      try assertWorks(next, name)
    }
  }

  /// A second process start finds the program the first one stored.
  func testSecondProcessReusesCache() throws {
    _ = try TestBackends.requireDevice()
    let directory = try temporaryDirectory("process-cache")
    directories.append(directory)
    let environment = ["KNEEFORCE_CACHE_DIR": directory.path]
    let first = try runKneeforce(["devices"], environment: environment)
    XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
    XCTAssertTrue(first.stdout.contains("(cache miss"), first.stdout)
    XCTAssertFalse(first.stdout.contains("cache hit"), first.stdout)
    let second = try runKneeforce(["devices"], environment: environment)
    XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
    XCTAssertTrue(second.stdout.contains("(cache hit"), second.stdout)
    XCTAssertFalse(second.stdout.contains("cache miss"), second.stdout)
  }

  func testKeyDependsOnSourceAndOptions() throws {
    let device = try TestBackends.requireDevice()
    let key = ProgramCache.key(device: device, source: "kernel", options: "-cl-std=CL1.2")
    XCTAssertEqual(
      key, ProgramCache.key(device: device, source: "kernel", options: "-cl-std=CL1.2"))
    XCTAssertNotEqual(
      key, ProgramCache.key(device: device, source: "kernel2", options: "-cl-std=CL1.2"))
    XCTAssertNotEqual(key, ProgramCache.key(device: device, source: "kernel", options: ""))
    XCTAssertNotEqual(
      key, ProgramCache.key(device: device, source: "kerne", options: "l-cl-std=CL1.2"))
  }

  // MARK: ProgramCache on its own (no OpenCL needed)

  func testStoreLoadRoundTrip() throws {
    let cache = try freshCache()
    XCTAssertEqual(cache.load(key: "abc").1, .miss)
    let payload: [UInt8] = Array(0...255) + [7, 7, 7]
    cache.store(key: "abc", binary: payload)
    let (loaded, outcome) = cache.load(key: "abc")
    XCTAssertEqual(outcome, .hit)
    XCTAssertEqual(loaded, payload)
    XCTAssertEqual(cache.url(forKey: "abc")?.lastPathComponent, "program-abc.bin")
    // No temporary files are left behind by the atomic store.
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: cache.directory!.path),
      [
        "program-abc.bin"
      ])
    cache.remove(key: "abc")
    XCTAssertEqual(cache.load(key: "abc").1, .miss)
  }

  func testLoadGarbageIsCorrupt() throws {
    let cache = try freshCache()
    cache.store(key: "good", binary: [1, 2, 3, 4, 5])
    let good = [UInt8](try Data(contentsOf: cache.url(forKey: "good")!))
    var wrongLength = good
    wrongLength[8] = 6
    var wrongChecksum = good
    wrongChecksum[16] ^= 1
    var wrongMagic = good
    wrongMagic[0] = UInt8(ascii: "X")
    var hugeLength = good
    for i in 8..<16 { hugeLength[i] = 0xff }
    let cases: [(String, [UInt8])] = [
      ("empty", []),
      ("random", randoms(1000, seed: 140).map { UInt8(truncatingIfNeeded: Int($0 * 1000)) }),
      ("magic only", Array("KFCLBIN1".utf8)),
      ("short header", Array(good.prefix(20))),
      ("truncated payload", Array(good.dropLast())),
      ("extra byte", good + [0]),
      ("wrong length", wrongLength),
      ("huge length", hugeLength),
      ("wrong checksum", wrongChecksum),
      ("wrong magic", wrongMagic),
    ]
    for (name, bytes) in cases {
      try Data(bytes).write(to: cache.url(forKey: name.replacingOccurrences(of: " ", with: "_"))!)
      let (payload, outcome) = cache.load(key: name.replacingOccurrences(of: " ", with: "_"))
      XCTAssertEqual(outcome, .corrupt, name)
      XCTAssertNil(payload, name)
    }
    XCTAssertEqual(cache.load(key: "good").0, [1, 2, 3, 4, 5])
  }

  func testDisabledAndDefaultDirectory() {
    let disabled = ProgramCache(directory: nil)
    XCTAssertNil(disabled.url(forKey: "x"))
    XCTAssertEqual(disabled.load(key: "x").1, .disabled)
    disabled.store(key: "x", binary: [1])  // a no-op, not a crash
    XCTAssertNil(ProgramCache.defaultDirectory(environment: ["KNEEFORCE_CACHE_DIR": "off"]))
    XCTAssertEqual(
      ProgramCache.defaultDirectory(environment: ["KNEEFORCE_CACHE_DIR": "/tmp/a", "HOME": "/h"])?
        .path, "/tmp/a")
    XCTAssertEqual(
      ProgramCache.defaultDirectory(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"])?.path,
      "/x/kneeforce")
    XCTAssertEqual(
      ProgramCache.defaultDirectory(environment: ["HOME": "/h"])?.path, "/h/.cache/kneeforce")
  }

  func testStoreIntoMissingDirectoryCreatesIt() throws {
    let parent = try temporaryDirectory("nested")
    directories.append(parent)
    let cache = ProgramCache(directory: parent.appendingPathComponent("a/b"))
    cache.store(key: "k", binary: [9])
    XCTAssertEqual(cache.load(key: "k").0, [9])
  }
}
