import Foundation

/// The mechanical model behind the synthetic targets (documented in
/// docs/SYNTHETIC_COHORT.md). It is deliberately simple but causal: muscle forces follow the
/// EMG envelopes through activation dynamics and force-length-velocity factors, and the
/// contact force is the sum of their axial components and the ground reaction force's, so
/// that a model must learn mechanics rather than a template.
enum KneeLoadModel {
  /// EMG channels in the order the cohort writes them (the CAMS-Knee muscles of one leg).
  static let muscles = [
    "rectus_femoris", "vastus_medialis", "vastus_lateralis", "tibialis_anterior",
    "hamstrings_medial", "hamstrings_lateral", "gastrocnemius_medial", "gastrocnemius_lateral",
  ]

  /// Maximal isometric forces at strength 1, body weights, same order as `muscles` (the
  /// tibialis anterior does not cross the knee).
  static let maximalForce: [Double] = [1.0, 1.4, 1.6, 0, 1.0, 0.9, 1.5, 1.0]
  static let quadricepsMax = 4.0
  static let hamstringsMax = 1.9
  static let gastrocnemiusMax = 2.5

  /// Patellar tendon and Achilles tendon moment arms are in the functions below; this is the
  /// ankle joint height above the floor, m.
  static let ankleHeight = 0.08
  static let achillesMomentArm = 0.05
  /// Distance between the medial and lateral contact points, m (a documented parameter of
  /// the medial/lateral split, as in instrumented-implant analyses).
  static let condylarDistance = 0.045
  /// Smoothness of the condylar lift-off clamp, body weights.
  static let liftOffSmoothing = 0.05

  // MARK: Muscle mechanics (angles in degrees, velocities in degrees per second)

  static func quadricepsForceLength(_ knee: Double) -> Double {
    0.55 + 0.45 * exp(-pow((knee - 65) / 45, 2))
  }

  static func hamstringsForceLength(_ knee: Double) -> Double {
    0.6 + 0.4 * exp(-pow((knee - 30) / 50, 2))
  }

  static func gastrocnemiusForceLength(ankle: Double, knee: Double) -> Double {
    0.5 + 0.5 * exp(-pow((ankle - 0.3 * knee - 5) / 20, 2))
  }

  /// Lengthening (eccentric) muscles produce more force for the same activation.
  static func forceVelocity(lengtheningRate: Double) -> Double {
    1 + 0.25 * tanh(lengtheningRate / 150)
  }

  static func patellarMomentArm(_ knee: Double) -> Double {
    0.035 + 0.015 * exp(-pow((knee - 25) / 40, 2))
  }

  /// Patellar tendon force per unit quadriceps force (the patella's lever ratio).
  static func patellarRatio(_ knee: Double) -> Double {
    1 - 0.3 * min(max(knee, 0), 100) / 100
  }

  /// Angle of the patellar tendon to the tibial axis, degrees: anterior pull near extension.
  static func patellarTendonAngle(_ knee: Double) -> Double { 18 - 0.28 * knee }

  static func hamstringsAngle(_ knee: Double) -> Double { 8 + 0.55 * knee }

  /// `x / (1 + x^6)^(1/6)`: linear for small drives, saturating at full activation.
  static func saturate(_ x: Double) -> Double {
    guard x > 0 else { return 0 }
    return x / pow(1 + pow(x, 6), 1.0 / 6)
  }

  static func softPositive(_ x: Double) -> Double {
    let s = liftOffSmoothing
    if x > 20 * s { return x }
    return s * log1p(exp(x / s))
  }

  static func derivative(_ values: [Double], sampleRate: Double) -> [Double] {
    let n = values.count
    guard n > 1 else { return [Double](repeating: 0, count: n) }
    var out = [Double](repeating: 0, count: n)
    for i in 0..<n {
      let lo = max(i - 1, 0)
      let hi = min(i + 1, n - 1)
      out[i] = (values[hi] - values[lo]) * sampleRate / Double(hi - lo)
    }
    return out
  }

  // MARK: Excitations

