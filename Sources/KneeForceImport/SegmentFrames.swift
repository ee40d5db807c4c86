import Foundation

public typealias Vec3 = SIMD3<Double>

@inline(__always) func dot(_ a: Vec3, _ b: Vec3) -> Double { (a * b).sum() }
@inline(__always) func cross(_ a: Vec3, _ b: Vec3) -> Vec3 {
  Vec3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}
@inline(__always) func unit(_ a: Vec3) -> Vec3? {
  let n = dot(a, a).squareRoot()
  return n > 1e-9 && n.isFinite ? a / n : nil
}

/// A segment's orientation in the lab: columns x (anterior), y (superior), z (lateral of a
/// right leg, i.e. to the subject's right), the ISB axes.
public struct SegmentFrame: Sendable, Equatable {
  public var x: Vec3
  public var y: Vec3
  public var z: Vec3

  /// From a primary axis (kept exactly) and a second direction that fixes the plane.
  /// `primary` is `y` (superior) for pelvis, thigh and shank and `x` (anterior) for the foot;
  /// `right` points to the subject's right.
  static func make(superior: Vec3, right: Vec3) -> SegmentFrame? {
    guard let y = unit(superior), let x = unit(cross(y, right)) else { return nil }
    return SegmentFrame(x: x, y: y, z: cross(x, y))
  }

  static func make(anterior: Vec3, right: Vec3) -> SegmentFrame? {
    guard let x = unit(anterior), let y = unit(cross(right, x)) else { return nil }
    return SegmentFrame(x: x, y: y, z: cross(x, y))
  }

  /// With the lateral axis kept exactly and a superior direction that fixes the plane.
  static func make(right: Vec3, superior: Vec3) -> SegmentFrame? {
    guard let z = unit(right), let x = unit(cross(superior, z)) else { return nil }
    return SegmentFrame(x: x, y: cross(z, x), z: z)
  }

  /// A vector in this frame's coordinates, expressed in the lab.
  func toLab(_ v: Vec3) -> Vec3 { v.x * x + v.y * y + v.z * z }

  /// A lab vector in this frame's coordinates.
  func fromLab(_ v: Vec3) -> Vec3 { Vec3(dot(v, x), dot(v, y), dot(v, z)) }

  /// Rotation of `distal` seen from this frame, row-major: r[i][j] = e_i(self) · e_j(distal).
  func relative(_ distal: SegmentFrame) -> [[Double]] {
    let p = [x, y, z]
    let d = [distal.x, distal.y, distal.z]
    return (0..<3).map { i in (0..<3).map { j in dot(p[i], d[j]) } }
  }
}

/// Which markers build which segment frame: `role,marker` lines (docs/IMPORT.md). Roles:
/// pelvis_right_asis, pelvis_left_asis, pelvis_right_psis, pelvis_left_psis;
/// thigh_proximal, thigh_distal, thigh_lateral; shank_proximal, shank_distal, shank_lateral;
/// foot_heel, foot_toe, foot_lateral; optional ankle_lateral, ankle_medial (ankle joint
/// centre, for the centre of pressure); contralateral_heel, contralateral_toe (plate choice).
/// Markers are named for the instrumented side; `_lateral` markers are on that side's outside.
public struct MarkerMapping: Sendable, Equatable {
  public static let requiredRoles = [
    "pelvis_right_asis", "pelvis_left_asis", "pelvis_right_psis", "pelvis_left_psis",
    "thigh_proximal", "thigh_distal", "thigh_lateral",
    "shank_proximal", "shank_distal", "shank_lateral",
    "foot_heel", "foot_toe", "foot_lateral",
  ]
  public static let optionalRoles = [
    "ankle_lateral", "ankle_medial", "contralateral_heel", "contralateral_toe",
  ]

  public var markers: [String: String]

  public init(markers: [String: String]) { self.markers = markers }

  public subscript(role: String) -> String? { markers[role] }

  /// The Grand Challenge marker set (JW, DM): technical clusters on thigh and shank, no
  /// malleolus markers. Names for a right instrumented leg; `.mirroredNames` for a left one.
  public static let grandChallenge = MarkerMapping(markers: [
    "pelvis_right_asis": "RAsis", "pelvis_left_asis": "LAsis",
    "pelvis_right_psis": "RPsis", "pelvis_left_psis": "LPsis",
    "thigh_proximal": "RThighSuperior", "thigh_distal": "RThighInferior",
    "thigh_lateral": "RThighLateral",
    "shank_proximal": "RShankSuperior", "shank_distal": "RShankInferior",
    "shank_lateral": "RShankLateral",
    "foot_heel": "RHeel", "foot_toe": "RToe", "foot_lateral": "RToeLateral",
    "contralateral_heel": "LHeel", "contralateral_toe": "LToe",
    "ankle_lateral": "RAnkleLateral", "ankle_medial": "RAnkleMedial",
  ])

