import XCTest
@testable import ZooCommands

final class ZooCommandsSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
