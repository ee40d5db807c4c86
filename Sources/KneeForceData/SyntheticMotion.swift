import Foundation

/// The noise-free movement of one synthetic trial: joint angles, ground reaction force and
/// the hidden quantities (pelvis tilt, centre of pressure, muscle timing templates) the
/// mechanical model needs. Right-leg convention, angles in degrees, forces in body weights.
struct SyntheticMotion: Sendable {
  var time: [Double] = []
  var hipFlexion: [Double] = []
  var hipAdduction: [Double] = []
  var kneeFlexion: [Double] = []
  var kneeAdduction: [Double] = []
  var ankleFlexion: [Double] = []
  var pelvisTilt: [Double] = []
  var grfVertical: [Double] = []
  var grfAnterior: [Double] = []
  var grfMedial: [Double] = []
  /// Centre of pressure anterior of the ankle joint centre, m.
  var centreOfPressure: [Double] = []
  var hamstringsTemplate: [Double] = []
  var tibialisTemplate: [Double] = []
  var rectusTemplate: [Double] = []
  /// (event name, time) of the instrumented leg.
  var events: [(String, Double)] = []
  /// Share of the external knee flexion moment the knee extensors balance. In gait the hip
  /// extensors and the biarticular muscles take much of it (0.5); in a squat or a chair rise,
  /// with the trunk over the feet, the quadriceps take nearly all (0.95).
  var extensorShare = 0.5
  /// Per sample, with `--nuisance realistic` only (empty otherwise): the factor on
  /// `extensorShare` of the cycle, and the subject's hidden hamstring co-activation per unit
  /// of quadriceps activation in that cycle (`SubjectMechanics`).
  var extensorShareScale: [Double] = []
  var hiddenCoContraction: [Double] = []
  /// Per sample, `--nuisance realistic` only: the factor on the gastrocnemius share of the
  /// plantarflexor moment (an ankle versus knee strategy of push-off).
  var gastrocnemiusScale: [Double] = []
  /// Per sample, `--nuisance realistic` only: seconds from excitation to force onset, which
  /// no recording shows.
  var electromechanicalDelay: [Double] = []

  mutating func reserve(_ n: Int) {
    for path in [
      \SyntheticMotion.time, \.hipFlexion, \.hipAdduction, \.kneeFlexion, \.kneeAdduction,
      \.ankleFlexion, \.pelvisTilt, \.grfVertical, \.grfAnterior, \.grfMedial,
      \.centreOfPressure, \.hamstringsTemplate, \.tibialisTemplate, \.rectusTemplate,
    ] as [WritableKeyPath<SyntheticMotion, [Double]>] {
      self[keyPath: path].reserveCapacity(n)
    }
  }
}

/// Trial-to-trial variation within a subject: nobody walks the same way twice.
struct TrialVariation: Sendable {
  var speed: Double
  var forceScale: Double
  var angleScale: Double
  var cycleJitter: [Double]
  var startPhase: Double
  var endFraction: Double
  /// With `--nuisance realistic`: per cycle (in the order of the trial's cycle durations),
  /// what changes from one stride to the next. Empty: every cycle as the pattern says.
  var cycles: [CycleVariation] = []

  static func draw(_ rng: inout SeededRandom) -> TrialVariation {
    TrialVariation(
      speed: 1 + rng.normal(0, 0.03), forceScale: 1 + rng.normal(0, 0.03),
      angleScale: 1 + rng.normal(0, 0.04), cycleJitter: (0..<8).map { _ in rng.normal(0, 0.015) },
      startPhase: rng.uniform(0.75, 0.9), endFraction: rng.uniform(0.08, 0.2))
  }
}

/// One stride's departure from the subject's typical stride (`--nuisance realistic`). The
/// timing and ground-reaction parts show in the recorded signals; the muscle parts only in
/// part, through the EMG.
struct CycleVariation: Sendable {
  /// Added to the stance fraction (toe-off timing).
  var stance: Double
  /// Scales the ground reaction force.
  var force: Double
  /// Moves the loading peak within stance (`u - warp * sin(pi u)`, monotonic for small warp).
  var warp: Double
  /// Scale of the extensor share and of the hidden co-contraction in this stride.
  var extensorShare: Double
  var coContraction: Double
  var gastrocnemius: Double
  /// Scales the joint angles (a deeper or a stiffer-kneed stride).
  var angles: Double
  /// Added to the subject's electromechanical delay, s.
  var delay: Double

