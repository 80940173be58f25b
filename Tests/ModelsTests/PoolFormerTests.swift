import XCTest
import Tensors
import ZooTestSupport
@testable import Models

final class PoolFormerTests: XCTestCase {
    func testParity() throws { try checkFixture("poolformer_tiny") }

    func testTrainingStepReachesEveryParameter() throws {
        let model = try ModelRegistry.create("poolformer_s12", ["depths": [1, 1, 1, 1], "dims": [8, 16, 16, 24], "num_classes": 5])
        try assertEveryParameterGetsGradient(model)
    }

    func testFullSizeAt224() throws { try assertFullSizeForward("poolformer_s12", size: 224) }
}