  /// The trajectory of a role's marker: the exact name, else the one name that matches
  /// ignoring case, underscores and a `SUBJECT:` prefix (`RThighSuperior` finds
  /// `R_Thigh_Superior` and `JW:RThighSuperior`).
  public func resolve(_ role: String, in trajectories: MarkerTrajectories) -> [Vec3]? {
    guard let name = markers[role] else { return nil }
    if let t = trajectories[name] { return t }
    func key(_ s: String) -> String {
      let bare = s.split(separator: ":").last.map(String.init) ?? s
      return bare.lowercased().filter { $0 != "_" && $0 != " " }
    }
    let wanted = key(name)
    let matches = trajectories.keys.filter { key($0) == wanted }
    return matches.count == 1 ? trajectories[matches[0]] : nil
  }

  /// The same mapping for the other leg: a leading R and L swapped in every limb marker
  /// (pelvis roles name both sides already).
  public var mirroredNames: MarkerMapping {
    var out: [String: String] = [:]
    for (role, name) in markers {
      if role.hasPrefix("pelvis_") {
        out[role] = name
      } else if name.hasPrefix("R") {
        out[role] = "L" + name.dropFirst()
      } else if name.hasPrefix("L") {
        out[role] = "R" + name.dropFirst()
      } else {
        out[role] = name
      }
    }
    return MarkerMapping(markers: out)
  }

  /// Parses a mapping file: `role,marker` per line, `#` comments and blank lines skipped, an
  /// optional `role,marker` header. Unknown roles, duplicates and missing required roles are
  /// errors naming the line.
  public static func parse(_ text: String, file: String) throws -> MarkerMapping {
    var markers: [String: String] = [:]
    let known = Set(requiredRoles + optionalRoles)
    for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false)
      .enumerated()
    {
      let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
      if line.isEmpty || line.hasPrefix("#") { continue }
      let parts = line.split(separator: ",", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      if markers.isEmpty && parts == ["role", "marker"] { continue }
      guard parts.count == 2, !parts[1].isEmpty else {
        throw ImportError(file, line: index + 1, "expected `role,marker`")
      }
      guard known.contains(parts[0]) else {
        throw ImportError(
          file, line: index + 1,
          "unknown role \"\(parts[0])\"; roles are \((requiredRoles + optionalRoles).joined(separator: ", "))"
        )
      }
      guard markers[parts[0]] == nil else {
        throw ImportError(file, line: index + 1, "role \(parts[0]) given twice")
      }
      markers[parts[0]] = parts[1]
    }
    let missing = requiredRoles.filter { markers[$0] == nil }
    guard missing.isEmpty else {
      throw ImportError(file, "", "mapping lacks the roles \(missing.joined(separator: ", "))")
    }
    return MarkerMapping(markers: markers)
  }
}

/// Marker trajectories in metres, lab frame, one entry per clock sample (NaN where missing).
public typealias MarkerTrajectories = [String: [Vec3]]

/// Hip, knee and ankle angles from the segment frames of a mapping, by the Cardan sequence
/// flexion (z), adduction (x), rotation (y) of the distal frame relative to the proximal
/// one (Grood and Suntay for the knee). With technical clusters only the angles are relative
/// to the technical frames (an offset and some cross-talk against anatomical angles); a
/// static trial (`calibration`) re-zeroes each joint at the static pose.
public enum JointAngles {
  public static let channels = [
    "kin.hip_flexion", "kin.hip_adduction", "kin.hip_rotation",
    "kin.knee_flexion", "kin.knee_adduction", "kin.knee_rotation",
    "kin.ankle_flexion", "kin.ankle_inversion",
  ]

