/// The hidden, person-specific parameters of one synthetic subject. They are what makes
/// leave-one-subject-out hard: a model must generalise across alignment, strength,
/// co-contraction and timing it never saw.
struct SyntheticSubject: Sendable {
  var id: String
  var side: Side
  var bodyWeightN: Double
  /// Gait speed factor (1 = nominal); walking cycles last 1.14 s / speed.
  var speed: Double
  /// Static frontal-plane alignment in degrees, varus positive, valgus negative.
  var alignmentDeg: Double
  /// Scales every muscle's maximal force.
  var strength: Double
  /// Hamstring co-activation per unit of quadriceps activation.
  var coContraction: Double
  /// EMG-to-force activation time constant in s.
  var activationTau: Double
  /// Fraction of the external knee adduction moment carried by the condyles (the rest by
  /// lateral soft tissue and muscles).
  var condylarMomentShare: Double
  /// Medio-lateral offset of the centre of pressure from below the knee, m.
  var mediolateralLever: Double
  /// Gastrocnemius share of the plantarflexor moment (the soleus does not cross the knee).
  var gastrocnemiusShare: Double
  /// Shank length, m (knee to ankle).
  var shankLength: Double
  var squatDepthDeg: Double
  /// Medial versus lateral head balance of the vasti, hamstrings and gastrocnemii (-1..1).
  var medialBias: (vasti: Double, hamstrings: Double, gastrocnemii: Double)
  /// Recording nuisances (zero or one with `--nuisance none`).
  var nuisance: SubjectNuisance
  /// Mechanics the recordings only partly show (neutral with `--nuisance none`).
  var mechanics = SubjectMechanics.neutral
}

/// Per-subject mechanics of `--nuisance realistic` that change the knee loads more than the
/// signals show. Real cohorts differ in these, which is why a network that learns who a
/// training subject is does worse on a new one than their mean curve. The neutral values leave
/// the model as it is without them, so that a `.none` cohort is unchanged.
struct SubjectMechanics: Sendable {
  /// Added to the alignment-based medial share of the axial force: condyle geometry and
  /// soft-tissue balance that the recorded knee adduction angle does not show.
  var medialShareOffset: Double
  /// Scales the share of the external knee flexion moment the quadriceps balance (the rest
  /// goes to the hip extensors): a gait strategy. It shows in the quadriceps EMG only
  /// through the subject's unknown EMG gains.
  var extensorShareScale: Double
  /// Hamstring co-activation per unit of quadriceps activation that the hamstring electrodes
  /// record only in part (deep heads, unrecorded synergists).
  var hiddenCoContraction: Double
  /// Scales the gastrocnemius share of the plantarflexor moment (the soleus takes the rest).
  var gastrocnemiusScale: Double
  /// How much of the muscle mechanics above the recorded EMG carries: the fraction of
  /// `hiddenCoContraction` in the hamstring envelopes, the power of the extensor and
  /// gastrocnemius scales in the quadriceps and gastrocnemius envelopes.
  var emgVisibility: Double
  /// Added to the stance fraction of every gait cycle (toe-off earlier or later).
  var stanceOffset: Double
  /// Scale of the vertical ground reaction force at foot strike and at push-off, blended
  /// over stance: a heel-striker or a toe-pusher.
  var loadingScale: Double
  var pushOffScale: Double
  /// Cycle duration factor of body size: longer legs, longer cycles at the same speed factor.
  var periodScale: Double
  /// Scales the cycle-to-cycle variation of the co-contraction and extensor share.
  var variability: Double
  /// Added to every stride's loading-peak shift (`CycleVariation.warp`): an early or a late
  /// loader.
  var warp: Double
  /// Electromechanical delay from excitation to force, s (the EMG shows the excitation).
  var delay: Double

  static let neutral = SubjectMechanics(
    medialShareOffset: 0, extensorShareScale: 1, hiddenCoContraction: 0, gastrocnemiusScale: 1,
    emgVisibility: 1, stanceOffset: 0, loadingScale: 1, pushOffScale: 1,
    periodScale: 1, variability: 0, warp: 0, delay: 0)

