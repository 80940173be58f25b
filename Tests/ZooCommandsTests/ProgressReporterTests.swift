import XCTest

@testable import ZooCommands

/// The progress line's clock: m:ss below an hour, h:mm:ss from there, rounded to the second.
final class ProgressReporterTests: XCTestCase {
    func testClockFormat() {
        XCTAssertEqual(ProgressReporter.clock(75), "1:15")
        XCTAssertEqual(ProgressReporter.clock(3725), "1:02:05")
    }

    func testClockRoundsAndPads() {
        XCTAssertEqual(ProgressReporter.clock(0), "0:00")
        XCTAssertEqual(ProgressReporter.clock(59.4), "0:59")
        XCTAssertEqual(ProgressReporter.clock(59.5), "1:00")
        XCTAssertEqual(ProgressReporter.clock(3599), "59:59")
        XCTAssertEqual(ProgressReporter.clock(3600), "1:00:00")
        XCTAssertEqual(ProgressReporter.clock(36_061), "10:01:01")
    }
}
