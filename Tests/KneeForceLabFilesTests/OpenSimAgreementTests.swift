import Foundation
import XCTest

@testable import KneeForceLabFiles

/// The OpenSim exports of trial DM_ngait_og1 against its C3D file, read by our readers.
/// The exports use OpenSim's axes (X = -x, Y = z, Z = y of the lab), time = frame / rate
/// (ours counts from frame 1: one frame earlier), the force on the plate as ezc3d gives it,
/// one analog sample less at the start, the CoP at height 0 and no free moment (all 0).
/// Values are printed with 6 significant digits (at most 6 decimals)
/// and their own rounding is not exact, so values are compared within two units of the 6th
/// digit (forces near 0 N within 2e-5 N); the tests print the largest difference in units.
final class OpenSimAgreementTests: XCTestCase {
  /// `units` of the 6th significant digit of `value`, or of the 6th decimal for values
  /// below 0.1 (the exports print at most 6 decimals).
  func sixDigitTolerance(_ value: Double, units: Double = 0.5) -> Double {
    let unit = value == 0 ? 1e-6 : max(pow(10, floor(log10(abs(value))) - 5), 1e-6)
    return units * unit * (1 + 1e-9) + 1e-12
  }

  func normalised(_ label: String) -> String {
    label.lowercased().filter { $0.isLetter || $0.isNumber }
  }

  func testTRCMarkersAgreeWithTheC3D() throws {
    let root = try LabFilesTestData.requireShared().appendingPathComponent("dm")
    let c3d = try C3DFile.read(root.appendingPathComponent("DM_ngait_og1.c3d"))
    let trc = try TRCFile.read(root.appendingPathComponent("opensim/DM_ngait_og1_new.trc"))
    XCTAssertEqual(trc.frameCount, c3d.frameCount)
    XCTAssertEqual(trc.dataRate, c3d.pointRate)
    XCTAssertEqual(trc.units, "mm")
    XCTAssertEqual(trc.markers.count, 68)
    var matched = 0
    var compared = 0
    var largest = 0.0
    var gapsFilled = 0
    var largestUnits = 0.0
    for (index, label) in c3d.pointLabels.enumerated() {
      guard let trcIndex = trc.markers.firstIndex(where: { normalised($0) == normalised(label) })
      else { continue }
      matched += 1
      for frame in 0..<c3d.frameCount {
        let ours = c3d.point(frame: frame, index: index)
        let theirs = trc.marker(trcIndex, frame: frame)
        guard ours.x.isFinite else {
          if theirs.x.isFinite { gapsFilled += 1 }
          continue
        }
        let pairs = [
          (-Double(ours.x), theirs.x), (Double(ours.z), theirs.y), (Double(ours.y), theirs.z),
        ]
        for (mine, exported) in pairs {
          let difference = abs(mine - exported)
          largest = max(largest, difference)
          largestUnits = max(largestUnits, difference / sixDigitTolerance(exported, units: 1))
          XCTAssertLessThanOrEqual(
            difference, sixDigitTolerance(exported, units: 2),
            "\(label) frame \(frame): \(mine) vs \(exported)")
          compared += 1
        }
      }
    }
    for frame in [0, c3d.frameCount - 1] {
      XCTAssertEqual(trc.times[frame], c3d.frameTime(frame) + 1 / c3d.pointRate, accuracy: 1e-6)
    }
    XCTAssertGreaterThanOrEqual(matched, 50)
    print(
      "trc vs c3d: \(matched) markers matched by name, \(compared) coordinates, largest "
        + "difference \(largest) mm (\(largestUnits) units of the 6th digit); \(gapsFilled) "
        + "invalid C3D samples have values in the .trc")
  }