  static func draw(_ rng: inout SeededRandom, variability: Double) -> CycleVariation {
    // Clamped so that one unlucky draw cannot give a stride no knee would carry.
    CycleVariation(
      stance: rng.normal(0, 0.012), force: 1 + rng.normal(0, 0.035),
      warp: rng.normal(0, 0.04),
      extensorShare: min(max(1 + variability * rng.normal(0, 0.4), 0.55), 1.45),
      coContraction: min(max(1 + variability * rng.normal(0, 0.9), 0.2), 1.8),
      gastrocnemius: min(max(1 + variability * rng.normal(0, 0.45), 0.5), 1.5),
      angles: 1 + rng.normal(0, 0.1), delay: rng.normal(0, 0.03))
  }
}

enum MotionGenerator {
  static func motion(
    _ activity: SyntheticActivity, subject: SyntheticSubject, variation: TrialVariation,
    sampleRate: Double
  ) -> SyntheticMotion {
    if let pattern = GaitPattern.pattern(for: activity) {
      return gait(pattern, subject: subject, variation: variation, sampleRate: sampleRate)
    }
    if activity == .squat {
      return squat(subject: subject, variation: variation, sampleRate: sampleRate)
    }
    return sitToStand(subject: subject, variation: variation, sampleRate: sampleRate)
  }

  /// Consecutive cycles, starting in late swing so that the trial opens and closes away from
  /// a foot strike, as a cut from a longer walk would.
  static func gait(
    _ pattern: GaitPattern, subject: SyntheticSubject, variation: TrialVariation,
    sampleRate: Double
  ) -> SyntheticMotion {
    let speed = subject.speed * variation.speed
    let mechanics = subject.mechanics
    var base = pattern.period / pow(speed, pattern.speedExponent)
    if !variation.cycles.isEmpty { base *= mechanics.periodScale }
    let periods = (0...(pattern.cycles + 1)).map { k in
      base * (1 + variation.cycleJitter[k % variation.cycleJitter.count])
    }
    // Faster walking shortens stance as a share of the cycle; the subject and the stride
    // move it further. Neutral (the pattern's stance) without cycle variations.
    let stances = periods.indices.map { c -> Double in
      guard !variation.cycles.isEmpty else { return pattern.stance }
      let cycle = variation.cycles[c % variation.cycles.count]
      return pattern.stance + mechanics.stanceOffset - 0.08 * (speed - 1) + cycle.stance
    }
    var strikes = [(1 - variation.startPhase) * periods[0]]
    for k in 1...(pattern.cycles + 1) { strikes.append(strikes[k - 1] + periods[k]) }
    let end = strikes[pattern.cycles] + variation.endFraction * periods[pattern.cycles + 1]
    let forceGain = variation.forceScale * (1 + 0.3 * (speed - 1))

    var motion = SyntheticMotion()
    let n = Int((end * sampleRate).rounded(.down)) + 1
    motion.reserve(n)
    var cycle = 0
    for i in 0..<n {
      let t = Double(i) / sampleRate
      while cycle < strikes.count && t >= strikes[cycle] { cycle += 1 }
      let phase: Double
      if cycle == 0 {
        phase = variation.startPhase + t / periods[0]
      } else {
        phase = (t - strikes[cycle - 1]) / periods[min(cycle, periods.count - 1)]
      }
      let p = phase - phase.rounded(.down)
      let c = min(cycle, periods.count - 1)
      let stance = stances[c]
      var scale = variation.angleScale
      if !variation.cycles.isEmpty {
        // Blended towards the next stride's amplitude over the cycle, so that the angles do
        // not jump at foot strike.
        let here = variation.cycles[c % variation.cycles.count].angles
        let next = variation.cycles[(c + 1) % variation.cycles.count].angles
        scale *= here + (next - here) * p
      }
      motion.time.append(t)
      motion.hipFlexion.append(pattern.hipFlexion(p) * scale)
      motion.hipAdduction.append(pattern.hipAdduction(p) * scale)
      motion.kneeFlexion.append(pattern.kneeFlexion(p) * scale)
      motion.kneeAdduction.append(subject.alignmentDeg + pattern.kneeAdduction(p) * scale)
      motion.ankleFlexion.append(pattern.ankleFlexion(p) * scale)
      motion.pelvisTilt.append(pattern.pelvisTilt)
      if let stride = variation.cycles.isEmpty ? nil : variation.cycles[c % variation.cycles.count]
      {
        motion.extensorShareScale.append(mechanics.extensorShareScale * stride.extensorShare)
        motion.hiddenCoContraction.append(mechanics.hiddenCoContraction * stride.coContraction)
        motion.gastrocnemiusScale.append(mechanics.gastrocnemiusScale * stride.gastrocnemius)
        motion.electromechanicalDelay.append(max(0, mechanics.delay + stride.delay))
      }
      if p < stance {
        var u = p / stance
        var gain = forceGain
        if !variation.cycles.isEmpty {
          let stride = variation.cycles[c % variation.cycles.count]
          u -= (stride.warp + mechanics.warp) * sin(Double.pi * u)
          gain *= stride.force * (mechanics.loadingScale * (1 - u) + mechanics.pushOffScale * u)
        }
        motion.grfVertical.append(max(0, pattern.grfVertical(u)) * gain)
        motion.grfAnterior.append(pattern.grfAnterior(u) * gain)
        motion.grfMedial.append(pattern.grfMedial(u) * variation.forceScale)
        motion.centreOfPressure.append(pattern.centreOfPressure(u))
      } else {
        motion.grfVertical.append(0)
        motion.grfAnterior.append(0)
        motion.grfMedial.append(0)
        motion.centreOfPressure.append(0)
      }
      motion.hamstringsTemplate.append(pattern.hamstrings(p))
      motion.tibialisTemplate.append(pattern.tibialis(p))
      motion.rectusTemplate.append(pattern.rectus(p))
    }
    for k in 0...pattern.cycles {
      motion.events.append((GaitEvent.footStrike, strikes[k]))
      let next = min(k + 1, periods.count - 1)
      let off = strikes[k] + stances[next] * periods[next]
      if off < end { motion.events.append((GaitEvent.footOff, off)) }
    }
    return motion
  }

