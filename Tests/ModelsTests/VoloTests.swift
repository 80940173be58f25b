import XCTest
import Tensors
import ZooTestSupport
@testable import Models

final class VoloTests: XCTestCase {
    func testParity() throws { try checkFixture("volo_tiny") }

    func testTrainingStepReachesEveryParameter() throws {
        let model = try ModelRegistry.create("volo_d1_224", ["img_size": 32, "layers": [1, 1, 1, 1], "embed_dims": [8, 16, 16, 16],
                                                             "num_heads": [1, 2, 2, 2], "stem_hidden_dim": 8, "num_classes": 5])
        try assertEveryParameterGetsGradient(model)
    }

    func testFullSizeAt224() throws { try assertFullSizeForward("volo_d1_224", size: 224) }
}