  /// The EMG envelopes (0..1, true, before any recording effect) a subject produces for a
  /// motion: extensor and plantarflexor drive follow the external knee and ankle moments the
  /// ground reaction force creates, hamstrings add a timing template and co-contraction.
  /// `recorded`: what the electrodes pick up. Of the stride's extensor and gastrocnemius
  /// shares and hidden co-contraction (`SyntheticMotion`, `--nuisance realistic`) they carry
  /// only the subject's `SubjectMechanics.emgVisibility`: envelopes are noisy, the deep heads
  /// and synergists unrecorded.
  static func excitations(
    _ motion: SyntheticMotion, subject: SyntheticSubject, sampleRate: Double,
    recorded: Bool = false
  ) -> [[Double]] {
    let n = motion.time.count
    var emg = [[Double]](repeating: [Double](repeating: 0, count: n), count: muscles.count)
    let kneeRate = derivative(motion.kneeFlexion, sampleRate: sampleRate)
    let ankleRate = derivative(motion.ankleFlexion, sampleRate: sampleRate)
    let radians = Double.pi / 180
    let shank = subject.shankLength
    let bias = subject.medialBias
    let shareScale = motion.extensorShareScale.count == n ? motion.extensorShareScale : nil
    let hidden = motion.hiddenCoContraction.count == n ? motion.hiddenCoContraction : nil
    let gastrocnemiusScale = motion.gastrocnemiusScale.count == n ? motion.gastrocnemiusScale : nil
    let visibility = recorded ? subject.mechanics.emgVisibility : 1
    func seen(_ scale: Double?) -> Double {
      guard let scale else { return 1 }
      return recorded ? pow(scale, visibility) : scale
    }
    for i in 0..<n {
      let knee = motion.kneeFlexion[i]
      let ankle = motion.ankleFlexion[i]
      let shankAngle = (motion.hipFlexion[i] - motion.pelvisTilt[i] - knee) * radians
      let vertical = motion.grfVertical[i]
      let anterior = motion.grfAnterior[i]
      let cop = motion.centreOfPressure[i]
      let kneeMoment =
        -(shank * sin(shankAngle) + cop) * vertical
        - (shank * cos(shankAngle) + ankleHeight) * anterior
      let ankleMoment = cop * vertical + ankleHeight * anterior

      let extensorShare = motion.extensorShare * seen(shareScale?[i])
      let quadricepsNeeded = extensorShare * max(0, kneeMoment) / patellarMomentArm(knee)
      let quadricepsCapacity =
        quadricepsMax * subject.strength * quadricepsForceLength(knee)
        * forceVelocity(lengtheningRate: kneeRate[i])
      let q = quadricepsNeeded / quadricepsCapacity

      let flexorNeeded = extensorShare * max(0, -kneeMoment) / 0.04
      let hamstringsCapacity =
        hamstringsMax * subject.strength * hamstringsForceLength(knee)
        * forceVelocity(lengtheningRate: -kneeRate[i])
      var h =
        motion.hamstringsTemplate[i] + subject.coContraction * q
        + 0.5 * flexorNeeded / hamstringsCapacity
      if let hidden { h += visibility * hidden[i] * q }

      let gastrocnemiusNeeded =
        subject.gastrocnemiusShare * seen(gastrocnemiusScale?[i]) * max(0, ankleMoment)
        / achillesMomentArm
      let gastrocnemiusCapacity =
        gastrocnemiusMax * subject.strength
        * gastrocnemiusForceLength(ankle: ankle, knee: knee)
        * forceVelocity(lengtheningRate: ankleRate[i] - 0.5 * kneeRate[i])
      let g =
        gastrocnemiusNeeded / gastrocnemiusCapacity + 0.5 * flexorNeeded
        / hamstringsCapacity * 0.3

      emg[0][i] = saturate(0.8 * q + motion.rectusTemplate[i])
      emg[1][i] = saturate(q * (1 + bias.vasti))
      emg[2][i] = saturate(q * (1 - bias.vasti))
      emg[3][i] = saturate(motion.tibialisTemplate[i] + 0.2 * subject.coContraction * q)
      emg[4][i] = saturate(h * (1 + bias.hamstrings))
      emg[5][i] = saturate(h * (1 - bias.hamstrings))
      emg[6][i] = saturate(0.02 + g * (1 + bias.gastrocnemii))
      emg[7][i] = saturate(0.02 + g * (1 - bias.gastrocnemii))
    }
    return emg
  }

  // MARK: Contact forces

  /// Medial, lateral and total tibiofemoral contact force in body weights.
  struct Loads {
    var medial: [Double]
    var lateral: [Double]
    var total: [Double]
  }

