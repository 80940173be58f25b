import Tensors
import XCTest
import ZooTestSupport

@testable import Models

final class MlpMixerTests: XCTestCase {
    func testParity() throws { try checkFixture("mixer_tiny") }

    func testTrainingStepReachesEveryParameter() throws {
        let model = try ModelRegistry.create(
            "mixer_s16_224", ["img_size": 32, "patch_size": 8, "num_blocks": 2, "embed_dim": 16, "num_classes": 5])
        try assertEveryParameterGetsGradient(model)
    }

    /// The token MLP is sized for img_size patches; another input size is a typed error, not a crash.
    func testOtherInputSizeIsRejected() throws {
        let model = try ModelRegistry.create(
            "mixer_s16_224", ["img_size": 32, "patch_size": 8, "num_blocks": 1, "embed_dim": 16, "num_classes": 5])
        XCTAssertThrowsError(try model(Tensor(zeros: [1, 3, 64, 64]))) { XCTAssertTrue($0 is ModelError, "\($0)") }
    }

    /// Full-size mixer_b16 with formula weights against timm (scripts/token-mixing-references.py).
    func testFullSizeMatchesTimm() throws {
        try FormulaWeights.assertFingerprint(
            "mixer_b16_224", inputSize: 224,
            first8: [0.56059, 1.76365, -2.69764, 1.0396, 0.9319, -2.54769, 2.0176, 0.46198], sum: 1.1842, maxAbs: 2.7727
        )
    }
}
