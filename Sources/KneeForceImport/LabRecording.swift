import Foundation
import KneeForceData

/// One trial as the importers read it, before the common processing: markers on the trial
/// clock (the marker frames), plates and raw EMG at their own times, targets on the clock.
public struct LabRecording: Sendable {
  public var name: String
  /// Marker frame times, s: the clock every channel of the trial is put on.
  public var clock: [Double]
  public var markers: MarkerTrajectories
  public var plates: [PlateRecording]
  /// Raw EMG: standard muscle name, sample times, values.
  public var emg: [(muscle: String, times: [Double], values: [Double])]
  /// `kcf.*` on the clock, N; NaN outside the force recording.
  public var targets: [(channel: String, values: [Double])]
  /// Events from the file (foot_strike, foot_off of the instrumented leg); nil: from GRF.
  public var events: [(event: String, time: Double)]?

  public init(
    name: String, clock: [Double], markers: MarkerTrajectories, plates: [PlateRecording],
    emg: [(muscle: String, times: [Double], values: [Double])],
    targets: [(channel: String, values: [Double])],
    events: [(event: String, time: Double)]? = nil
  ) {
    self.name = name
    self.clock = clock
    self.markers = markers
    self.plates = plates
    self.emg = emg
    self.targets = targets
    self.events = events
  }
}

/// The common processing (docs/IMPORT.md): marker smoothing, segment frames and joint
/// angles, plate choice per stance, GRF in the standard signs, EMG envelopes, events, and
/// trimming to the span where the targets are measured.
public struct TrialBuilder: Sendable {
  public var mapping: MarkerMapping?
  public var side: Side
  /// Segment frames of a static trial (technical, unaligned): every joint is re-zeroed at
  /// its mean pose, after the static frames are turned onto this trial's functional axes.
  public var staticFrames: [[SegmentFrame?]]?
  public var markerCutoffHz = 6.0
  public var forceCutoffHz = 20.0
  public var stance = StanceDetection()
  public var envelope = EMGEnvelope()

  public init(mapping: MarkerMapping?, side: Side, staticFrames: [[SegmentFrame?]]? = nil) {
    self.mapping = mapping
    self.side = side
    self.staticFrames = staticFrames
  }

  public struct Built: Sendable {
    public var time: [Double]
    public var channels: [String]
    public var values: [[Double]]
    public var events: [(event: String, time: Double)]
  }

  /// Markers gap-filled and low-passed, on the clock.
  func smooth(_ markers: MarkerTrajectories, rate: Double, log: ImportLog, trial: String)
    throws -> MarkerTrajectories
  {
    var out: MarkerTrajectories = [:]
    let filter = try Butterworth(cutoffHz: min(markerCutoffHz, 0.45 * rate), sampleRateHz: rate)
    var longest = 0
    let mapped = Set(
      (MarkerMapping.requiredRoles).compactMap { role in
        mapping?[role].flatMap { name in
          markers.keys.first { $0 == name }
            ?? markers.keys.first { key in
              mapping?.resolve(role, in: [key: []]) != nil
            }
        }
      })
    for (name, track) in markers {
      var axes = (0..<3).map { a in track.map { $0[a] } }
      for a in 0..<3 {
        let gap = Resampling.fillGaps(&axes[a])
        if mapped.contains(name) { longest = max(longest, gap) }
        if axes[a].allSatisfy({ $0.isFinite }) { axes[a] = filter.filtfilt(axes[a]) }
      }
      out[name] = (0..<track.count).map { Vec3(axes[0][$0], axes[1][$0], axes[2][$0]) }
    }
    if longest > Int(0.1 * rate) {
      log.warn(
        "\(trial): a marker gap of \(longest) frames was filled by linear interpolation")
    }
    return out
  }

  /// The span of clock samples where every marker of a required role is seen: leading and
  /// trailing frames without them (a marker not yet tracked) are cut, not extrapolated.
  func markerSpan(_ recording: LabRecording) throws -> Range<Int> {
    guard let mapping else { return 0..<recording.clock.count }
    var tracks: [[Vec3]] = []
    for role in MarkerMapping.requiredRoles {
      guard let t = mapping.resolve(role, in: recording.markers) else {
        throw ImportError(
          "marker mapping", "", "marker \(mapping[role] ?? "?") (role \(role)) is not in the trial")
      }
      tracks.append(t)
    }
    let seen = recording.clock.indices.map { i in tracks.allSatisfy { $0[i].x.isFinite } }
    guard let first = seen.firstIndex(of: true), let last = seen.lastIndex(of: true) else {
      throw ImportError(recording.name, "", "no frame shows every marker of the mapping")
    }
    return first..<(last + 1)
  }

