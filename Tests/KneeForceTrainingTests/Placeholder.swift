import XCTest

final class KneeForceTrainingPlaceholder: XCTestCase {}
