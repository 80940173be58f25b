import Tensors
import XCTest
import ZooTestSupport

@testable import Models

/// MobileNet-V3 reproduces timm's logits and trains.
final class MobileNetV3Tests: XCTestCase {
    func testMobileNetV3SmallParity() throws { try checkFixture("mobilenetv3_small_050") }

    func testTrainingStep() throws {
        try assertTrainingStep(try checkFixture("mobilenetv3_small_050"))
    }

    func testFullSizeModelRuns() throws {
        try assertRunsAtFullSize("mobilenetv3_large_100")
    }

    func testPreLogitsAreTheHeadWidth() throws {
        let model = try ModelRegistry.create("mobilenetv3_small_050", ["num_classes": 10])
        let features = try withoutGrad { try model.features(Tensor(zeros: [1, 3, 64, 64])) }
        XCTAssertEqual(features.shape, [1, model.numFeatures])
        XCTAssertEqual(model.numFeatures, 1024)
    }
}