  /// The contact forces a subject's knee carries for a motion and the (true) EMG envelopes.
  static func contactForces(
    _ motion: SyntheticMotion, emg: [[Double]], subject: SyntheticSubject, sampleRate: Double
  ) -> Loads {
    let n = motion.time.count
    var loads = Loads(
      medial: [Double](repeating: 0, count: n), lateral: [Double](repeating: 0, count: n),
      total: [Double](repeating: 0, count: n))
    guard n > 0, emg.count == muscles.count else { return loads }
    let kneeRate = derivative(motion.kneeFlexion, sampleRate: sampleRate)
    let ankleRate = derivative(motion.ankleFlexion, sampleRate: sampleRate)
    let radians = Double.pi / 180
    let shank = subject.shankLength
    // Exact discretisation of da/dt = (e - a) / tau: the force lags the EMG by a
    // subject-specific delay, which a model can only learn from the signal's history.
    let alpha = 1 - exp(-1 / (sampleRate * subject.activationTau))
    var activation = emg.map { $0[0] }
    let staticShare = min(
      max(0.45 + 0.02 * subject.alignmentDeg + subject.mechanics.medialShareOffset, 0.3), 0.7)
    var force = [Double](repeating: 0, count: muscles.count)

    let delays = motion.electromechanicalDelay.count == n ? motion.electromechanicalDelay : nil
    for i in 0..<n {
      if let delays {
        // The excitation `delay` s earlier, interpolated between samples.
        let back = max(0, Double(i) - delays[i] * sampleRate)
        let j = min(Int(back), n - 1)
        let f = back - Double(j)
        let k = min(j + 1, n - 1)
        for m in 0..<muscles.count {
          let e = emg[m][j] * (1 - f) + emg[m][k] * f
          activation[m] += alpha * (e - activation[m])
        }
      } else {
        for m in 0..<muscles.count {
          activation[m] += alpha * (emg[m][i] - activation[m])
        }
      }
      let knee = motion.kneeFlexion[i]
      let ankle = motion.ankleFlexion[i]
      let quadricepsFactor =
        subject.strength * quadricepsForceLength(knee)
        * forceVelocity(lengtheningRate: kneeRate[i])
      let hamstringsFactor =
        subject.strength * hamstringsForceLength(knee)
        * forceVelocity(lengtheningRate: -kneeRate[i])
      let gastrocnemiusFactor =
        subject.strength * gastrocnemiusForceLength(ankle: ankle, knee: knee)
        * forceVelocity(lengtheningRate: ankleRate[i] - 0.5 * kneeRate[i])
      for m in 0..<muscles.count {
        let factor: Double
        switch m {
        case 0, 1, 2: factor = quadricepsFactor
        case 4, 5: factor = hamstringsFactor
        case 6, 7: factor = gastrocnemiusFactor
        default: factor = 0
        }
        force[m] = maximalForce[m] * factor * activation[m]
      }

      let tendon = patellarRatio(knee)
      let alphaPT = patellarTendonAngle(knee) * radians
      let betaH = hamstringsAngle(knee) * radians
      let quadriceps = (force[0] + force[1] + force[2]) * tendon
      let hamstrings = force[4] + force[5]
      let gastrocnemius = force[6] + force[7]

      let shankAngle = (motion.hipFlexion[i] - motion.pelvisTilt[i] - knee) * radians
      let vertical = motion.grfVertical[i]
      let anterior = motion.grfAnterior[i]
      let grfAxial = vertical * cos(shankAngle) - anterior * sin(shankAngle)
      let grfShear = anterior * cos(shankAngle) + vertical * sin(shankAngle)

      let axial =
        grfAxial + quadriceps * cos(alphaPT) + hamstrings * cos(betaH) + 0.97 * gastrocnemius
      let shear = grfShear + quadriceps * sin(alphaPT) - hamstrings * sin(betaH)

      // Frontal plane: the vertical force acts medial of the knee by the subject's lever
      // plus what the varus angle adds; the medial force acts below the knee.
      let adductionMoment =
        vertical * (subject.mediolateralLever + shank * sin(motion.kneeAdduction[i] * radians))
        + motion.grfMedial[i] * (shank * cos(shankAngle) + ankleHeight)
      let muscleImbalance =
        0.3
        * ((force[1] - force[2]) * tendon * cos(alphaPT) + (force[4] - force[5])
          + (force[6] - force[7]))
      let medialRaw =
        staticShare * axial + subject.condylarMomentShare * adductionMoment / condylarDistance
        + muscleImbalance
      let lateralRaw = axial - medialRaw
      let medial = softPositive(medialRaw)
      let lateral = softPositive(lateralRaw)
      loads.medial[i] = medial
      loads.lateral[i] = lateral
      loads.total[i] = ((medial + lateral) * (medial + lateral) + shear * shear).squareRoot()
    }
    return loads
  }
}