  /// Per-sample frames of pelvis, thigh, shank, foot (nil where a marker is missing).
  /// `isLeft` flips the lateral direction so that z always points to the subject's right.
  public static func frames(
    _ markers: MarkerTrajectories, mapping: MarkerMapping, isLeft: Bool
  ) throws -> [[SegmentFrame?]] {
    func track(_ role: String) throws -> [Vec3] {
      guard let name = mapping[role] else {
        throw ImportError("marker mapping", "", "role \(role) is not mapped")
      }
      guard let t = mapping.resolve(role, in: markers) else {
        throw ImportError(
          "marker mapping", "", "marker \(name) (role \(role)) is not in the trial")
      }
      return t
    }
    let rasis = try track("pelvis_right_asis"), lasis = try track("pelvis_left_asis")
    let rpsis = try track("pelvis_right_psis"), lpsis = try track("pelvis_left_psis")
    let tp = try track("thigh_proximal"), td = try track("thigh_distal")
    let tl = try track("thigh_lateral")
    let sp = try track("shank_proximal"), sd = try track("shank_distal")
    let sl = try track("shank_lateral")
    let fh = try track("foot_heel"), ft = try track("foot_toe"), fl = try track("foot_lateral")
    let sideSign: Double = isLeft ? -1 : 1
    let n = rasis.count
    var out: [[SegmentFrame?]] = []
    out.reserveCapacity(n)
    for i in 0..<n {
      let right = rasis[i] - lasis[i]
      let anterior = (rasis[i] + lasis[i]) / 2 - (rpsis[i] + lpsis[i]) / 2
      let pelvis = unit(cross(right, anterior)).flatMap {
        SegmentFrame.make(superior: $0, right: right)
      }
      let thigh = SegmentFrame.make(
        superior: tp[i] - td[i], right: sideSign * (tl[i] - (tp[i] + td[i]) / 2))
      let shank = SegmentFrame.make(
        superior: sp[i] - sd[i], right: sideSign * (sl[i] - (sp[i] + sd[i]) / 2))
      let foot = SegmentFrame.make(
        anterior: ft[i] - fh[i], right: sideSign * (fl[i] - (ft[i] + fh[i]) / 2))
      out.append([pelvis, thigh, shank, foot])
    }
    return out
  }

  /// The knee's flexion axis found from the motion itself (a functional axis): the principal
  /// direction of the shank's angular velocity relative to the thigh, in thigh coordinates,
  /// either sign. nil when the knee hardly moves.
  public static func functionalAxis(_ frames: [[SegmentFrame?]], proximal: Int, distal: Int)
    -> Vec3?
  {
    var m = [[Double]](repeating: [0, 0, 0], count: 3)
    var previous: [[Double]]?
    var total = 0.0
    for f in frames {
      guard let p = f[proximal], let d = f[distal] else {
        previous = nil
        continue
      }
      let r = p.relative(d)
      if let q = previous {
        // ΔR = r qᵀ, the increment in proximal coordinates; its skew part is sin θ · axis.
        let dr = (0..<3).map { i in
          (0..<3).map { j in (0..<3).reduce(0) { $0 + r[i][$1] * q[j][$1] } }
        }
        let w = Vec3(dr[2][1] - dr[1][2], dr[0][2] - dr[2][0], dr[1][0] - dr[0][1]) / 2
        for i in 0..<3 { for j in 0..<3 { m[i][j] += w[i] * w[j] } }
        total += dot(w, w).squareRoot()
      }
      previous = r
    }
    guard total > 0.5 else { return nil }  // less than about 30° of motion in all
    var v = Vec3(0, 0, 1)
    for _ in 0..<100 {
      let next = Vec3(
        m[0][0] * v.x + m[0][1] * v.y + m[0][2] * v.z,
        m[1][0] * v.x + m[1][1] * v.y + m[1][2] * v.z,
        m[2][0] * v.x + m[2][1] * v.y + m[2][2] * v.z)
      guard let u = unit(next) else { return nil }
      v = u
    }
    return v
  }

  /// Thigh and shank frames turned about their long axes so that their lateral axes are the
  /// knee's functional flexion axis (the long axes keep their plane): removes the
  /// cross-talk of arbitrarily placed technical clusters.
  public static func alignToFunctionalKneeAxis(_ frames: inout [[SegmentFrame?]]) -> (
    thigh: Vec3, shank: Vec3
  )? {
    guard var axisThigh = functionalAxis(frames, proximal: 1, distal: 2) else { return nil }
    // To the subject's right, as the pelvis sees it.
    var side = 0.0
    for f in frames {
      if let pelvis = f[0], let p = f[1] { side += dot(p.toLab(axisThigh), pelvis.z) }
    }
    if side < 0 { axisThigh = -axisThigh }
    var sum = Vec3(0, 0, 0)
    for f in frames {
      guard let p = f[1], let d = f[2] else { continue }
      sum += d.fromLab(p.toLab(axisThigh))
    }
    guard let axisShank = unit(sum) else { return nil }
    align(&frames, thighAxis: axisThigh, shankAxis: axisShank)
    return (axisThigh, axisShank)
  }

