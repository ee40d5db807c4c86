import Foundation

/// What `kneeforce c3d --json` prints; field names are documented in docs/C3D.md and are a
/// contract with scripts, so they use snake_case and never change meaning.
public struct C3DSummary: Codable, Sendable {
  public struct Point: Codable, Sendable {
    public let label: String
    public let unit: String
  }
  public struct Analog: Codable, Sendable {
    public let label: String
    public let unit: String
    public let scale: Double
    public let offset: Double
  }
  public struct Plate: Codable, Sendable {
    public let index: Int
    public let type: Int
    public let channels: [String]
    public let corners_m: [[Double]]
    public let origin_m: [Double]
  }
  public struct Event: Codable, Sendable {
    public let source: String
    public let label: String
    public let context: String
    public let time_s: Double
  }

  public let file: String
  public let processor: String
  public let storage: String
  public let point_scale: Double
  public let point_rate_hz: Double
  public let analog_rate_hz: Double
  public let first_frame: Int
  public let frames: Int
  public let analog_samples_per_frame: Int
  public let analog_samples: Int
  public let duration_s: Double
  public let points: [Point]
  public let analogs: [Analog]
  public let force_plates: [Plate]
  public let events: [Event]
  /// SUBJECTS:NAMES (the first SUBJECTS:USED of them), empty without that group.
  public let subjects: [String]
  public let groups: [String]

  public init(_ file: C3DFile) throws {
    self.file = file.name
    processor = file.processor.rawValue
    storage = file.storage.rawValue
    point_scale = file.pointScale
    point_rate_hz = file.pointRate
    analog_rate_hz = file.analogRate
    first_frame = file.firstFrame
    frames = file.frameCount
    analog_samples_per_frame = file.analogSamplesPerFrame
    analog_samples = file.analogSampleCount
    duration_s = Double(file.frameCount) / file.pointRate
    points = file.pointLabels.map { Point(label: $0, unit: file.pointUnits) }
    analogs = file.analogLabels.indices.map {
      Analog(
        label: file.analogLabels[$0], unit: file.analogUnits[$0], scale: file.analogScales[$0],
        offset: file.analogOffsets[$0])
    }
    force_plates = try file.forcePlateConfigurations().map { plate in
      Plate(
        index: plate.index, type: plate.type,
        channels: plate.channels.map { file.analogLabels[$0] },
        corners_m: plate.corners, origin_m: plate.origin)
    }
    events = file.events.map {
      Event(source: $0.source.rawValue, label: $0.label, context: $0.context, time_s: $0.time)
    }
    let names = file.parameter("SUBJECTS", "NAMES")?.strings ?? []
    let used = file.parameter("SUBJECTS", "USED")?.unsignedIntegers.first ?? names.count
    subjects = Array(names.prefix(used))
    groups = file.groups.map(\.name)
  }

  /// The text summary `kneeforce c3d` prints.
  public func render() -> String {
    var lines: [String] = []
    lines.append("File        \(file)")
    lines.append("Format      \(processor), \(storage) storage (point scale \(Float(point_scale)))")
    lines.append(
      "Points      \(points.count) at \(point_rate_hz) Hz, frames \(first_frame)..."
        + "\(first_frame + frames - 1) (\(frames) frames, \(duration_s) s), unit "
        + "\(points.first?.unit ?? "-")")
    lines.append(
      "Analogs     \(analogs.count) at \(analog_rate_hz) Hz (\(analog_samples_per_frame) per "
        + "frame, \(analog_samples) samples)")
    if !subjects.isEmpty { lines.append("Subjects    \(subjects.joined(separator: ", "))") }
    lines.append("Groups      \(groups.joined(separator: " "))")
    lines.append("")
    lines.append("Point labels")
    lines.append(wrap(points.map { $0.label }))
    lines.append("")
    lines.append("Analog labels (unit)")
    lines.append(wrap(analogs.map { "\($0.label) (\($0.unit.isEmpty ? "-" : $0.unit))" }))
    lines.append("")
    lines.append("Force plates")
    if force_plates.isEmpty { lines.append("  none") }
    for plate in force_plates {
      let centre = (0..<3).map { axis in plate.corners_m.reduce(0) { $0 + $1[axis] } / 4 }
      lines.append(
        "  \(plate.index): type \(plate.type), channels \(plate.channels.joined(separator: " "))"
          + ", centre (\(centre.map { format($0) }.joined(separator: ", "))) m")
    }
    lines.append("")
    lines.append("Events")
    if events.isEmpty { lines.append("  none") }
    for event in events {
      let context = event.context.isEmpty ? "" : "\(event.context) "
      lines.append("  \(format(event.time_s)) s  \(context)\(event.label)  [\(event.source)]")
    }
    return lines.joined(separator: "\n")
  }

  private func wrap(_ items: [String]) -> String {
    var lines: [String] = []
    var line = " "
    for item in items {
      if line.count + item.count + 1 > 96 {
        lines.append(line)
        line = " "
      }
      line += " " + item
    }
    if line != " " || lines.isEmpty { lines.append(line) }
    return lines.joined(separator: "\n")
  }

  private func format(_ value: Double) -> String {
    String(format: "%.4f", value)
  }
}
