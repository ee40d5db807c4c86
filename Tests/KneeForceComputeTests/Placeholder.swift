import XCTest

final class KneeForceComputeTestsPlaceholder: XCTestCase {}