  public func build(_ original: LabRecording, log: ImportLog) throws -> Built {
    var recording = original
    let span = try markerSpan(original)
    if span != 0..<original.clock.count {
      recording.clock = Array(original.clock[span])
      recording.markers = original.markers.mapValues { Array($0[span]) }
      recording.targets = original.targets.map { ($0.channel, Array($0.values[span])) }
      log.note(
        "\(original.name): frames \(span.lowerBound + 1)-\(span.upperBound) of "
          + "\(original.clock.count) kept: outside them a marker of the mapping is not tracked")
    }
    let clock = recording.clock
    guard clock.count > 2 else {
      throw ImportError(recording.name, "", "fewer than 3 marker frames")
    }
    let rate = Double(clock.count - 1) / (clock[clock.count - 1] - clock[0])
    let trial = recording.name
    var channels: [String] = []
    var values: [[Double]] = []

    // Kinematics.
    let markers = try smooth(recording.markers, rate: rate, log: log, trial: trial)
    var forwardSum = Vec3(0, 0, 0)
    var rightSum = Vec3(0, 0, 0)
    if let mapping {
      var frames = try JointAngles.frames(markers, mapping: mapping, isLeft: side == .left)
      var calibration: [[[Double]]]?
      let axes = JointAngles.alignToFunctionalKneeAxis(&frames)
      if let (thighAxis, _) = axes {
        log.note(
          "\(trial): knee flexion axis found from the motion (thigh technical frame "
            + String(format: "%.3f, %.3f, %.3f", thighAxis.x, thighAxis.y, thighAxis.z)
            + "); thigh and shank frames turned onto it")
      } else {
        log.note("\(trial): the knee moves too little for a functional axis; technical frames used")
      }
      if var still = staticFrames {
        if let (thighAxis, shankAxis) = axes {
          JointAngles.align(&still, thighAxis: thighAxis, shankAxis: shankAxis)
        }
        calibration = JointAngles.calibration(still)
      }
      var angles = JointAngles.angles(frames, calibration: calibration)
      Mirroring.mirrorAngles(JointAngles.channels, &angles, side: side)
      channels += JointAngles.channels
      values += angles
      for f in frames { if let p = f[0] { forwardSum += p.x; rightSum += p.z } }
    }

    // Ground reaction force of the instrumented leg.
    var bodyForces = recording.plates.map { plate -> [Vec3] in
      (0..<3).map { a -> [Double] in
        var x = plate.force.map { $0[a] }
        Resampling.fillGaps(&x)
        let plateRate = Double(plate.times.count - 1) / (plate.times.last! - plate.times[0])
        if let f = try? Butterworth(
          cutoffHz: min(forceCutoffHz, 0.45 * plateRate), sampleRateHz: plateRate)
        {
          x = f.filtfilt(x)
        }
        return Resampling.interpolate(times: plate.times, values: x, at: clock, tolerance: 1e-6)
      }.transposedVec3()
    }
    // Up: the lab axis from the feet to the pelvis where the markers show it, else the mean
    // force's direction.
    var up: Vec3?
    if let mapping,
      let pelvis = mapping.resolve("pelvis_right_asis", in: markers),
      let heel = mapping.resolve("foot_heel", in: markers)
    {
      var sum = Vec3(0, 0, 0)
      for (p, h) in zip(pelvis, heel) where p.x.isFinite && h.x.isFinite { sum += p - h }
      // Snapped to the nearest lab axis: every lab has a vertical axis, and the pelvis-heel
      // line leans with the stride.
      if let u = unit(sum) {
        let axis = (0..<3).max { abs(u[$0]) < abs(u[$1]) }!
        var snapped = Vec3(0, 0, 0)
        snapped[axis] = u[axis] < 0 ? -1 : 1
        up = snapped
      }
    }
    if up == nil {
      var total = Vec3(0, 0, 0)
      for plate in bodyForces {
        for f in plate where f.x.isFinite && dot(f, f) > 2500 { total += f }
      }
      up = unit(total)
    }
    // A plate whose loaded samples push down gives the force on the plate: turned round.
    for p in bodyForces.indices {
      guard let up else { break }
      let loaded = bodyForces[p].filter { $0.x.isFinite && dot($0, $0) > 2500 }
      guard !loaded.isEmpty else { continue }
      if loaded.reduce(0, { $0 + dot($1, up) }) < 0 {
        bodyForces[p] = bodyForces[p].map { -$0 }
        log.note(
          "\(trial): \(recording.plates[p].label) gives the force on the plate; turned into the "
            + "reaction on the body")
      }
    }
    var grfEvents: [(event: String, time: Double)] = []
    if let up, bodyForces.contains(where: { $0.contains { $0.x.isFinite && dot($0, $0) > 2500 } }) {
      let forward =
        unit(forwardSum - dot(forwardSum, up) * up)
        ?? unit(cross(up, rightSum)) ?? Vec3(1, 0, 0)
      let right = cross(forward, up)
      let medial = Mirroring.medial(right: right, side: side)
      let cops = recording.plates.map { plate in
        (0..<3).map { a in
          Resampling.interpolate(
            times: plate.times, values: plate.cop.map { $0[a] }, at: clock, tolerance: 1e-6)
        }.transposedVec3()
      }
      let verticals = bodyForces.map { $0.map { dot($0, up) } }
      func footCentre(_ heel: String, _ toe: String) -> [Vec3]? {
        guard let h = mapping?.resolve(heel, in: markers),
          let t = mapping?.resolve(toe, in: markers)
        else { return nil }
        return zip(h, t).map { ($0 + $1) / 2 }
      }
      let stances = stance.stances(
        verticals: verticals, cops: cops, up: up, rate: rate,
        foot: footCentre("foot_heel", "foot_toe"),
        otherFoot: footCentre("contralateral_heel", "contralateral_toe"))
      var force = [Vec3](repeating: Vec3(0, 0, 0), count: clock.count)
      var copWeighted = [Vec3](repeating: Vec3(0, 0, 0), count: clock.count)
      var contact = [Bool](repeating: false, count: clock.count)
      var used: [String] = []
      for s in stances where s.instrumented {
        used.append(
          "\(recording.plates[s.plate].label) \(String(format: "%.3f", clock[s.range.lowerBound]))-"
            + "\(String(format: "%.3f", clock[s.range.upperBound - 1])) s")
        for i in s.range {
          let f = bodyForces[s.plate][i]
          force[i] += f
          let v = max(dot(f, up), 0)
          if cops[s.plate][i].x.isFinite { copWeighted[i] += v * cops[s.plate][i] }
          contact[i] = true
        }
      }
      let others = stances.filter { !$0.instrumented }.count
      log.note(
        "\(trial): instrumented-leg stances: \(used.isEmpty ? "none" : used.joined(separator: "; "))"
          + (others > 0 ? "; \(others) stance(s) of the other foot left out" : ""))
      channels += ["grf.vertical", "grf.anterior", "grf.medial"]
      values.append(force.map { dot($0, up) })
      values.append(force.map { dot($0, forward) })
      values.append(force.map { dot($0, medial) })
      let ankle = (
        mapping?.resolve("ankle_lateral", in: markers),
        mapping?.resolve("ankle_medial", in: markers)
      )
      if ankle.0 == nil || ankle.1 == nil {
        log.note(
          "\(trial): grf.cop_anterior, grf.cop_medial omitted: the markers do not locate the "
            + "ankle joint centre (roles ankle_lateral, ankle_medial)")
      }
      if let lateral = ankle.0, let medialMarker = ankle.1 {
        var copAnterior = [Double](repeating: 0, count: clock.count)
        var copMedial = [Double](repeating: 0, count: clock.count)
        for i in 0..<clock.count where contact[i] {
          let v = dot(force[i], up)
          guard v > stance.thresholdN else { continue }
          let ajc = (lateral[i] + medialMarker[i]) / 2
          let d = copWeighted[i] / v - ajc
          copAnterior[i] = dot(d, forward)
          copMedial[i] = dot(d, medial)
        }
        channels += ["grf.cop_anterior", "grf.cop_medial"]
        values += [copAnterior, copMedial]
      }
      // Events from the instrumented leg's vertical force.
      let vertical = force.map { dot($0, up) }
      for run in stance.runs(vertical, rate: rate) {
        if run.lowerBound > 0 { grfEvents.append((GaitEvent.footStrike, clock[run.lowerBound])) }
        if run.upperBound < clock.count {
          grfEvents.append((GaitEvent.footOff, clock[run.upperBound]))
        }
      }
    } else if !recording.plates.isEmpty {
      log.warn("\(trial): the plates never carry more than 50 N; grf.* left out")
    }

    // EMG envelopes, not yet normalised.
    for emg in recording.emg {
      guard emg.times.count > 2 else { continue }
      let emgRate = Double(emg.times.count - 1) / (emg.times.last! - emg.times[0])
      let env = try envelope.envelope(emg.values, rate: emgRate)
      channels.append("emg." + emg.muscle)
      values.append(
        Resampling.interpolate(times: emg.times, values: env, at: clock, tolerance: 1e-6))
    }

    // Targets.
    for target in recording.targets {
      channels.append(target.channel)
      values.append(target.values)
    }

    // Trim to the samples where every target is measured.
    var keep = 0..<clock.count
    let targetColumns = recording.targets.map(\.values)
    if !targetColumns.isEmpty {
      let valid = (0..<clock.count).map { i in targetColumns.allSatisfy { $0[i].isFinite } }
      guard let first = valid.firstIndex(of: true), let last = valid.lastIndex(of: true) else {
        throw ImportError(trial, "", "the contact forces do not overlap the marker frames")
      }
      keep = first..<(last + 1)
    }
    let time = Array(clock[keep])
    values = values.map { Array($0[keep]) }
    let events =
      (recording.events ?? grfEvents).filter {
        $0.time >= time[0] && $0.time <= time[time.count - 1]
      }
    return Built(time: time, channels: channels, values: values, events: events)
  }
}

extension Array where Element == [Double] {
  /// Three equally long axis arrays as one array of vectors.
  func transposedVec3() -> [Vec3] {
    (0..<self[0].count).map { Vec3(self[0][$0], self[1][$0], self[2][$0]) }
  }
}
