import XCTest

final class KneeForceDataTestsPlaceholder: XCTestCase {}
