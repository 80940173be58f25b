import ArgumentParser
import Foundation
import XCTest

@testable import ZooCommands

/// The published interpolation case: 2 GT boxes, detections ranked hit, miss, hit.
/// pycocotools: AP 0.8349835; VOC all-point 0.8333333, 11-point 0.8484848.
private let groundTruth = """
    {"images": [{"id": 1}], "categories": [{"id": 1, "name": "thing"}],
     "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 50, 50], "area": 2500, "iscrowd": 0},
                     {"id": 2, "image_id": 1, "category_id": 1, "bbox": [100, 100, 50, 50], "area": 2500, "iscrowd": 0}]}
    """
private let detections = """
    [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 50, 50], "score": 0.9},
     {"image_id": 1, "category_id": 1, "bbox": [300, 300, 50, 50], "score": 0.8},
     {"image_id": 1, "category_id": 1, "bbox": [100, 100, 50, 50], "score": 0.7}]
    """

final class EvalDetectionsCommandTests: XCTestCase {
    private func files() throws -> (gt: String, dt: String, dir: URL) {
        let dir = try scratchDirectory(
            self,
            files: [
                "gt.json": groundTruth, "dt.json": detections,
                "bad.json": #"[{"image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}]"#,
            ])
        return (dir.appendingPathComponent("gt.json").path, dir.appendingPathComponent("dt.json").path, dir)
    }

    private func output(_ arguments: [String]) throws -> String {
        let command = try XCTUnwrap(try Zoo.parseAsRoot(arguments) as? EvalDetectionsCommand)
        return try command.output()
    }

    func testTextSummary() throws {
        let f = try files()
        let lines = try output(["eval-detections", "--gt", f.gt, "--dt", f.dt]).split(separator: "\n")
        XCTAssertEqual(lines.count, 12)
        XCTAssertEqual(lines[0], " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.835")
        XCTAssertEqual(lines[11], " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000")
    }

    func testJSON() throws {
        let f = try files()
        let text = try output(["eval-detections", "--gt", f.gt, "--dt", f.dt, "--json"])
        XCTAssertTrue(text.hasPrefix(#"{"AP":0.83498349834983"#), text)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Double])
        XCTAssertEqual(
            Set(object.keys), ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"])
        XCTAssertEqual(try XCTUnwrap(object["AP"]), 0.8349835, accuracy: 5e-8)
        XCTAssertEqual(object["APs"], -1)
    }

    func testVOC() throws {
        let f = try files()
        let allPoint = try output(["eval-detections", "--gt", f.gt, "--dt", f.dt, "--voc"])
        XCTAssertTrue(allPoint.hasSuffix("  mAP       0.8333"), allPoint)
        let eleven = try output(["eval-detections", "--gt", f.gt, "--dt", f.dt, "--voc-11-point", "--json"])
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(eleven.utf8)) as? [String: Any])
        let voc = try XCTUnwrap(object["voc"] as? [String: Any])
        XCTAssertEqual(voc["method"] as? String, "11-point")
        XCTAssertEqual(try XCTUnwrap(voc["mAP"] as? Double), 0.8484848, accuracy: 5e-8)
    }

    func testIoUThresholdOverride() throws {
        let f = try files()
        let text = try output(["eval-detections", "--gt", f.gt, "--dt", f.dt, "--json", "--iou-thresholds", "0.5"])
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Double])
        XCTAssertEqual(object["AP"], object["AP50"])
        XCTAssertEqual(object["AP75"], -1)  // 0.75 is not among the thresholds
    }

    func testMalformedInputNamesTheCulprit() throws {
        let f = try files()
        let bad = f.dir.appendingPathComponent("bad.json").path
        let error = try XCTUnwrap(commandError(["eval-detections", "--gt", f.gt, "--dt", bad]))
        XCTAssertEqual(Zoo.exitCode(for: error), .failure)
        XCTAssertEqual(Zoo.message(for: error), "\(bad): [0].image_id: unknown image id 9 (not in the ground truth)")
        let missing = try XCTUnwrap(
            commandError(["eval-detections", "--gt", f.dir.appendingPathComponent("nope.json").path, "--dt", f.dt]))
        XCTAssertTrue(Zoo.message(for: missing).hasSuffix("nope.json: no such file"))
    }

    func testBadUsageIsAValidationError() throws {
        let f = try files()
        let error = try XCTUnwrap(
            commandError(["eval-detections", "--gt", f.gt, "--dt", f.dt, "--iou-thresholds", "0.5,x"]))
        XCTAssertEqual(Zoo.exitCode(for: error), .validationFailure)
        XCTAssertEqual(Zoo.message(for: error), "--iou-thresholds: 'x' is not a number in (0, 1]")
        XCTAssertNotNil(commandError(["eval-detections", "--gt", f.gt]))
    }

    /// End to end through the binary: stdout, and a one-line stderr error with exit status 1.
    func testBinaryExitStatus() throws {
        guard let zoo = zooExecutable() else { throw XCTSkip("zoo executable not built next to the tests") }
        let f = try files()
        let (status, stdout, _) = try runZoo(zoo, ["eval-detections", "--gt", f.gt, "--dt", f.dt, "--json"])
        XCTAssertEqual(status, 0)
        XCTAssertTrue(stdout.hasPrefix(#"{"AP":"#))
        let (failure, _, stderr) = try runZoo(
            zoo, ["eval-detections", "--gt", f.gt, "--dt", f.dir.appendingPathComponent("bad.json").path])
        XCTAssertEqual(failure, 1)
        XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
        XCTAssertTrue(stderr.contains("[0].image_id: unknown image id 9"), stderr)
        // Bad usage (a required option missing, an unknown flag) exits 2, as the CLI contract says.
        XCTAssertEqual(try runZoo(zoo, ["eval-detections", "--gt", f.gt]).0, 2)
        XCTAssertEqual(try runZoo(zoo, ["eval-detections", "--gt", f.gt, "--dt", f.dt, "--no-such-flag"]).0, 2)
    }
}