  /// 0 → 1 → 0 with zero slope at both ends, the shape of a smooth voluntary movement.
  static func ease(_ x: Double) -> Double {
    let c = min(max(x, 0), 1)
    return (1 - cos(Double.pi * c)) / 2
  }

  /// A bilateral squat: stand, descend, hold, rise, stand. The leg carries half the body
  /// weight, modulated by the vertical acceleration of the hip.
  static func squat(subject: SyntheticSubject, variation: TrialVariation, sampleRate: Double)
    -> SyntheticMotion
  {
    let speed = subject.speed * variation.speed
    let stand = 0.6
    let move = 1.3 / speed
    let hold = 0.3
    let depth = subject.squatDepthDeg * variation.angleScale
    let end = 2 * stand + 2 * move + hold
    func progress(_ t: Double) -> Double {
      if t < stand { return 0 }
      if t < stand + move { return ease((t - stand) / move) }
      if t < stand + move + hold { return 1 }
      if t < stand + 2 * move + hold { return 1 - ease((t - stand - move - hold) / move) }
      return 0
    }
    return transfer(
      subject: subject, variation: variation, sampleRate: sampleRate, duration: end,
      pose: { t in
        let s = progress(t)
        let knee = 5 + depth * s
        let ankle = 3 + 0.35 * depth * s
        let pelvis = 5 + 0.3 * depth * s
        return Pose(
          knee: knee, ankle: ankle, pelvis: pelvis, hipAdduction: 1 - 4 * s,
          kneeAdduction: 1.5 * s, seat: 0, lean: 0, effort: s)
      })
  }

