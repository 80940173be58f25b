import Foundation
import Weights
import XCTest
import ZooTestSupport

@testable import Models

/// Building a registry model for a checkpoint: the head follows a fine-tuned checkpoint's class count unless the
/// caller set one, and files load by content.
final class PretrainedLoadingTests: XCTestCase {
    /// The resnet18_tiny parity fixture: a 4-stage ResNet-18 of widths 8…64 with a 10-class head.
    private let arguments: ModelArguments = ["layers": [1, 1, 1, 1], "channels": [8, 16, 32, 64]]

    /// Every tensor of `weights` is in `model` with its values.
    private func assertHolds(
        _ model: any ImageClassifier, _ weights: StateDict, file: StaticString = #filePath, line: UInt = #line
    ) {
        let exported = model.exportStateDict()
        for key in weights.keys { XCTAssertEqual(exported[key], weights[key], key, file: file, line: line) }
    }

    /// timm's behaviour for a fine-tuned file: the 1000-class default becomes the checkpoint's 10 classes.
    func testHeadFollowsTheCheckpointsClassCount() throws {
        let weights = try Fixtures.parityWeights("resnet18_tiny")
        let entry = try ModelRegistry.entry(named: "resnet18")
        let model = try entry.create(loading: weights, arguments)
        XCTAssertEqual(model.numClasses, 10)
        assertHolds(model, weights)
    }

    /// A class count the caller chose is kept, and a checkpoint that disagrees is an error naming the key.
    func testExplicitClassCountIsNotOverridden() throws {
        let weights = try Fixtures.parityWeights("resnet18_tiny")
        var explicit = arguments
        explicit.values["num_classes"] = 5
        XCTAssertThrowsError(try ModelRegistry.entry(named: "resnet18").create(loading: weights, explicit)) {
            guard case WeightsError.shapeMismatch("fc.weight", [5, 64], [10, 64])? = $0 as? WeightsError else {
                return XCTFail("\($0)")
            }
        }
    }

    /// Other shape mismatches are not a head to resize: they stay errors.
    func testOtherMismatchesAreNotResized() throws {
        let weights = try Fixtures.parityWeights("resnet18_tiny")
        var wider = arguments
        wider.values["channels"] = [16, 16, 32, 64]
        XCTAssertThrowsError(try ModelRegistry.entry(named: "resnet18").create(loading: weights, wider)) {
            XCTAssertNotNil($0 as? WeightsError, "\($0)")
        }
    }

    /// A file on disk, through `create(weightsAt:)` and `Module.load(weightsAt:)`, gives the same model.
    func testWeightsFileLoadsIntoANewOrAnExistingModel() throws {
        let weights = try Fixtures.parityWeights("resnet18_tiny")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loading-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.safetensors")
        try saveSafetensors(weights, to: url)

        let entry = try ModelRegistry.entry(named: "resnet18")
        assertHolds(try entry.create(weightsAt: url, arguments), weights)
        var tenClasses = arguments
        tenClasses.values["num_classes"] = 10
        let existing = try entry.create(tenClasses)
        try existing.load(weightsAt: url)
        assertHolds(existing, weights)
    }
}
