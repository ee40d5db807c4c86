/// Keyframed joint angles, ground reaction force and muscle-timing templates of the cyclic
/// activities, after typical curves of the gait literature (Perry, Winter; stair and ramp
/// studies). Phase 0 is foot strike of the instrumented leg; stance curves run over stance
/// only (0 = foot strike, 1 = foot off). Angles in degrees, forces in body weights, the
/// centre of pressure in m anterior of the ankle.
struct GaitPattern: Sendable {
  /// Cycle duration in s at the subject speed factor 1.
  var period: Double
  /// How strongly the cycle duration follows the subject's speed factor.
  var speedExponent: Double
  /// Stance as a fraction of the cycle.
  var stance: Double
  /// Complete cycles per trial.
  var cycles: Int
  /// Pelvis anterior tilt (not written; it places the thigh and shank in space).
  var pelvisTilt: Double
  var hipFlexion: KeyframeCurve
  var hipAdduction: KeyframeCurve
  var kneeFlexion: KeyframeCurve
  /// Dynamic knee adduction added to the subject's static alignment.
  var kneeAdduction: KeyframeCurve
  var ankleFlexion: KeyframeCurve
  var grfVertical: KeyframeCurve
  var grfAnterior: KeyframeCurve
  var grfMedial: KeyframeCurve
  var centreOfPressure: KeyframeCurve
  /// Baseline activations (0..1) of muscles whose timing is not set by the knee or ankle
  /// moment: hamstrings decelerating the swing, tibialis anterior lifting the foot, rectus
  /// femoris flexing the hip at push-off.
  var hamstrings: KeyframeCurve
  var tibialis: KeyframeCurve
  var rectus: KeyframeCurve

  static func pattern(for activity: SyntheticActivity) -> GaitPattern? {
    switch activity {
    case .walking: return walking
    case .stairAscent: return stairAscent
    case .stairDescent: return stairDescent
    case .rampDescent: return rampDescent
    case .squat, .sitToStand: return nil
    }
  }

  private static func cyclic(_ points: [(Double, Double)]) -> KeyframeCurve {
    KeyframeCurve(points, periodic: true)
  }

  private static func stancePhase(_ points: [(Double, Double)]) -> KeyframeCurve {
    KeyframeCurve(points, periodic: false)
  }

  static let walking = GaitPattern(
    period: 1.14, speedExponent: 1, stance: 0.61, cycles: 3, pelvisTilt: 10,
    hipFlexion: cyclic([
      (0, 28), (0.12, 25), (0.3, 10), (0.5, -9), (0.62, 2), (0.75, 22), (0.87, 32), (1, 28),
    ]),
    hipAdduction: cyclic([(0, 1), (0.2, 7), (0.45, 3), (0.62, -3), (0.75, -5), (0.9, -1)]),
    kneeFlexion: cyclic([
      (0, 4), (0.14, 18), (0.38, 5), (0.6, 38), (0.72, 62), (0.86, 30), (0.96, 3),
    ]),
    kneeAdduction: cyclic([(0, 0), (0.2, 1.5), (0.45, 1), (0.62, -1), (0.75, -2.5), (0.9, -0.5)]),
    ankleFlexion: cyclic([
      (0, 0), (0.07, -6), (0.3, 4), (0.48, 10), (0.62, -16), (0.72, -8), (0.85, 1),
    ]),
    grfVertical: stancePhase([
      (0, 0), (0.04, 0.5), (0.24, 1.1), (0.5, 0.78), (0.76, 1.08), (0.92, 0.5), (1, 0),
    ]),
    grfAnterior: stancePhase([
      (0, 0), (0.05, -0.05), (0.18, -0.2), (0.4, -0.05), (0.55, 0.05), (0.8, 0.2),
      (0.95, 0.05), (1, 0),
    ]),
    grfMedial: stancePhase([(0, 0), (0.12, 0.07), (0.4, 0.04), (0.75, 0.06), (1, 0)]),
    centreOfPressure: stancePhase([(0, -0.05), (0.3, 0.02), (0.7, 0.1), (1, 0.16)]),
    hamstrings: cyclic([
      (0, 0.3), (0.1, 0.2), (0.25, 0.05), (0.6, 0.02), (0.8, 0.1), (0.9, 0.35),
    ]),
    tibialis: cyclic([(0, 0.45), (0.1, 0.3), (0.25, 0.08), (0.55, 0.1), (0.7, 0.3), (0.85, 0.2)]),
    rectus: cyclic([(0, 0.05), (0.5, 0.05), (0.6, 0.2), (0.7, 0.08)])
  )

