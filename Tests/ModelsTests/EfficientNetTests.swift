import Foundation
import Tensors
import Weights
import XCTest
import ZooTestSupport

@testable import Models

/// EfficientNet-Lite and MobileNet-V2 reproduce timm's logits, train, and load the real Lite0 weights.
final class EfficientNetTests: XCTestCase {
    func testMobileNetV2Parity() throws { try checkFixture("mobilenetv2_035") }
    func testEfficientNetLiteParity() throws { try checkFixture("tf_efficientnet_lite0_tiny") }

    /// timm's stage depths for the Lite presets (from timm.create_model(...).blocks).
    func testLiteDepthScaling() throws {
        let expected: [String: [Int]] = [
            "tf_efficientnet_lite0": [1, 2, 2, 3, 3, 4, 1], "tf_efficientnet_lite4": [1, 4, 4, 6, 6, 8, 1],
        ]
        for (name, depths) in expected {
            let model = try XCTUnwrap(try ModelRegistry.create(name) as? EfficientNet)
            XCTAssertEqual(model.stageDepths, depths, name)
        }
    }

    func testTrainingStep() throws {
        for name in ["mobilenetv2_035", "tf_efficientnet_lite0_tiny"] {
            let model = try checkFixture(name)
            try assertTrainingStep(model)
        }
    }

    func testFullSizeModelsRun() throws {
        try assertRunsAtFullSize("mobilenetv2_100")
        try assertRunsAtFullSize("tf_efficientnet_lite0", sizes: [224, 256])
    }

    /// The efficientnet_pytorch names map one to one onto timm's, per stage.
    func testEfficientNetPyTorchKeysRemap() throws {
        let w = WeightTensor(shape: [1], values: [0])
        let dict = StateDict([
            ("_conv_stem.weight", w), ("_blocks.0._depthwise_conv.weight", w), ("_blocks.0._bn1.weight", w),
            ("_blocks.1._expand_conv.weight", w), ("_blocks.1._bn0.running_mean", w), ("_blocks.1._bn2.bias", w),
            ("_blocks.3._project_conv.weight", w), ("_bn1.weight", w), ("_fc.bias", w),
        ])
        let remapped = try EfficientNet.remapEfficientNetPyTorchKeys(dict, stageDepths: [1, 2, 2])
        XCTAssertEqual(
            remapped.keys,
            [
                "conv_stem.weight", "blocks.0.0.conv_dw.weight", "blocks.0.0.bn1.weight",
                "blocks.1.0.conv_pw.weight", "blocks.1.0.bn1.running_mean", "blocks.1.0.bn3.bias",
                "blocks.2.0.conv_pw.weight", "bn2.weight", "classifier.bias",
            ])
        XCTAssertThrowsError(
            try EfficientNet.remapEfficientNetPyTorchKeys(
                StateDict([("_blocks.9._bn0.weight", w)]), stageDepths: [1, 2])
        ) {
            XCTAssertEqual($0 as? WeightsError, .unexpectedKeys(["_blocks.9._bn0.weight"]))
        }
        // A checkpoint already in timm's naming passes through unchanged.
        let entry = try ModelRegistry.entry(named: "tf_efficientnet_lite0")
        let arguments: ModelArguments = ["num_classes": 10, "channel_multiplier": 0.5, "depth_multiplier": 0.5]
        let timmNamed = try Fixtures.parityWeights("tf_efficientnet_lite0_tiny")
        XCTAssertEqual(try XCTUnwrap(entry.create(arguments) as? EfficientNet).timmNamed(timmNamed), timmNamed)
        _ = try entry.create(loading: timmNamed, arguments)
    }

    /// The real EfficientNet-Lite0 checkpoint (efficientnet_pytorch naming) gives timm's logits
    /// (Fixtures/make_efficientnet_lite0_reference.py) on a deterministic 224×224 pattern.
    func testRealLite0WeightsMatchTimm() throws {
        let model = try ModelRegistry.entry(named: "tf_efficientnet_lite0").create(
            weightsAt: Fixtures.efficientNetLite0Weights())
        model.eval()
        let reference = try loadSafetensors(
            Fixtures.packageRoot
                .appendingPathComponent("Tests/ModelsTests/Fixtures/efficientnet_lite0_reference.safetensors"))
        let expected = try XCTUnwrap(reference["logits"])
        let logits = try withoutGrad { try model(Self.patternInput()) }
        XCTAssertEqual(logits.shape, expected.shape)
        Fixtures.assertParity(logits.scalars, expected.values, "efficientnet_lite0 real weights")
    }

    /// x[0, c, h, w] = sin(0.11·h + 0.07·w + 1.3·c) · cos(0.05·w − 0.03·h·(c+1)), as the script computes it.
    static func patternInput(size: Int = 224) throws -> Tensor {
        var values: [Float] = []
        values.reserveCapacity(3 * size * size)
        for c in 0..<3 {
            for h in 0..<size {
                for w in 0..<size {
                    let (cd, hd, wd) = (Double(c), Double(h), Double(w))
                    values.append(Float(sin(0.11 * hd + 0.07 * wd + 1.3 * cd) * cos(0.05 * wd - 0.03 * hd * (cd + 1))))
                }
            }
        }
        return try Tensor(shape: [1, 3, size, size], scalars: values)
    }
}
