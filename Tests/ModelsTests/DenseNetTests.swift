import Tensors
import XCTest
import ZooTestSupport

@testable import Models

/// DenseNet reproduces timm's logits and trains.
final class DenseNetTests: XCTestCase {
    func testDenseNet121Parity() throws { try checkFixture("densenet121_tiny") }

    func testTrainingStep() throws {
        try assertTrainingStep(try checkFixture("densenet121_tiny"))
    }

    func testFullSizeModelRuns() throws {
        try assertRunsAtFullSize("densenet121", sizes: [224, 256])
    }

    /// Channels grow by k per layer and halve at each transition (timm's num_features: 1024 and 32).
    func testFeatureWidth() throws {
        XCTAssertEqual(try ModelRegistry.create("densenet121").numFeatures, 1024)
        XCTAssertEqual(
            try ModelRegistry.create("densenet121", ["growth_rate": 8, "block_config": [2, 2, 2, 2]]).numFeatures, 32)
    }
}
