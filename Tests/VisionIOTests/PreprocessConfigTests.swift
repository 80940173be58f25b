import Foundation
import XCTest

@testable import VisionIO

final class PreprocessConfigTests: XCTestCase {
    /// Tensors from timm's `create_transform(**resolve_data_config(pretrained_cfg))` on the sample photos.
    func testEvalTransformMatchesTimm() throws {
        let samples = try Fixtures.samplesDirectory()
        let entries = try XCTUnwrap(try Fixtures.manifest()["preprocess"] as? [[String: Any]])
        XCTAssertEqual(entries.count, 5)
        for entry in entries {
            let model = try XCTUnwrap(entry["model"] as? String)
            let inputSize = try XCTUnwrap(entry["input_size"] as? [Int])
            let config = PreprocessConfig(
                inputSize: (inputSize[0], inputSize[1], inputSize[2]),
                mean: try XCTUnwrap(entry["mean"] as? [Double]).map(Float.init),
                std: try XCTUnwrap(entry["std"] as? [Double]).map(Float.init),
                cropPct: try XCTUnwrap(entry["crop_pct"] as? Double),
                interpolation: try XCTUnwrap(ResampleFilter(rawValue: XCTUnwrap(entry["interpolation"] as? String))))
            let url = samples.appendingPathComponent(try XCTUnwrap(entry["image"] as? String))
            // The fixtures describe one version of each sample photo; a different download is not a failure here.
            let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue
            guard size == entry["bytes"] as? Int else {
                print("skipping \(model): \(url.lastPathComponent) differs from the fixture's version")
                continue
            }
            // timm's loader does not apply EXIF orientation.
            let image = try Image(contentsOf: url, applyExifOrientation: false)
            let expected = try NumpyArray.read(
                contentsOf: Fixtures.url("preprocess", XCTUnwrap(entry["tensor"] as? String)))
            XCTAssertEqual(expected.shape, [3, inputSize[1], inputSize[2]], model)
            let actual = try config.evalTransform(image)
            XCTAssertEqual(actual.count, expected.values.count, model)
            let diffs = zip(actual, expected.values).map { abs($0 - $1) }
            let maxDiff = diffs.max() ?? .infinity
            let meanDiff = diffs.reduce(0, +) / Float(diffs.count)
            print("\(model): max |diff| \(maxDiff), mean |diff| \(meanDiff)")
            XCTAssertLessThanOrEqual(maxDiff, 1e-5, model)  // bit-exact pixels; only float rounding may differ
            XCTAssertLessThanOrEqual(meanDiff, 1e-6, model)
        }
    }

    func testScaleSizeIsFloorOfSizeOverCropPct() {
        XCTAssertEqual(PreprocessConfig(cropPct: 0.95).scaleSize.height, 235)
        XCTAssertEqual(PreprocessConfig(cropPct: 0.875).scaleSize.height, 256)
        XCTAssertEqual(PreprocessConfig(cropPct: 0.9).scaleSize.height, 248)
        XCTAssertEqual(PreprocessConfig(cropPct: 0.96).scaleSize.height, 233)
        XCTAssertEqual(PreprocessConfig(inputSize: (3, 224, 288), cropPct: 1.0).scaleSize.width, 288)
    }
}
