import Foundation
import XCTest

@testable import Training

/// The supervised recipe's derived settings and its messages; whole runs are tested through `zoo train`
/// (ZooCommandsTests/TrainCommandsTests).
final class SupervisedTrainingTests: XCTestCase {
    /// Default peak rates per 256 images of global batch: SGD / SAM 0.4, AdamW 1e-3 (at least 1e-4).
    func testResolvedLearningRateScalesWithTheGlobalBatch() {
        var config = SupervisedTrainingConfig()
        XCTAssertEqual(config.optimizer, .sgd)
        config.batchSize = 32
        config.replicas = 2
        XCTAssertEqual(config.resolvedLearningRate, 0.1, accuracy: 1e-7)  // 0.4 · 64 / 256
        config.optimizer = .sam
        XCTAssertEqual(config.resolvedLearningRate, 0.1, accuracy: 1e-7)
        config.optimizer = .adamw
        XCTAssertEqual(config.resolvedLearningRate, 2.5e-4, accuracy: 1e-10)  // 1e-3 · 64 / 256
        config.batchSize = 8
        config.replicas = 1
        XCTAssertEqual(config.resolvedLearningRate, 1e-4, accuracy: 1e-10)  // 1e-3 · 8 / 256 = 3.1e-5, raised to 1e-4
        config.learningRate = 0.02
        XCTAssertEqual(config.resolvedLearningRate, 0.02, "a given rate is used as it is")
    }

    func testResolvedWeightDecayDependsOnTheOptimizer() {
        var config = SupervisedTrainingConfig()
        XCTAssertEqual(config.resolvedWeightDecay, 1e-4)
        config.optimizer = .sam
        XCTAssertEqual(config.resolvedWeightDecay, 1e-4)
        config.optimizer = .adamw
        XCTAssertEqual(config.resolvedWeightDecay, 0.05)
        config.weightDecay = 0
        XCTAssertEqual(config.resolvedWeightDecay, 0)
    }

    func testDefaultsAreTheDocumentedRecipe() {
        let config = SupervisedTrainingConfig()
        XCTAssertEqual(config.epochs, 10)
        XCTAssertEqual(config.batchSize, 32)
        XCTAssertEqual(config.imageSize, 224)
        XCTAssertEqual(config.labelSmoothing, 0.1)
        XCTAssertEqual(config.warmupEpochs, 1)
        XCTAssertEqual(config.momentum, 0.9)
        XCTAssertEqual(OptimizerKind.allCases.map(\.rawValue), ["sgd", "adamw", "sam"])
    }

    func testErrorDescriptions() {
        XCTAssertEqual(
            TrainingError.noUsableImages("/data/train").description,
            "/data/train: no usable images (every file failed to decode)")
        XCTAssertEqual(
            TrainingError.diverged(loss: .nan, epoch: 2, step: 17).description,
            "training diverged: loss is nan at epoch 2, step 17; lower the learning rate (the last checkpoint is kept)")
        XCTAssertEqual(
            TrainingError.noOptimizerStep(images: 3, batchSize: 4, accumulation: 1).description,
            "3 images make no optimizer step at batch size 4")
        XCTAssertEqual(
            TrainingError.noOptimizerStep(images: 6, batchSize: 4, accumulation: 2).description,
            "6 images make no optimizer step at batch size 4 with 2 accumulation steps")
        XCTAssertEqual(
            TrainingError.replicasDiverged(fingerprints: [1, 0xABCD]).description,
            "the ranks' weights differ after the same steps (fingerprints 0000000000000001, 000000000000abcd); "
                + "the last checkpoint is kept")
        XCTAssertEqual(
            TrainingInterrupted(checkpoint: URL(fileURLWithPath: "/runs/a/checkpoint.safetensors")).description,
            "interrupted; resume with --resume (checkpoint: /runs/a/checkpoint.safetensors)")
    }

    /// metrics.csv and --json use timm's column names.
    func testEpochSummaryEncodesUnderTimmsNames() throws {
        let summary = EpochSummary(
            epoch: 1, trainLoss: 2, validationTop1: 50, validationTop5: 90, validationLoss: 1.5, bestTop1: 50,
            learningRate: 0.1, imagesPerSecond: 100)
        let object = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(summary)) as? [String: Any])
        XCTAssertEqual(
            Set(object.keys),
            ["epoch", "train_loss", "val_top1", "val_top5", "val_loss", "best_top1", "lr", "images_per_s"])
        XCTAssertEqual(object["val_top5"] as? Double, 90)
    }
}
