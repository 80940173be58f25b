import Foundation
import Models
import VisionIO
import XCTest
import ZooTestSupport

@testable import ZooCommands

/// `zoo preprocess` end to end: the tensor classify feeds the model.
final class PreprocessCommandTests: XCTestCase {
    private var visionFixtures: URL { Fixtures.packageRoot.appendingPathComponent("Tests/VisionIOTests/Fixtures") }

    /// The binary writes exactly what the library's eval transform computes, as (1, 3, H, W).
    func testMatchesLibraryEvalTransform() throws {
        let zoo = try builtZoo()
        let photo = try Fixtures.samplesDirectory().appendingPathComponent("chelsea.png")
        let output = try scratchDirectory(self, files: [:]).appendingPathComponent("x.npy")
        let (status, _, stderr) = try runZoo(
            zoo, ["preprocess", "--model", "resnet50", photo.path, "--output", output.path])
        XCTAssertEqual(status, 0, stderr)
        let array = try NumpyArray.read(contentsOf: output)
        XCTAssertEqual(array.shape, [1, 3, 224, 224])
        let config = PreprocessConfig(try ModelRegistry.entry(named: "resnet50").pretrained)
        XCTAssertEqual(array.values, try config.evalTransform(try Image(contentsOf: photo)))
    }

    /// Against timm's own eval transform (`create_transform(**resolve_data_config(...))`), the tensors
    /// Tests/VisionIOTests/Fixtures/make_fixtures.py committed for five model / photo pairs.
    func testMatchesTimmReferenceTensors() throws {
        let zoo = try builtZoo()
        let samples = try Fixtures.samplesDirectory()
        let manifest = try XCTUnwrap(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: visionFixtures.appendingPathComponent("manifest.json")))
                as? [String: Any])
        let entries = try XCTUnwrap(manifest["preprocess"] as? [[String: Any]])
        XCTAssertFalse(entries.isEmpty)
        let dir = try scratchDirectory(self, files: [:])
        var compared = 0
        for entry in entries {
            let model = try XCTUnwrap(entry["model"] as? String)
            let image = try XCTUnwrap(entry["image"] as? String)
            let photo = samples.appendingPathComponent(image)
            // The references describe one version of each photo; another download is not this command's fault.
            let size = (try? FileManager.default.attributesOfItem(atPath: photo.path)[.size] as? NSNumber)?.intValue
            guard size == entry["bytes"] as? Int else { continue }
            let output = dir.appendingPathComponent("\(model).npy")
            let (status, _, stderr) = try runZoo(
                zoo, ["preprocess", "--model", model, photo.path, "--output", output.path])
            XCTAssertEqual(status, 0, "\(model): \(stderr)")
            let actual = try NumpyArray.read(contentsOf: output)
            let expected = try NumpyArray.read(
                contentsOf: visionFixtures.appendingPathComponent("preprocess")
                    .appendingPathComponent(try XCTUnwrap(entry["tensor"] as? String)))
            XCTAssertEqual(actual.shape, [1] + expected.shape, model)
            guard actual.values.count == expected.values.count else { continue }
            let diffs = zip(actual.values, expected.values).map { abs($0 - $1) }
            XCTAssertLessThanOrEqual(diffs.max() ?? .infinity, 1e-5, "\(model) on \(image): max |diff|")
            XCTAssertLessThanOrEqual(diffs.reduce(0, +) / Float(diffs.count), 1e-6, "\(model) on \(image): mean |diff|")
            compared += 1
        }
        if compared == 0 { throw XCTSkip("no sample photo matches the version the timm references were made from") }
    }

    func testErrors() throws {
        let zoo = try builtZoo()
        let dir = try scratchDirectory(self, files: ["bad.png": "not an image"])
        let bad = dir.appendingPathComponent("bad.png").path
        let (status, _, stderr) = try runZoo(
            zoo, ["preprocess", "--model", "resnet50", bad, "--output", dir.appendingPathComponent("x.npy").path])
        XCTAssertEqual(status, 1, stderr)
        XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
        XCTAssertTrue(stderr.contains(bad), stderr)
        XCTAssertEqual(try runZoo(zoo, ["preprocess", "--model", "resnt50", bad, "--output", "x.npy"]).0, 2)
    }
}
