import Randomness
import Tensors
import Weights
import XCTest
import ZooTestSupport

@testable import Models

final class VisionTransformerTests: XCTestCase {
    func testParity() throws { try checkFixture("vit_tiny_patch16_tiny") }

    /// Expected values: torch.nn.functional.interpolate(x, size=(3, 4), mode='bicubic', antialias=True,
    /// align_corners=False) on x = arange(6)² as a (1, 1, 2, 3) grid; and size (1, 2) (timm's resampling).
    func testBicubicResampleMatchesTorch() throws {
        let grid = try Tensor(shape: [1, 6, 1], scalars: [0, 1, 4, 9, 16, 25])
        let up = try resamplePositionEmbedding(grid, prefixTokens: 0, from: (2, 3), to: (3, 4))
        let expectedUp: [Float] = [
            -0.623722, -0.395535, 1.028029, 2.75452, 4.291045, 6.586061, 11.020112, 14.813433,
            9.205813, 13.567661, 21.012199, 26.872353,
        ]
        XCTAssertEqual(up.shape, [1, 12, 1])
        for (a, e) in zip(up.scalars, expectedUp) { XCTAssertEqual(a, e, accuracy: 1e-4) }
        let withPrefix = try Tensor(shape: [1, 7, 1], scalars: [42, 0, 1, 4, 9, 16, 25])
        let down = try resamplePositionEmbedding(withPrefix, prefixTokens: 1, from: (2, 3), to: (1, 2))
        XCTAssertEqual(down.scalars.count, 3)
        for (a, e) in zip(down.scalars, [42, 5.658907, 12.560995] as [Float]) { XCTAssertEqual(a, e, accuracy: 1e-4) }
    }

    /// A 32×32 model on a 48×48 input: timm with dynamic_img_size=True (scripts/token-mixing-references.py).
    func testOtherInputSizeMatchesTimmDynamicImageSize() throws {
        let model = try ModelRegistry.create(
            "vit_tiny_patch16_224",
            [
                "img_size": 32, "patch_size": 8, "embed_dim": 16, "depth": 1,
                "num_heads": 2, "num_classes": 5, "dynamic_img_size": true,
            ])
        try FormulaWeights.assertLogits(
            model, inputSize: 48, expected: [2.150194, 1.297046, -0.490332, -1.912733, -1.938793], "vit_dynamic_48")
    }

    /// No class token, average pooling with `fc_norm` (scripts/token-mixing-references.py).
    func testAveragePoolingWithoutClassTokenMatchesTimm() throws {
        let model = try ModelRegistry.create(
            "vit_tiny_patch16_224",
            [
                "img_size": 32, "patch_size": 8, "embed_dim": 16, "depth": 2, "num_heads": 2,
                "num_classes": 5, "class_token": false, "global_pool": "avg",
            ])
        XCTAssertFalse(model.stateDict().contains { $0.name == "cls_token" || $0.name.hasPrefix("norm.") })
        try FormulaWeights.assertLogits(
            model, inputSize: 32, expected: [-2.079, -0.797149, 1.012408, 2.079092, 1.672264], "vit_avg_no_class_token")
    }

    /// vit_small_patch16_224 at 384 against timm with dynamic_img_size=True (formula weights).
    func testFullSizeAt384MatchesTimm() throws {
        try FormulaWeights.assertFingerprint(
            "vit_small_patch16_224", inputSize: 384,
            first8: [0.30392, -2.19728, 1.20507, 0.71975, -1.95903, 1.28402, 1.25231, -1.97502], sum: -1.7449,
            maxAbs: 2.2642)
    }

    /// 64-pixel weights adapted into a 96-pixel model give what the 64-pixel model computes on 96-pixel input.
    func testCheckpointAdaptsToAnotherImageSize() throws {
        let small = try checkFixture("vit_tiny_patch16_tiny")
        let large = try XCTUnwrap(
            ModelRegistry.create("vit_tiny_patch16_224", ["img_size": 96, "depth": 2, "num_classes": 10])
                as? VisionTransformer)
        let weights = try Fixtures.parityWeights("vit_tiny_patch16_tiny")
        XCTAssertThrowsError(try large.load(weights))
        try large.load(large.adaptingPositionEmbedding(weights))
        var rng = RandomGenerator(seed: 5)
        let input = try Tensor.normal([1, 3, 96, 96], using: &rng)
        let (expected, actual) = try withoutGrad { (try small(input), try large(input)) }
        Fixtures.assertParity(actual.scalars, expected.scalars, "adapted pos_embed")
    }

    func testTrainingStepReachesEveryParameter() throws {
        for pool in ["token", "avg"] {
            let model = try ModelRegistry.create(
                "vit_tiny_patch16_224",
                [
                    "img_size": 32, "patch_size": 8, "embed_dim": 24, "depth": 2,
                    "num_heads": 2, "num_classes": 5, "global_pool": .string(pool),
                ])
            try assertEveryParameterGetsGradient(model)
        }
    }

    /// The canonical model at 224; a model built for 384 has the 24×24 grid (384 inputs: testFullSizeAt384MatchesTimm).
    func testFullSizeAt224() throws {
        try assertFullSizeForward("vit_small_patch16_224", size: 224)
        let model = try ModelRegistry.create("vit_tiny_patch16_224", ["img_size": 384])
        XCTAssertEqual(model.stateDict().first { $0.name == "pos_embed" }?.tensor.shape, [1, 577, 192])
    }
}
