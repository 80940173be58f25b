import XCTest
import Tensors
import Weights
import ZooTestSupport
@testable import Models

final class VisionTransformerTests: XCTestCase {
    func testParity() throws { try checkFixture("vit_tiny_patch16_tiny") }

    /// Expected values: torch.nn.functional.interpolate(x, size=(3, 4), mode='bicubic', align_corners=False)
    /// on x = arange(6)² as a (1, 1, 2, 3) grid; and size (1, 2).
    func testBicubicResampleMatchesTorch() throws {
        let grid = try Tensor(shape: [1, 6, 1], scalars: [0, 1, 4, 9, 16, 25])
        let up = try resamplePositionEmbedding(grid, prefixTokens: 0, from: (2, 3), to: (3, 4))
        let expectedUp: [Float] = [-0.815644, -0.747121, 0.643931, 2.355032, 4.212891, 6.399414, 11.101562, 14.930664,
                                   9.241423, 13.545948, 21.559193, 27.506296]
        XCTAssertEqual(up.shape, [1, 12, 1])
        for (a, e) in zip(up.scalars, expectedUp) { XCTAssertEqual(a, e, accuracy: 1e-4) }
        let withPrefix = try Tensor(shape: [1, 7, 1], scalars: [42, 0, 1, 4, 9, 16, 25])
        let down = try resamplePositionEmbedding(withPrefix, prefixTokens: 1, from: (2, 3), to: (1, 2))
        XCTAssertEqual(down.scalars.count, 3)
        for (a, e) in zip(down.scalars, [42, 5.195312, 13.28125] as [Float]) { XCTAssertEqual(a, e, accuracy: 1e-4) }
    }

    func testTrainingStepReachesEveryParameter() throws {
        for pool in ["token", "avg"] {
            let model = try ModelRegistry.create("vit_tiny_patch16_224", ["img_size": 32, "patch_size": 8, "embed_dim": 24, "depth": 2,
                                                                          "num_heads": 2, "num_classes": 5, "global_pool": .string(pool)])
            try assertEveryParameterGetsGradient(model)
        }
    }

    /// A model built for 224 runs at 384 with its position embedding resampled (timm dynamic_img_size),
    /// and a model built for 384 has the 24×24 grid.
    func testFullSizeAt224And384() throws {
        try assertFullSizeForward("vit_small_patch16_224", size: 224)
        try assertFullSizeForward("vit_small_patch16_224", size: 384)
        let model = try ModelRegistry.create("vit_tiny_patch16_224", ["img_size": 384])
        XCTAssertEqual(model.stateDict().first { $0.name == "pos_embed" }?.tensor.shape, [1, 577, 192])
    }
}
