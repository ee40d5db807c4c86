import XCTest

final class KneeForceModelsTestsPlaceholder: XCTestCase {}
