import Tensors
import Weights
import XCTest
import ZooTestSupport

@testable import Models

/// Loading state dicts into modules: keys and shapes checked before anything is copied, the dict emptied as
/// the model fills, and the export that round-trips.
final class LoadingTests: XCTestCase {
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

    /// `load(strict: false)` loads what matches and ignores missing and unexpected keys; `exportStateDict`
    /// gives back what was loaded.
    func testNonStrictLoadAndExportRoundTrip() throws {
        let arguments: ModelArguments = ["layers": [1, 1, 1, 1], "channels": [8, 16, 32, 64], "num_classes": 10]
        let weights = try Fixtures.parityWeights("resnet18_tiny")
        var partial = weights
        partial["fc.bias"] = nil
        partial["extra.weight"] = WeightTensor(shape: [1], values: [0])
        let model = try ModelRegistry.create("resnet18", arguments)
        let bias = model.stateDict().first { $0.name == "fc.bias" }!.tensor.scalars
        try model.load(partial, strict: false)
        let exported = model.exportStateDict()
        XCTAssertEqual(exported["fc.weight"], weights["fc.weight"])
        XCTAssertEqual(exported["fc.bias"]?.values, bias, "a key the dict lacks keeps its value")
        XCTAssertNil(exported["extra.weight"])
        XCTAssertEqual(Set(exported.keys), Set(model.stateDict().map(\.name)))
    }
}
