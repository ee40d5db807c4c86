import CKneeForce
import Foundation
import KneeForceFiles

/// 64-bit FNV-1a: a stable content hash for cache keys and file checksums (Swift's `Hasher`
/// is seeded per process, so it cannot key anything on disk).
public struct FNV1a64 {
  public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

  public init() {}

  public mutating func combine<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
    for byte in bytes {
      value ^= UInt64(byte)
      value = value &* 0x0000_0100_0000_01b3
    }
  }

  public mutating func combine(_ string: String) {
    combine(string.utf8)
    combine([0])  // separator, so ("ab","c") and ("a","bc") differ
  }

  public static func hash(_ bytes: [UInt8]) -> UInt64 {
    var h = FNV1a64()
    h.combine(bytes)
    return h.value
  }
}

/// The concatenated kernel sources the OpenCL backend compiles: `common.cl` first, then every
/// other file in name order. Embedded in the binary; `KNEEFORCE_KERNELS_DIR` points at a
/// folder of `.cl` files instead, for kernel development without rebuilding.
public enum KernelSources {
  public static let overrideVariable = "KNEEFORCE_KERNELS_DIR"

  public static func load(environment: [String: String] = ProcessInfo.processInfo.environment)
    throws -> (source: String, origin: String)
  {
    var files = embeddedKernelSources
    var origin = "embedded"
    if let dir = environment[overrideVariable], !dir.isEmpty {
      let url = URL(fileURLWithPath: dir)
      guard let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) else {
        throw OpenCLError.kernelSource("\(overrideVariable)=\(dir) is not a readable folder")
      }
      files = [:]
      for name in names where name.hasSuffix(".cl") {
        var text = try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)
        // The embedded copies end without the file's final newline; match them exactly.
        if text.hasSuffix("\n") { text.removeLast() }
        files[name] = text
      }
      guard files["common.cl"] != nil else {
        throw OpenCLError.kernelSource(
          "\(overrideVariable)=\(dir) holds no common.cl; expected the project's Kernels/ folder")
      }
      origin = url.path
    }
    let ordered = ["common.cl"] + files.keys.filter { $0 != "common.cl" }.sorted()
    let source = ordered.map { "// ---- \($0)\n" + files[$0]! }.joined(separator: "\n")
    return (source, origin)
  }
}

/// A persistent on-disk cache of OpenCL program binaries, so a second process start skips
/// the compiler (seconds on PoCL, more on some GPU drivers). Entries are keyed by device,
/// driver, platform, source and build options; each file carries a checksum so a truncated or
/// corrupt entry is detected and rebuilt rather than handed to the driver.
public struct ProgramCache {
  public enum Outcome: String, Sendable {
    case hit
    case miss
    case corrupt
    case disabled
  }

  static let magic: [UInt8] = Array("KFCLBIN1".utf8)
  public let directory: URL?

  /// `KNEEFORCE_CACHE_DIR`, else `$XDG_CACHE_HOME/kneeforce`, else `~/.cache/kneeforce`;
  /// `KNEEFORCE_CACHE_DIR=off` disables the cache.
  public static func defaultDirectory(
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> URL? {
    if let dir = environment["KNEEFORCE_CACHE_DIR"], !dir.isEmpty {
      return dir == "off" ? nil : URL(fileURLWithPath: dir)
    }
    if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
      return URL(fileURLWithPath: xdg).appendingPathComponent("kneeforce")
    }
    let home = environment["HOME"] ?? NSTemporaryDirectory()
    return URL(fileURLWithPath: home).appendingPathComponent(".cache/kneeforce")
  }

  public init(directory: URL? = ProgramCache.defaultDirectory()) {
    self.directory = directory
  }

  public static func key(device: OpenCLDeviceInfo, source: String, options: String) -> String {
    var h = FNV1a64()
    for part in [
      device.name, device.vendor, device.driverVersion, device.platformName,
      device.platformVersion, source, options,
    ] {
      h.combine(part)
    }
    return String(h.value, radix: 16)
  }

  public func url(forKey key: String) -> URL? {
    directory?.appendingPathComponent("program-\(key).bin")
  }

  /// The binary stored under `key`, or why there is none.
  public func load(key: String) -> ([UInt8]?, Outcome) {
    guard let url = url(forKey: key) else { return (nil, .disabled) }
    guard let data = FileManager.default.contents(atPath: url.path) else { return (nil, .miss) }
    let bytes = [UInt8](data)
    let header = Self.magic.count + 16
    guard bytes.count >= header, Array(bytes[0..<Self.magic.count]) == Self.magic else {
      return (nil, .corrupt)
    }
    func word(_ at: Int) -> UInt64 {
      var v: UInt64 = 0
      for i in 0..<8 { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
      return v
    }
    let length = word(Self.magic.count)
    let checksum = word(Self.magic.count + 8)
    guard UInt64(bytes.count - header) == length else { return (nil, .corrupt) }
    let payload = Array(bytes[header...])
    guard FNV1a64.hash(payload) == checksum else { return (nil, .corrupt) }
    return (payload, .hit)
  }

  /// Stores atomically (temp file + rename) so a crash never leaves half an entry behind.
  public func store(key: String, binary: [UInt8]) {
    guard let url = url(forKey: key), let directory else { return }
    var bytes = Self.magic
    for value in [UInt64(binary.count), FNV1a64.hash(binary)] {
      for i in 0..<8 { bytes.append(UInt8((value >> (8 * UInt64(i))) & 0xff)) }
    }
    bytes += binary
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      // Not fsynced: a lost entry only costs a rebuild, and the checksum rejects a torn one.
      try AtomicFile.write(bytes, to: url, durable: false)
    } catch {
      // A cache that cannot be written only costs a rebuild next time.
    }
  }

  public func remove(key: String) {
    if let url = url(forKey: key) { try? FileManager.default.removeItem(at: url) }
  }
}
