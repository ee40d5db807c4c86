/// Events come from two places that often disagree: the header (at most 18, 4-character
/// labels) and the EVENT group (any number, with contexts); both are kept, marked by source.
public struct C3DEvent: Sendable, Equatable {
  public enum Source: String, Sendable { case header, eventGroup = "EVENT" }
  public let source: Source
  public let label: String
  public let context: String
  public let time: Double
  /// The header's display flag (true = shown); the EVENT group has none.
  public let displayed: Bool
}

extension C3DFile {
  static let headerEventCountOffset = 300
  static let headerEventTimesOffset = 304
  static let headerEventFlagsOffset = 376
  static let headerEventLabelsOffset = 396

  static func headerEvents(_ bytes: C3DBytes) throws -> [C3DEvent] {
    let count = Int(try bytes.int16(headerEventCountOffset, "the header event count"))
    guard (0...18).contains(count) else {
      throw bytes.error(
        headerEventCountOffset, "header event count is \(count), expected 0 to 18")
    }
    return try (0..<count).map { index in
      let time = try bytes.float(headerEventTimesOffset + 4 * index, "a header event time")
      let flag = try bytes.uint8(headerEventFlagsOffset + index, "a header event flag")
      let label = try bytes.string(headerEventLabelsOffset + 4 * index, 4, "a header label")
      return C3DEvent(
        source: .header, label: label, context: "", time: Double(time), displayed: flag == 0)
    }
  }

  static func groupEvents(_ groups: [C3DGroup], _ bytes: C3DBytes) throws -> [C3DEvent] {
    guard let group = groups.first(where: { $0.name == "EVENT" }),
      let used = group.parameter("USED")?.unsignedIntegers.first, used > 0
    else { return [] }
    let labels = group.parameter("LABELS")?.strings ?? []
    let contexts = group.parameter("CONTEXTS")?.strings ?? []
    let times = group.parameter("TIMES")?.doubles ?? []
    guard labels.count >= used, times.count >= 2 * used else {
      let offset = group.parameter("USED")?.offset ?? 0
      throw bytes.error(
        offset,
        "EVENT:USED is \(used) but EVENT:LABELS has \(labels.count) labels and EVENT:TIMES "
          + "\(times.count / 2) times")
    }
    return (0..<used).map { index in
      C3DEvent(
        source: .eventGroup, label: labels[index],
        context: index < contexts.count ? contexts[index] : "",
        time: times[2 * index] * 60 + times[2 * index + 1], displayed: true)
    }
  }
}
