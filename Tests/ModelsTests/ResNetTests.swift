import Tensors
import Weights
import XCTest
import ZooTestSupport

@testable import Models

/// ResNet and SE-ResNet reproduce the logits timm computed for their fixtures in ../shared/parity.
final class ResNetTests: XCTestCase {
    func testResNet18() throws { try checkFixture("resnet18_tiny") }
    func testResNet50() throws { try checkFixture("resnet50_tiny") }
    func testSEResNet50() throws { try checkFixture("seresnet50_tiny") }

    /// A checkpoint that does not fit is rejected by key, with both shapes, and leaves the model as it was.
    func testMismatchedCheckpointIsRejectedByKey() throws {
        let model = try ModelRegistry.create(
            "resnet18", ["layers": [1, 1, 1, 1], "channels": [8, 16, 32, 64], "num_classes": 10])
        var weights = try Fixtures.parityWeights("resnet18_tiny")
        weights["layer1.0.conv1.weight"] = WeightTensor(
            shape: [8, 64, 3, 1], values: [Float](repeating: 0, count: 8 * 64 * 3))
        let before = model.stateDict().first { $0.name == "conv1.weight" }!.tensor.scalars
        XCTAssertThrowsError(try model.load(weights)) { error in
            XCTAssertEqual(
                error as? WeightsError,
                .shapeMismatch(key: "layer1.0.conv1.weight", expected: [8, 64, 3, 3], actual: [8, 64, 3, 1]))
        }
        XCTAssertEqual(model.stateDict().first { $0.name == "conv1.weight" }!.tensor.scalars, before)
        weights["layer1.0.conv1.weight"] = nil
        weights["extra.weight"] = WeightTensor(shape: [1], values: [0])
        XCTAssertThrowsError(try model.load(weights)) {
            XCTAssertEqual($0 as? WeightsError, .missingKeys(["layer1.0.conv1.weight"]))
        }
    }

    /// `load(taking:)` empties the dict as it copies (so a decoded file is freed while the model fills), gives the
    /// same model as `load`, and leaves the dict whole when it rejects it.
    func testLoadTakingEmptiesTheDictOnlyOnSuccess() throws {
        let arguments: ModelArguments = ["layers": [1, 1, 1, 1], "channels": [8, 16, 32, 64], "num_classes": 10]
        let weights = try Fixtures.parityWeights("resnet18_tiny")
        var wrong = weights
        wrong["fc.weight"] = WeightTensor(shape: [10, 63], values: [Float](repeating: 0, count: 630))
        let taker = try ModelRegistry.create("resnet18", arguments)
        XCTAssertThrowsError(try taker.load(taking: &wrong))
        XCTAssertEqual(wrong.count, weights.count)

        var taken = weights
        try taker.load(taking: &taken)
        XCTAssertTrue(taken.isEmpty)
        let reference = try ModelRegistry.create("resnet18", arguments)
        try reference.load(weights)
        XCTAssertEqual(taker.exportStateDict(), reference.exportStateDict())
    }
}
