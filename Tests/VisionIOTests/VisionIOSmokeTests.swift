import XCTest
@testable import VisionIO

final class VisionIOSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
