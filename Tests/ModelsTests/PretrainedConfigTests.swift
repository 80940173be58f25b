import VisionIO
import XCTest

@testable import Models

/// timm's pretrained_cfg and the eval transform it implies.
final class PretrainedConfigTests: XCTestCase {
    /// timm's defaults: 224², ImageNet mean and std, crop 0.875, bicubic, 1000 classes, not on the Hub.
    func testDefaultsAreTimms() {
        let config = PretrainedConfig(tag: "x")
        XCTAssertEqual(config.inputSize, [3, 224, 224])
        XCTAssertEqual(config.mean, [0.485, 0.456, 0.406])
        XCTAssertEqual(config.std, [0.229, 0.224, 0.225])
        XCTAssertEqual(config.cropPct, 0.875)
        XCTAssertEqual(config.interpolation, .bicubic)
        XCTAssertEqual(config.numClasses, 1000)
        XCTAssertNil(config.hubID)
        XCTAssertEqual(PretrainedConfig.inceptionMean, [0.5, 0.5, 0.5])
        XCTAssertEqual(PretrainedConfig.inceptionStd, [0.5, 0.5, 0.5])
    }

    /// The eval transform takes the config's size, statistics, crop and filter; `imageSize` replaces the size
    /// only. timm resizes to floor(size / crop_pct): 288 / 0.95 → 303, 320 / 0.95 → 336.
    func testPreprocessingFollowsTheConfig() {
        let config = PretrainedConfig(
            tag: "x", inputSize: 288, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], cropPct: 0.95,
            interpolation: .bilinear)
        let preprocess = PreprocessConfig(config)
        XCTAssertEqual([preprocess.height, preprocess.width], [288, 288])
        XCTAssertEqual(preprocess.scaleSize.height, 303)
        XCTAssertEqual(preprocess.mean, [0.5, 0.5, 0.5])
        XCTAssertEqual(preprocess.std, [0.25, 0.25, 0.25])
        XCTAssertEqual(preprocess.interpolation, .bilinear)
        XCTAssertEqual(preprocess.cropPct, Double(Float(0.95)))
        let resized = PreprocessConfig(config, imageSize: 320)
        XCTAssertEqual([resized.height, resized.width], [320, 320])
        XCTAssertEqual(resized.scaleSize.height, 336)
        XCTAssertEqual(resized.mean, [0.5, 0.5, 0.5])
    }

    /// The Codable form keeps every field (the `models --json` listing and checkpoints carry it).
    func testCodableRoundTrip() throws {
        let config = PretrainedConfig(tag: "in21k", inputSize: 384, cropPct: 1, numClasses: 21843, hubID: "timm/m.t")
        XCTAssertEqual(try JSONDecoder().decode(PretrainedConfig.self, from: JSONEncoder().encode(config)), config)
    }
}