  /// Turns thigh and shank frames onto given flexion axes (technical-frame coordinates), as
  /// found in a moving trial: so a static trial's frames match the dynamic trial's.
  public static func align(_ frames: inout [[SegmentFrame?]], thighAxis: Vec3, shankAxis: Vec3) {
    for i in frames.indices {
      if let p = frames[i][1] {
        frames[i][1] = SegmentFrame.make(right: p.toLab(thighAxis), superior: p.y)
      }
      if let d = frames[i][2] {
        frames[i][2] = SegmentFrame.make(right: d.toLab(shankAxis), superior: d.y)
      }
    }
  }

  /// The Cardan angles (degrees) of one joint rotation r: flexion about z, then adduction
  /// about x, then rotation about y: R = Rz(a) Rx(b) Ry(c).
  static func cardan(_ r: [[Double]]) -> (z: Double, x: Double, y: Double) {
    // Rz(a)Rx(b)Ry(c): r[2][1] = sin b; r[0][1] = -sin a cos b; r[1][1] = cos a cos b;
    // r[2][0] = -cos b sin c; r[2][2] = cos b cos c.
    let b = asin(max(-1, min(1, r[2][1])))
    let a = atan2(-r[0][1], r[1][1])
    let c = atan2(-r[2][0], r[2][2])
    let deg = 180 / Double.pi
    return (a * deg, b * deg, c * deg)
  }

  static func multiplyTransposed(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
    // aᵀ b
    (0..<3).map { i in (0..<3).map { j in (0..<3).reduce(0) { $0 + a[$1][i] * b[$1][j] } } }
  }

  /// Joint rotations per sample (pelvis→thigh, thigh→shank, shank→foot).
  static func rotations(_ frames: [[SegmentFrame?]]) -> [[[[Double]]?]] {
    frames.map { f in
      (0..<3).map { j in
        guard let p = f[j], let d = f[j + 1] else { return nil }
        return p.relative(d)
      }
    }
  }

  /// The mean joint rotations of a static trial, re-orthonormalised: its pose is zero.
  public static func calibration(_ frames: [[SegmentFrame?]]) -> [[[Double]]] {
    let rot = rotations(frames)
    return (0..<3).map { j in
      var sum = [[Double]](repeating: [0, 0, 0], count: 3)
      for r in rot {
        if let m = r[j] { for a in 0..<3 { for b in 0..<3 { sum[a][b] += m[a][b] } } }
      }
      // Orthonormalise by Gram-Schmidt on the columns.
      let c0 = unit(Vec3(sum[0][0], sum[1][0], sum[2][0])) ?? Vec3(1, 0, 0)
      var c1 = Vec3(sum[0][1], sum[1][1], sum[2][1])
      c1 = unit(c1 - dot(c1, c0) * c0) ?? Vec3(0, 1, 0)
      let c2 = cross(c0, c1)
      return (0..<3).map { a in [c0[a], c1[a], c2[a]] }
    }
  }

  /// The eight `kin.*` channels (degrees, right-leg signs: for a left leg the adduction,
  /// rotation and inversion signs are those of the mirrored leg), NaN where a frame is
  /// missing.
  public static func angles(
    _ frames: [[SegmentFrame?]], calibration: [[[Double]]]? = nil
  ) -> [[Double]] {
    var out = [[Double]](repeating: [], count: channels.count)
    for f in rotations(frames) {
      var values = [Double](repeating: .nan, count: channels.count)
      for j in 0..<3 {
        guard var r = f[j] else { continue }
        if let calibration { r = multiplyTransposed(calibration[j], r) }
        let (z, x, y) = cardan(r)
        switch j {
        case 0: values[0] = z; values[1] = x; values[2] = y
        // Knee flexion is the shank turning backwards: negative about z.
        case 1: values[3] = -z; values[4] = x; values[5] = y
        // Ankle: dorsiflexion positive about z; inversion is the foot's sole turning
        // medially, rotation of the foot about its anterior axis: negative x for a right leg.
        default: values[6] = z; values[7] = -x
        }
      }
      for c in 0..<channels.count { out[c].append(values[c]) }
    }
    return out
  }
}
