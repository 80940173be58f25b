import Foundation
import XCTest

@testable import ZooCommands

/// The command line's side of a training run: the loss curve it draws.
final class TrainingOutputsTests: XCTestCase {
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
}
