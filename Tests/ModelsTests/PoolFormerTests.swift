import Tensors
import XCTest
import ZooTestSupport

@testable import Models

final class PoolFormerTests: XCTestCase {
    func testParity() throws { try checkFixture("poolformer_tiny") }

    func testTrainingStepReachesEveryParameter() throws {
        let model = try ModelRegistry.create(
            "poolformer_s12", ["depths": [1, 1, 1, 1], "dims": [8, 16, 16, 24], "num_classes": 5])
        try assertEveryParameterGetsGradient(model)
    }

    /// Full-size poolformer_s12 with formula weights against timm (scripts/token-mixing-references.py).
    func testFullSizeMatchesTimm() throws {
        try FormulaWeights.assertFingerprint(
            "poolformer_s12", inputSize: 224,
            first8: [-1.61601, 2.66184, -2.79722, 3.09943, -2.31816, 1.27231, -0.32818, -1.30131], sum: 1.2812,
            maxAbs: 3.2356)
    }
}
