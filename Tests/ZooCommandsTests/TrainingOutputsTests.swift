import Foundation
import XCTest

@testable import ZooCommands

/// The command line's side of a training run: metrics.csv across a resume, the progress clock.
final class TrainingOutputsTests: XCTestCase {
    func testMetricsLogAppendsOnResume() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: url) }
        try MetricsLog(url: url, columns: ["epoch", "loss"], resume: false).append(["0", "1.5"])
        try MetricsLog(url: url, columns: ["epoch", "loss"], resume: true).append(["1", "1.2"])
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "epoch,loss\n0,1.5\n1,1.2\n")
        // Rows after the checkpoint are dropped on resume: they will be logged again.
        try MetricsLog(url: url, columns: ["epoch", "loss"], resume: true) { $0.first != "1" }.append(["1", "1.1"])
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "epoch,loss\n0,1.5\n1,1.1\n")
    }

    /// The loss curve spans its points: first and last epochs at the chart's left and right margins.
    func testLossCurveDrawsEveryEpoch() throws {
        let chart = try XCTUnwrap(lossCurve([(1, 2.0), (2, 1.5), (3, 1.0)]))
        XCTAssertEqual([chart.width, chart.height], [480, 240])
        let red = (0..<chart.width * chart.height).filter {
            chart.pixels[$0 * 3] == 214 && chart.pixels[$0 * 3 + 1] == 39
        }
        XCTAssertFalse(red.isEmpty, "epoch markers")
        XCTAssertNil(lossCurve([]))
    }

    func testClockFormat() {
        XCTAssertEqual(ProgressReporter.clock(75), "1:15")
        XCTAssertEqual(ProgressReporter.clock(3725), "1:02:05")
    }
}