  static func draw(_ r: inout SeededRandom, shankLength: Double) -> SubjectMechanics {
    SubjectMechanics(
      medialShareOffset: r.normal(0, 0.05), extensorShareScale: r.uniform(0.7, 1.4),
      hiddenCoContraction: r.uniform(0, 0.55), gastrocnemiusScale: r.uniform(0.6, 1.4),
      emgVisibility: r.uniform(0.25, 0.55), stanceOffset: r.normal(0, 0.025),
      loadingScale: r.uniform(0.92, 1.1), pushOffScale: r.uniform(0.92, 1.08),
      periodScale: (shankLength / 0.42).squareRoot(), variability: r.uniform(0.7, 1.3),
      warp: r.normal(0, 0.05), delay: r.uniform(0.015, 0.08))
  }
}

/// Per-subject recording effects that change the signals but not the knee.
struct SubjectNuisance: Sendable {
  /// Added to each `kin` channel (marker placement), degrees.
  var kinematicOffsets: [Double]
  /// Multiplies each `kin` channel (markers off the joint centres change the range of motion).
  var kinematicGains = [Double](repeating: 1, count: 5)
  /// Knee adduction picking up knee flexion (a misaligned knee axis), per degree of flexion.
  var kneeAxisCrosstalk: Double
  /// Multiplies each EMG envelope (electrode placement, normalisation reference).
  var emgGains: [Double]
  /// One EMG channel with poor contact, or nil.
  var weakEMGChannel: Int?

  static let none = SubjectNuisance(
    kinematicOffsets: [0, 0, 0, 0, 0], kneeAxisCrosstalk: 0,
    emgGains: [Double](repeating: 1, count: 8), weakEMGChannel: nil)
}

extension SyntheticSubject {
  /// Draws `count` subjects. Body weight, speed and alignment are stratified (one draw per
  /// equal slice of the range, shuffled), so that even a cohort of four spans light and
  /// heavy, slow and fast, varus and valgus.
  static func cohort(count: Int, realisticNuisance: Bool, random: SeededRandom)
    -> [SyntheticSubject]
  {
    var rng = random.fork(1)
    func stratified(_ low: Double, _ high: Double) -> [Double] {
      var values = (0..<count).map { k in
        low + (high - low) * (Double(k) + rng.uniform(0.1, 0.9)) / Double(max(count, 1))
      }
      for i in stride(from: values.count - 1, to: 0, by: -1) {
        values.swapAt(i, rng.integer(0, i))
      }
      return values
    }
    let weights = stratified(600, 1000)
    let speeds = stratified(0.88, 1.14)
    let alignments = stratified(-3, 6)
    let firstSide = rng.integer(0, 1)
    return (0..<count).map { k in
      var r = random.fork(100 + UInt64(k))
      let side: Side = (k + firstSide) % 2 == 0 ? .left : .right
      var nuisance = SubjectNuisance.none
      if realisticNuisance {
        nuisance.kinematicOffsets = [
          r.normal(0, 5), r.normal(0, 3.5), r.normal(0, 5), r.normal(0, 2.5), r.normal(0, 5),
        ]
        nuisance.kneeAxisCrosstalk = r.normal(0, 0.1)
        nuisance.emgGains = (0..<8).map { _ in r.uniform(0.5, 1.6) }
        let weak = r.integer(0, 7)
        nuisance.weakEMGChannel = weak
        nuisance.emgGains[weak] *= 0.2
      }
      var subject = SyntheticSubject(
        id: "S\(k + 1)\(side.rawValue)", side: side,
        bodyWeightN: (weights[k] * 10).rounded() / 10, speed: speeds[k],
        alignmentDeg: alignments[k], strength: r.uniform(0.8, 1.25),
        coContraction: r.uniform(0.05, 0.35), activationTau: r.uniform(0.04, 0.12),
        condylarMomentShare: r.uniform(0.2, 0.35), mediolateralLever: r.uniform(0, 0.02),
        gastrocnemiusShare: r.uniform(0.35, 0.45), shankLength: r.uniform(0.38, 0.46),
        squatDepthDeg: r.uniform(80, 110),
        medialBias: (r.uniform(-0.15, 0.15), r.uniform(-0.15, 0.15), r.uniform(-0.15, 0.15)),
        nuisance: nuisance)
      if realisticNuisance {
        // A fork of its own, so that drawing these leaves every earlier draw as it was.
        var m = random.fork(SyntheticCohort.mechanicsStream + UInt64(k))
        subject.mechanics = SubjectMechanics.draw(&m, shankLength: subject.shankLength)
        subject.nuisance.kinematicGains = (0..<5).map { _ in m.uniform(0.85, 1.15) }
      }
      return subject
    }
  }
}
