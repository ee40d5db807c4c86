import Foundation
import KneeForceData

/// The gait events `AlignedCurve` aligns on, found in each sequence's own vertical ground
/// reaction force (`--aligned-events`, `aligned_events` in sweep.json).
public enum AlignedEvents: String, Codable, Sendable, CaseIterable {
  /// Toe-off only: enough for gait cycles (foot strike to foot strike), whose heel strikes
  /// are the sequence ends.
  case toeOff = "toe_off"
  case heelStrike = "heel_strike"
  /// Toe-off and heel strike, for sequences that hold several steps (whole-trial
  /// segmentation of a walking trial).
  case toeOffHeelStrike = "toe_off,heel_strike"
  /// No alignment: `aligned_curve` is then the plain mean curve.
  case none

  public static let `default` = AlignedEvents.toeOff

  /// A comma-separated list of `toe_off`, `heel_strike` (any order), or `none`.
  public init?(argument: String) {
    let names = Set(argument.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    switch names {
    case ["toe_off"]: self = .toeOff
    case ["heel_strike"]: self = .heelStrike
    case ["toe_off", "heel_strike"]: self = .toeOffHeelStrike
    case ["none"]: self = .none
    default: return nil
    }
  }

  var kinds: Set<GaitPhaseEvent.Kind> {
    switch self {
    case .toeOff: return [.toeOff]
    case .heelStrike: return [.heelStrike]
    case .toeOffHeelStrike: return [.toeOff, .heelStrike]
    case .none: return []
    }
  }
}

/// A gait event at a fractional time step of a sequence.
public struct GaitPhaseEvent: Equatable, Sendable {
  public enum Kind: String, Sendable, Hashable {
    case toeOff = "toe_off", heelStrike = "heel_strike"
  }
  public var kind: Kind
  /// Steps from the sequence's first sample, between two samples where the force crosses
  /// the threshold (linear interpolation), so that alignment is finer than one step.
  public var step: Double
}

/// The training subjects' mean curve per activity and target, time-warped to each predicted
/// sequence's own gait events: what a model gets from knowing only when the foot leaves and
/// touches the ground, which the vertical GRF gives a new patient for free.
///
/// Fit: per activity, the event pattern (kinds in order) most training sequences share is the
/// template's; each of those sequences is warped piecewise linearly so that its events land
/// on the pattern's mean event steps (first and last steps fixed), and the warped curves are
/// averaged. Predict: the template warped so its events land on the sequence's own events.
/// A sequence whose events do not match its activity's pattern (squat, sit-to-stand, no
/// stance found, a different number of steps) or whose activity has no template gets the
/// plain mean curve of its activity (of every activity where the training subjects lack
/// it) — exactly the `mean_curve` baseline. With `AlignedEvents.none` every sequence does.
///
/// It reads the predicted sequences' inputs (`grf.vertical`, in BW) and never their targets;
/// without a `grf.vertical` input there are no events and it is the plain mean curve.
public struct AlignedCurve: Sendable {
  /// vGRF below this (BW) is swing: well above force-plate noise in swing, well below any
  /// stance force of a loaded foot.
  public static let thresholdBW: Float = 0.03
  /// Steps the force must stay on the new side of the threshold (and must have stayed on the
  /// old side) for a crossing to count, so that noise around the threshold or a one-sample
  /// dip in stance is not an event. In steps, not seconds: 3 % of a 101-step cycle.
  public static let holdSteps = 3

  public let events: AlignedEvents
  public let length: Int
  /// Plain mean curves `[T][3]` by activity, `*` for all activities.
  let means: [String: [Float]]
  /// Warped templates by activity: event pattern, mean event steps and curve `[T][3]`.
  let templates: [String: Template]

  typealias Template = (pattern: [GaitPhaseEvent.Kind], steps: [Double], curve: [Float])

  /// Fits on the sequences of `set` at `training`.
  public init(sequences set: SequenceSet, training: [Int], events: AlignedEvents = .default)
    throws
  {
    let training = training.filter { $0 >= 0 && $0 < set.count }
    guard !training.isEmpty else {
      throw ExperimentError("aligned curve: no training sequences to fit")
    }
    self.events = events
    length = set.length
    let width = set.targetWidth
    let stride = set.length * width
    var sums: [String: [Double]] = [:]
    var counts: [String: Int] = [:]
    for i in training {
      for key in [set.activities[i], "*"] {
        var sum = sums[key] ?? [Double](repeating: 0, count: stride)
        for k in 0..<stride { sum[k] += Double(set.targets[i * stride + k]) }
        sums[key] = sum
        counts[key, default: 0] += 1
      }
    }
    var means: [String: [Float]] = [:]
    for (key, sum) in sums {
      let n = Double(counts[key] ?? 1)
      means[key] = sum.map { Float($0 / n) }
    }
    self.means = means
    templates = AlignedCurve.templates(set, training, kinds: events.kinds)
  }

