import XCTest
@testable import Tensors

final class TensorsSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
