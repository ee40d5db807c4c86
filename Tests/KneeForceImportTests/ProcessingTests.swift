import Foundation
import XCTest

@testable import KneeForceImport

final class ProcessingTests: XCTestCase {
  func testInterpolationAndTolerance() {
    let y = Resampling.interpolate(
      times: [0, 1, 2], values: [0, 10, 20], at: [-0.2, -0.05, 0.5, 2.04, 3], tolerance: 0.1)
    XCTAssertTrue(y[0].isNaN)
    XCTAssertEqual(Array(y[1...3]), [0, 5, 20])
    XCTAssertTrue(y[4].isNaN)
  }

  func testGapFilling() {
    var x: [Double] = [.nan, 1, .nan, .nan, 4, .nan]
    XCTAssertEqual(Resampling.fillGaps(&x), 2)
    XCTAssertEqual(x, [1, 1, 2, 3, 4, 4])
  }

  func testEnvelopeFollowsABurst() throws {
    let rate = 1200.0
    let raw = (0..<2400).map { i -> Double in
      let t = Double(i) / rate
      return (t > 0.8 && t < 1.2 ? 1 : 0.05) * sin(2 * Double.pi * 97 * t)
    }
    let env = try EMGEnvelope().envelope(raw, rate: rate)
    XCTAssertGreaterThan(env[1200], 10 * env[200])
    XCTAssertTrue(env.allSatisfy { $0 >= 0 })
  }

  func testActivities() {
    XCTAssertEqual(GrandChallengeImporter.activity(of: "jw_ngait_og3"), "walking")
    XCTAssertEqual(GrandChallengeImporter.activity(of: "jw_stairupf1"), "stair_ascent")
    XCTAssertEqual(GrandChallengeImporter.activity(of: "jw_2legsquat1"), "squat")
    XCTAssertEqual(GrandChallengeImporter.activity(of: "jw_chairrise1"), "sit_to_stand")
    XCTAssertEqual(GrandChallengeImporter.activity(of: "jw_1legstand1"), "1legstand")
    XCTAssertEqual(GrandChallengeImporter.subject(of: "jw_ngait_og3"), "JW")
  }

  func testMappingErrors() {
    XCTAssertThrowsError(try MarkerMapping.parse("pelvis_right_asis,RASI\nknee,X\n", file: "m.csv"))
    {
      XCTAssertTrue("\($0)".hasPrefix("m.csv:2: unknown role \"knee\""), "\($0)")
    }
    XCTAssertThrowsError(try MarkerMapping.parse("thigh_distal,A\nthigh_distal,B\n", file: "m.csv"))
    {
      XCTAssertTrue("\($0)".hasPrefix("m.csv:2: role thigh_distal given twice"), "\($0)")
    }
    XCTAssertThrowsError(try MarkerMapping.parse("thigh_distal,A\n", file: "m.csv")) {
      XCTAssertTrue("\($0)".contains("mapping lacks the roles pelvis_right_asis"), "\($0)")
    }
    XCTAssertEqual(MarkerMapping.grandChallenge.mirroredNames["thigh_lateral"], "LThighLateral")
    XCTAssertEqual(MarkerMapping.grandChallenge.mirroredNames["pelvis_right_asis"], "RAsis")
  }

}