  /// The template of each activity of the training sequences that has events of `kinds`.
  static func templates(_ set: SequenceSet, _ training: [Int], kinds: Set<GaitPhaseEvent.Kind>)
    -> [String: Template]
  {
    let width = set.targetWidth
    let stride = set.length * width
    var templates: [String: Template] = [:]
    var found: [String: [(index: Int, events: [GaitPhaseEvent])]] = [:]
    for i in training {
      let e = AlignedCurve.events(in: set, i, kinds: kinds)
      if !e.isEmpty { found[set.activities[i], default: []].append((i, e)) }
    }
    for (activity, list) in found {
      var tally: [[GaitPhaseEvent.Kind]: Int] = [:]
      func name(_ pattern: [GaitPhaseEvent.Kind]) -> String {
        pattern.map(\.rawValue).joined(separator: ",")
      }
      for item in list { tally[item.events.map(\.kind), default: 0] += 1 }
      // The most common pattern; among equals the one with more events, then by name, so the
      // choice does not depend on dictionary order.
      guard
        let pattern = tally.max(by: {
          ($0.value, $0.key.count, name($1.key)) < ($1.value, $1.key.count, name($0.key))
        })?.key
      else { continue }
      let members = list.filter { $0.events.map(\.kind) == pattern }
      var steps = [Double](repeating: 0, count: pattern.count)
      for m in members { for (k, e) in m.events.enumerated() { steps[k] += e.step } }
      steps = steps.map { $0 / Double(members.count) }
      let knots = AlignedCurve.knots(steps, length: set.length)
      var sum = [Double](repeating: 0, count: stride)
      for m in members {
        let curve = Array(set.targets[(m.index * stride)..<((m.index + 1) * stride)])
        let warped = AlignedCurve.warp(
          curve, width: width, from: AlignedCurve.knots(m.events.map(\.step), length: set.length),
          to: knots)
        for k in 0..<stride { sum[k] += Double(warped[k]) }
      }
      templates[activity] = (pattern, steps, sum.map { Float($0 / Double(members.count)) })
    }
    return templates
  }

  /// Predictions `[indices.count][T][3]` (BW) for the sequences of `set` at `indices`, from
  /// their inputs only.
  public func predict(_ set: SequenceSet, _ indices: [Int]) -> [Float] {
    var out: [Float] = []
    out.reserveCapacity(indices.count * length * set.targetWidth)
    for i in indices {
      out += prediction(set, i)
    }
    return out
  }

  func prediction(_ set: SequenceSet, _ i: Int) -> [Float] {
    let activity = set.activities[i]
    let plain = means[activity] ?? means["*"] ?? []
    guard let template = templates[activity], set.length == length else { return plain }
    let own = AlignedCurve.events(in: set, i, kinds: events.kinds)
    guard own.map(\.kind) == template.pattern else { return plain }
    return AlignedCurve.warp(
      template.curve, width: set.targetWidth,
      from: AlignedCurve.knots(template.steps, length: length),
      to: AlignedCurve.knots(own.map(\.step), length: length))
  }

  /// The events of `kinds` in sequence `i`'s `grf.vertical` input (none without one).
  public static func events(in set: SequenceSet, _ i: Int, kinds: Set<GaitPhaseEvent.Kind>)
    -> [GaitPhaseEvent]
  {
    guard !kinds.isEmpty, let c = set.inputChannels.firstIndex(of: "grf.vertical") else {
      return []
    }
    let width = set.inputWidth
    let base = i * set.length * width
    let vertical = (0..<set.length).map { set.inputs[base + $0 * width + c] }
    return events(vertical: vertical).filter { kinds.contains($0.kind) }
  }

