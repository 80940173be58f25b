import Foundation
import XCTest

@testable import ZooCommands

/// Repeated timings: warm-up runs first and uncounted, then the median and spread of the timed runs.
final class TimingTests: XCTestCase {
    func testWarmupThenTimedRuns() {
        var calls = 0
        let summary = TimingSummary.measure(warmup: 2, iterations: 5) {
            calls += 1
            usleep(2000)
        }
        XCTAssertEqual(calls, 7)
        XCTAssertGreaterThanOrEqual(summary.minMilliseconds, 2)  // each timed run sleeps 2 ms
        XCTAssertLessThanOrEqual(summary.minMilliseconds, summary.medianMilliseconds)
        XCTAssertLessThanOrEqual(summary.medianMilliseconds, summary.maxMilliseconds)
    }

    /// At least one timed run, whatever is asked; an error stops the measurement.
    func testAtLeastOneRunAndErrorsPropagate() {
        struct Failure: Error {}
        var calls = 0
        _ = TimingSummary.measure(warmup: 0, iterations: 0) { calls += 1 }
        XCTAssertEqual(calls, 1)
        calls = 0
        XCTAssertThrowsError(
            try TimingSummary.measure(warmup: 1, iterations: 3) {
                calls += 1
                if calls == 2 { throw Failure() }
            })
        XCTAssertEqual(calls, 2)
    }

    /// The JSON that `zoo bench --json` prints.
    func testEncodesItsFields() throws {
        let summary = TimingSummary(medianMilliseconds: 2, minMilliseconds: 1, maxMilliseconds: 3)
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(summary)) as? [String: Double]
        XCTAssertEqual(object, ["medianMilliseconds": 2, "minMilliseconds": 1, "maxMilliseconds": 3])
    }
}
