import Tensors
import Weights
import XCTest
import ZooTestSupport

@testable import Models

final class SwinTransformerTests: XCTestCase {
    /// img_size 64, window 4: stage 2 (4×4) runs unshifted full-map windows, stage 3 (2×2) shrinks its window to 2.
    func testParity() throws { try checkFixture("swin_tiny_window4") }

    /// 14×14 and 7×7 maps with window 4: padded to 16 / 8, shifted by 2 with masks, odd-size patch merging.
    /// Expected logits: scripts/token-mixing-references.py (timm with formula weights).
    func testShiftedPaddedWindowsMatchTimm() throws {
        let model = try ModelRegistry.create(
            "swin_tiny_patch4_window7_224",
            [
                "img_size": 56, "window_size": 4, "embed_dim": 8,
                "depths": [2, 2, 2], "num_heads": [1, 2, 2], "num_classes": 5,
            ])
        try FormulaWeights.assertLogits(
            model, inputSize: 56, expected: [-0.498828, -2.062416, 1.440435, 1.938473, -1.799169], "swin_shifted_padded"
        )
    }

    /// Full-size swin_tiny with formula weights against timm at 224 and (timm built with img_size=384) at 384,
    /// where the 96×96 … 12×12 maps are padded to multiples of 7 and the shifted-window masks rebuilt.
    func testFullSizeMatchesTimm() throws {
        try FormulaWeights.assertFingerprint(
            "swin_tiny_patch4_window7_224", inputSize: 224,
            first8: [0.82038, 1.68729, -2.46165, 1.75949, 0.81238, -2.60616, 2.01144, -0.28238], sum: 1.5328,
            maxAbs: 2.8599)
        try FormulaWeights.assertFingerprint(
            "swin_tiny_patch4_window7_224", inputSize: 384,
            first8: [0.82054, 1.68726, -2.46179, 1.75968, 0.8123, -2.60624, 2.01163, -0.28251], sum: 1.5328,
            maxAbs: 2.8601)
    }

    /// timm's get_relative_position_index(2, 2) (row-major 4×4).
    func testRelativePositionIndexMatchesTimm() throws {
        let attention = try WindowAttention(dim: 8, heads: 1, window: 2)
        XCTAssertEqual(attention.tableIndex, [4, 3, 1, 0, 5, 4, 2, 1, 7, 6, 4, 3, 8, 7, 5, 4])
    }

    func testTrainingStepReachesEveryParameter() throws {
        let model = try ModelRegistry.create(
            "swin_tiny_patch4_window7_224",
            [
                "img_size": 32, "window_size": 2, "embed_dim": 8,
                "depths": [2, 2], "num_heads": [1, 2], "num_classes": 5,
            ])
        try assertEveryParameterGetsGradient(model)
    }

    /// Old checkpoints' derived buffers are dropped so they load strictly.
    func testDerivedBuffersAreRemoved() throws {
        var weights = try Fixtures.parityWeights("swin_tiny_window4")
        weights["layers.0.blocks.0.attn.relative_position_index"] = WeightTensor(
            shape: [16, 16], values: [Float](repeating: 0, count: 256))
        weights["layers.0.blocks.1.attn_mask"] = WeightTensor(shape: [1], values: [0])
        let model = try ModelRegistry.create(
            "swin_tiny_patch4_window7_224",
            [
                "img_size": 64, "window_size": 4, "depths": [1, 1, 2, 1],
                "embed_dim": 24, "num_heads": [1, 2, 3, 6], "num_classes": 10,
            ])
        XCTAssertThrowsError(try model.load(weights))
        try model.load(SwinTransformer.removingDerivedBuffers(weights))
    }
}