  /// Toe-offs (stance to swing) and heel strikes (swing to stance) of a vertical GRF in BW:
  /// crossings of `thresholdBW` after at least `holdSteps` steps on the old side and followed
  /// by at least `holdSteps` on the new one. A crossing too close to either end is not an
  /// event: a gait cycle's own heel strikes sit at its ends.
  public static func events(vertical v: [Float]) -> [GaitPhaseEvent] {
    guard v.count > 2 * holdSteps else { return [] }
    func stance(_ t: Int) -> Bool { v[t] >= thresholdBW }
    var out: [GaitPhaseEvent] = []
    var state = stance(0)
    var runStart = 0
    var t = 1
    while t < v.count {
      let side = stance(t)
      guard side != state else {
        t += 1
        continue
      }
      guard t + holdSteps <= v.count, (t..<(t + holdSteps)).allSatisfy({ stance($0) == side })
      else {
        t += 1
        continue
      }
      // v[t - 1] is on the old side: an earlier start of the new run would have been taken.
      if t - runStart >= holdSteps {
        let a = Double(v[t - 1]) - Double(thresholdBW)
        let b = Double(v[t]) - Double(thresholdBW)
        let fraction = a == b ? 0.5 : a / (a - b)
        out.append(
          GaitPhaseEvent(kind: side ? .heelStrike : .toeOff, step: Double(t - 1) + fraction))
      }
      state = side
      runStart = t
      t += holdSteps
    }
    return out
  }

  static func knots(_ steps: [Double], length: Int) -> [Double] {
    [0] + steps + [Double(length - 1)]
  }

  /// `curve` (`[T][width]`) resampled so that step `to[k]` of the result is step `from[k]` of
  /// `curve`, linear between knots and between samples. Both knot lists increase strictly.
  static func warp(_ curve: [Float], width: Int, from: [Double], to: [Double]) -> [Float] {
    let length = curve.count / width
    var out = [Float](repeating: 0, count: curve.count)
    var segment = 0
    for t in 0..<length {
      let x = Double(t)
      while segment < to.count - 2, x > to[segment + 1] { segment += 1 }
      let span = to[segment + 1] - to[segment]
      let u = span > 0 ? (x - to[segment]) / span : 0
      let source = min(
        max(from[segment] + u * (from[segment + 1] - from[segment]), 0), Double(length - 1))
      let lower = min(Int(source), length - 2)
      let w = source - Double(lower)
      for c in 0..<width {
        let a = Double(curve[lower * width + c])
        let b = Double(curve[(lower + 1) * width + c])
        out[t * width + c] = Float(a + w * (b - a))
      }
    }
    return out
  }
}

/// A fitted curve is stored in checkpoints (`CheckpointMetadata.baseCurves`) so that
/// `predict` can add a residual network's base back for a new patient: the means, the
/// templates and their event patterns, as JSON.
extension AlignedCurve: Codable {
  struct StoredTemplate: Codable {
    var activity: String
    var pattern: [String]
    var steps: [Double]
    var curve: [Float]
  }

  enum CodingKeys: String, CodingKey {
    case events, length, means, templates
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    events = try c.decode(AlignedEvents.self, forKey: .events)
    length = try c.decode(Int.self, forKey: .length)
    means = try c.decode([String: [Float]].self, forKey: .means)
    var templates: [String: Template] = [:]
    for t in try c.decode([StoredTemplate].self, forKey: .templates) {
      let pattern = try t.pattern.map { name -> GaitPhaseEvent.Kind in
        guard let kind = GaitPhaseEvent.Kind(rawValue: name) else {
          throw DecodingError.dataCorruptedError(
            forKey: .templates, in: c, debugDescription: "unknown gait event '\(name)'")
        }
        return kind
      }
      guard pattern.count == t.steps.count, t.curve.count == length * 3 else {
        throw DecodingError.dataCorruptedError(
          forKey: .templates, in: c,
          debugDescription: "template of \(t.activity): \(pattern.count) events, "
            + "\(t.steps.count) steps, \(t.curve.count) values for \(length) x 3")
      }
      templates[t.activity] = (pattern, t.steps, t.curve)
    }
    self.templates = templates
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(events, forKey: .events)
    try c.encode(length, forKey: .length)
    try c.encode(means, forKey: .means)
    try c.encode(
      templates.keys.sorted().map { key in
        let t = templates[key]!
        return StoredTemplate(
          activity: key, pattern: t.pattern.map(\.rawValue), steps: t.steps, curve: t.curve)
      }, forKey: .templates)
  }
}
