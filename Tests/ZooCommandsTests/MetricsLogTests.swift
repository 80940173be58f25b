import Foundation
import Weights
import XCTest

@testable import ZooCommands

/// metrics.csv: a header, one flushed row per call, and on resume the rows up to the checkpoint.
final class MetricsLogTests: XCTestCase {
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

    /// Each row is on disk as soon as it is appended (an interrupted run keeps it); a new log starts over.
    func testRowsAreWrittenAtOnceAndANewLogStartsOver() throws {
        let dir = try scratchDirectory(self, files: [:])
        let url = dir.appendingPathComponent("metrics.csv")
        let log = try MetricsLog(url: url, columns: ["epoch", "loss", "top1"], resume: false)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "epoch,loss,top1\n")
        try log.append(["0", "2.3", "0.1"])
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "epoch,loss,top1\n0,2.3,0.1\n")
        XCTAssertEqual(log.columns, ["epoch", "loss", "top1"])
        _ = try MetricsLog(url: url, columns: ["epoch", "loss", "top1"], resume: false)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "epoch,loss,top1\n")
    }

    func testUnwritableFolderIsAWeightsError() throws {
        let url = try scratchDirectory(self, files: [:]).appendingPathComponent("missing/metrics.csv")
        XCTAssertThrowsError(try MetricsLog(url: url, columns: ["epoch"], resume: false)) { error in
            guard case WeightsError.unwritable(let path, _)? = error as? WeightsError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(path, url.path)
        }
    }
}
