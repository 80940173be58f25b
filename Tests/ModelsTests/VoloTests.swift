import Tensors
import XCTest
import ZooTestSupport

@testable import Models

final class VoloTests: XCTestCase {
    func testParity() throws { try checkFixture("volo_tiny") }

    func testTrainingStepReachesEveryParameter() throws {
        let model = try ModelRegistry.create(
            "volo_d1_224",
            [
                "img_size": 32, "layers": [1, 1, 1, 1], "embed_dims": [8, 16, 16, 16],
                "num_heads": [1, 2, 2, 2], "stem_hidden_dim": 8, "num_classes": 5,
            ])
        try assertEveryParameterGetsGradient(model)
    }

    /// Full-size volo_d1 with formula weights against timm (scripts/token-mixing-references.py).
    func testFullSizeMatchesTimm() throws {
        try FormulaWeights.assertFingerprint(
            "volo_d1_224", inputSize: 224,
            first8: [-2.58834, 1.8528, 0.60338, -2.46903, 1.83367, 1.19418, -2.54997, 1.26868], sum: -0.4115,
            maxAbs: 2.7862)
    }
}