  /// Sit-to-stand-to-sit from a knee-height chair: the trunk leans forward to move the
  /// centre of mass over the feet, the seat unloads, the legs extend, and the reverse.
  static func sitToStand(
    subject: SyntheticSubject, variation: TrialVariation, sampleRate: Double
  ) -> SyntheticMotion {
    let speed = subject.speed * variation.speed
    let seated = 0.6
    let rise = 1.2 / speed
    let stand = 0.8
    let sit = 1.4 / speed
    let end = 2 * seated + rise + stand + sit
    func state(_ t: Double) -> (stand: Double, lean: Double, seat: Double) {
      let riseStart = seated
      let sitStart = seated + rise + stand
      if t < riseStart { return (0, 0, 1) }
      if t < riseStart + rise {
        let x = (t - riseStart) / rise
        let standing = ease(min(1, max(0, (x - 0.2) / 0.8)))
        let lean = sin(Double.pi * min(1, x / 0.7))
        return (standing, max(0, lean), 1 - ease(min(1, x / 0.3)))
      }
      if t < sitStart { return (1, 0, 0) }
      if t < sitStart + sit {
        let x = (t - sitStart) / sit
        let standing = 1 - ease(min(1, x / 0.85))
        let lean = sin(Double.pi * max(0, (x - 0.3) / 0.7))
        return (standing, max(0, lean), ease(max(0, (x - 0.8) / 0.2)))
      }
      return (0, 0, 1)
    }
    return transfer(
      subject: subject, variation: variation, sampleRate: sampleRate, duration: end,
      pose: { t in
        let s = state(t)
        let knee = (88 - 83 * s.stand) * variation.angleScale
        let ankle = 14 - 10 * s.stand + 6 * s.lean
        return Pose(
          knee: knee, ankle: ankle, pelvis: 10 + 30 * s.lean, hipAdduction: 2 - 2 * s.stand,
          kneeAdduction: 0.5 * s.stand, seat: s.seat, lean: s.lean, effort: 1 - s.stand)
      })
  }

  /// Sagittal pose of a foot-flat movement; the shank angle follows from the ankle, the thigh
  /// from the shank and knee, the hip from the thigh and pelvis.
  struct Pose {
    var knee: Double
    var ankle: Double
    var pelvis: Double
    var hipAdduction: Double
    var kneeAdduction: Double
    /// Share of the body weight resting on the seat (0..1).
    var seat: Double
    /// Forward trunk lean (0..1).
    var lean: Double
    /// How deep in the movement (0 upright .. 1 deepest), for muscle templates.
    var effort: Double
  }

  static func transfer(
    subject: SyntheticSubject, variation: TrialVariation, sampleRate: Double, duration: Double,
    pose: (Double) -> Pose
  ) -> SyntheticMotion {
    let shank = subject.shankLength
    let thigh = 1.05 * shank
    let radians = Double.pi / 180
    func hipHeight(_ t: Double) -> Double {
      let p = pose(t)
      let shankAngle = -p.ankle * radians
      let thighAngle = shankAngle + p.knee * radians
      return shank * cos(shankAngle) + thigh * cos(thighAngle)
    }
    var motion = SyntheticMotion()
    motion.extensorShare = 0.95
    let n = Int((duration * sampleRate).rounded(.down)) + 1
    motion.reserve(n)
    let h = 0.002
    for i in 0..<n {
      let t = Double(i) / sampleRate
      let p = pose(t)
      let acceleration = (hipHeight(t + h) - 2 * hipHeight(t) + hipHeight(t - h)) / (h * h)
      let shankAngle = -p.ankle
      let thighAngle = shankAngle + p.knee
      let legs = 0.5 * (1 + acceleration / 9.81) * variation.forceScale
      let vertical = (1 - p.seat) * legs + p.seat * 0.12 + 0.12 * p.lean * (1 - p.effort)
      motion.time.append(t)
      motion.kneeFlexion.append(p.knee)
      motion.ankleFlexion.append(p.ankle)
      motion.hipFlexion.append(p.pelvis + thighAngle)
      motion.hipAdduction.append(p.hipAdduction)
      motion.kneeAdduction.append(subject.alignmentDeg + p.kneeAdduction)
      motion.pelvisTilt.append(p.pelvis)
      motion.grfVertical.append(max(0, vertical))
      motion.grfAnterior.append(-0.03 * p.lean + 0.015 * sin(Double.pi * p.effort))
      motion.grfMedial.append(0.02 + 0.02 * p.effort)
      motion.centreOfPressure.append(0.04 + 0.03 * p.lean)
      motion.hamstringsTemplate.append(0.06 + 0.08 * p.effort + 0.15 * p.lean)
      motion.tibialisTemplate.append(0.1 + 0.25 * p.effort + 0.2 * p.lean)
      motion.rectusTemplate.append(0.03 + 0.05 * p.lean)
      if let stride = variation.cycles.first {
        motion.hiddenCoContraction.append(
          subject.mechanics.hiddenCoContraction * stride.coContraction)
      }
    }
    return motion
  }
}