  func testGRFStoAgreesWithTheC3DForcePlates() throws {
    let root = try LabFilesTestData.requireShared().appendingPathComponent("dm")
    let c3d = try C3DFile.read(root.appendingPathComponent("DM_ngait_og1.c3d"))
    let sto = try STOFile.read(root.appendingPathComponent("opensim/DM_ngait_og1_grf.sto"))
    XCTAssertEqual(sto.rowCount, c3d.analogSampleCount - 1)
    let plates = try c3d.forcePlates()
    XCTAssertEqual(plates.count, 3)
    var largestForce = 0.0
    var largestCoP = 0.0
    var largestTorque = 0.0
    var loaded = 0
    var largestUnits = 0.0
    let time = try XCTUnwrap(sto.column("time"))
    for plate in plates {
      let k = plate.plate.index
      let column = { (name: String) throws -> [Double] in
        try XCTUnwrap(sto.column("ground_\(name)"), "no column ground_\(name)")
      }
      let (vx, vy, vz) = (
        try column("force_\(k)_vx"), try column("force_\(k)_vy"), try column("force_\(k)_vz")
      )
      let (px, py, pz) = (
        try column("force_\(k)_px"), try column("force_\(k)_py"), try column("force_\(k)_pz")
      )
      let ty = try column("torque_\(k)_y")
      for row in 0..<sto.rowCount {
        let sample = row + 1
        let force = plate.force[sample]
        for (mine, exported) in [(-force[0], vx[row]), (force[2], vy[row]), (force[1], vz[row])] {
          let difference = abs(mine - exported)
          largestForce = max(largestForce, difference)
          if abs(exported) > 1 {
            largestUnits = max(largestUnits, difference / sixDigitTolerance(exported, units: 1))
          }
          XCTAssertLessThanOrEqual(
            difference, max(sixDigitTolerance(exported, units: 2), 2e-5),
            "plate \(k) row \(row) force: \(mine) vs \(exported)")
        }
        // Below 20 N the exports' CoP comes from a different rule (the plate centre at 0 N).
        guard abs(force[2]) > 20 else { continue }
        loaded += 1
        let cop = plate.centreOfPressure[sample]
        // The exports put the CoP at height 0; CORNERS put this lab's surfaces at z = -6 mm.
        XCTAssertEqual(py[row], 0)
        XCTAssertEqual(cop[2], -0.006, accuracy: 1e-9)
        for (mine, exported) in [(-cop[0], px[row]), (cop[1], pz[row])] {
          let difference = abs(mine - exported)
          largestCoP = max(largestCoP, difference)
          largestUnits = max(largestUnits, difference / sixDigitTolerance(exported, units: 1))
          XCTAssertLessThanOrEqual(
            difference, sixDigitTolerance(exported, units: 2),
            "plate \(k) row \(row) CoP: \(mine) vs \(exported)")
        }
        // These exports carry no free moment: every torque column is 0.
        XCTAssertEqual(ty[row], 0, "plate \(k) row \(row)")
        largestTorque = max(largestTorque, abs(plate.freeMoment[sample][2]))
      }
    }
    XCTAssertEqual(time[0], c3d.analogTime(1) + 1 / c3d.pointRate, accuracy: 1e-6)
    XCTAssertGreaterThan(loaded, 1000)
    print(
      "sto vs c3d: \(sto.rowCount) rows x 3 plates, largest difference force \(largestForce) N, "
        + "\(largestUnits) units of the 6th digit (forces over 1 N and CoP), "
        + "CoP \(largestCoP) m on \(loaded) loaded samples (the exports' torques are 0; ours "
        + "reach \(largestTorque) N·m)")
  }

  func testEveryDMExportReads() throws {
    let folder = try LabFilesTestData.requireShared().appendingPathComponent("dm/opensim")
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    var read = 0
    for name in names where name.hasSuffix(".trc") || name.hasSuffix(".sto") {
      let url = folder.appendingPathComponent(name)
      if name.hasSuffix(".trc") {
        let trc = try TRCFile.read(url)
        XCTAssertEqual(trc.markers.count, 68, name)
        XCTAssertEqual(trc.dataRate, 120, name)
      } else {
        let sto = try STOFile.read(url)
        XCTAssertEqual(sto.columns.count, 28, name)
        XCTAssertEqual(sto.columns.first, "time", name)
      }
      read += 1
    }
    XCTAssertEqual(read, 14)
  }
}