  static let stairAscent = GaitPattern(
    period: 1.5, speedExponent: 0.5, stance: 0.62, cycles: 2, pelvisTilt: 15,
    hipFlexion: cyclic([(0, 58), (0.2, 40), (0.45, 12), (0.62, 8), (0.75, 40), (0.88, 65)]),
    hipAdduction: cyclic([(0, 2), (0.25, 6), (0.5, 3), (0.7, -3), (0.9, -1)]),
    kneeFlexion: cyclic([
      (0, 60), (0.18, 42), (0.4, 14), (0.6, 28), (0.72, 80), (0.82, 92), (0.93, 75),
    ]),
    kneeAdduction: cyclic([(0, 0), (0.25, 2), (0.5, 1), (0.7, -3), (0.9, -1)]),
    ankleFlexion: cyclic([(0, 12), (0.15, 18), (0.4, 8), (0.58, -12), (0.7, -5), (0.85, 8)]),
    grfVertical: stancePhase([
      (0, 0), (0.06, 0.6), (0.22, 1.12), (0.5, 0.85), (0.78, 1.2), (0.93, 0.5), (1, 0),
    ]),
    grfAnterior: stancePhase([(0, 0), (0.2, -0.06), (0.5, 0.05), (0.8, 0.12), (1, 0)]),
    grfMedial: stancePhase([(0, 0), (0.2, 0.06), (0.7, 0.05), (1, 0)]),
    centreOfPressure: stancePhase([(0, 0.02), (0.5, 0.06), (1, 0.13)]),
    hamstrings: cyclic([(0, 0.35), (0.2, 0.25), (0.4, 0.1), (0.7, 0.1), (0.9, 0.3)]),
    tibialis: cyclic([(0, 0.3), (0.2, 0.15), (0.5, 0.1), (0.7, 0.35), (0.85, 0.3)]),
    rectus: cyclic([(0, 0.1), (0.5, 0.08), (0.62, 0.25), (0.75, 0.1)])
  )

  static let stairDescent = GaitPattern(
    period: 1.45, speedExponent: 0.5, stance: 0.6, cycles: 2, pelvisTilt: 8,
    hipFlexion: cyclic([(0, 22), (0.2, 15), (0.45, 22), (0.6, 38), (0.75, 40), (0.9, 28)]),
    hipAdduction: cyclic([(0, 1), (0.25, 6), (0.5, 4), (0.7, -3), (0.9, -1)]),
    kneeFlexion: cyclic([
      (0, 12), (0.12, 18), (0.35, 40), (0.55, 85), (0.65, 92), (0.8, 60), (0.93, 15),
    ]),
    kneeAdduction: cyclic([(0, 0), (0.2, 2), (0.5, 1.5), (0.7, -2), (0.9, -0.5)]),
    ankleFlexion: cyclic([
      (0, -20), (0.12, -5), (0.35, 10), (0.55, 22), (0.65, 10), (0.8, -5), (0.93, -22),
    ]),
    grfVertical: stancePhase([
      (0, 0), (0.05, 0.7), (0.15, 1.45), (0.4, 0.85), (0.75, 1.0), (0.92, 0.5), (1, 0),
    ]),
    grfAnterior: stancePhase([(0, 0), (0.15, -0.1), (0.5, 0.02), (0.8, 0.1), (1, 0)]),
    grfMedial: stancePhase([(0, 0), (0.2, 0.07), (0.7, 0.05), (1, 0)]),
    centreOfPressure: stancePhase([(0, 0.12), (0.2, 0.08), (0.6, 0.04), (1, 0.03)]),
    hamstrings: cyclic([(0, 0.2), (0.3, 0.1), (0.7, 0.1), (0.9, 0.25)]),
    tibialis: cyclic([(0, 0.2), (0.3, 0.15), (0.6, 0.25), (0.8, 0.3)]),
    rectus: cyclic([(0, 0.08), (0.5, 0.1), (0.7, 0.15), (0.85, 0.08)])
  )

  static let rampDescent = GaitPattern(
    period: 1.1, speedExponent: 1, stance: 0.62, cycles: 3, pelvisTilt: 6,
    hipFlexion: cyclic([(0, 24), (0.15, 22), (0.5, -2), (0.62, 5), (0.8, 28), (0.9, 27)]),
    hipAdduction: cyclic([(0, 1), (0.2, 7), (0.45, 3), (0.62, -3), (0.75, -5), (0.9, -1)]),
    kneeFlexion: cyclic([
      (0, 6), (0.15, 28), (0.4, 22), (0.6, 45), (0.73, 65), (0.87, 30), (0.96, 5),
    ]),
    kneeAdduction: cyclic([(0, 0), (0.2, 2), (0.45, 1), (0.62, -1), (0.75, -2.5), (0.9, -0.5)]),
    ankleFlexion: cyclic([(0, -4), (0.1, -8), (0.35, 6), (0.5, 10), (0.63, -14), (0.75, -6)]),
    grfVertical: stancePhase([
      (0, 0), (0.04, 0.55), (0.2, 1.25), (0.5, 0.8), (0.78, 1.0), (0.93, 0.45), (1, 0),
    ]),
    grfAnterior: stancePhase([(0, 0), (0.15, -0.25), (0.45, -0.05), (0.8, 0.1), (1, 0)]),
    grfMedial: stancePhase([(0, 0), (0.15, 0.08), (0.45, 0.04), (0.75, 0.05), (1, 0)]),
    centreOfPressure: stancePhase([(0, -0.04), (0.3, 0.03), (0.7, 0.09), (1, 0.15)]),
    hamstrings: cyclic([(0, 0.3), (0.1, 0.25), (0.3, 0.08), (0.6, 0.03), (0.9, 0.3)]),
    tibialis: cyclic([(0, 0.5), (0.12, 0.4), (0.3, 0.1), (0.7, 0.3), (0.85, 0.25)]),
    rectus: cyclic([(0, 0.08), (0.5, 0.06), (0.6, 0.18), (0.72, 0.08)])
  )
}
