import Foundation
import Models
import Tensors
import VisionIO
import XCTest

@testable import Training

/// The MAE recipe's derived settings, the per-sample mask noise and the checkpoint's loss history; whole runs
/// are tested through `zoo pretrain-mae` (ZooCommandsTests/PretrainMAECommandTests).
final class MaskedAutoencoderPretrainingTests: XCTestCase {
    /// main_pretrain.py: lr = blr · batch · accum_iter · world size / 256, unless lr is given.
    func testEffectiveLearningRate() {
        var config = MaskedAutoencoderPretrainingConfig()
        config.batchSize = 16
        config.accumulationSteps = 2
        config.replicas = 4
        XCTAssertEqual(config.globalBatchSize, 128)
        XCTAssertEqual(config.effectiveLearningRate, 7.5e-5, accuracy: 1e-12)  // 1.5e-4 · 128 / 256
        config.baseLearningRate = 1e-3
        XCTAssertEqual(config.effectiveLearningRate, 5e-4, accuracy: 1e-12)
        config.learningRate = 0.01
        XCTAssertEqual(config.effectiveLearningRate, 0.01)
    }

    func testParseLossesSkipsMalformedItems() {
        let parsed = MaskedAutoencoderPretrainer.parseLosses("1:0.5,2:0.25,x:1,3,4:abc")
        XCTAssertEqual(parsed.map(\.epoch), [1, 2])
        XCTAssertEqual(parsed.map(\.loss), [0.5, 0.25])
        XCTAssertTrue(MaskedAutoencoderPretrainer.parseLosses(nil).isEmpty)
        XCTAssertTrue(MaskedAutoencoderPretrainer.parseLosses("").isEmpty)
    }

    /// A tiny MAE (32 px, 8 px patches: 16 per image) over three written PNGs.
    private func pretrainer(seed: UInt64 = 3) throws -> MaskedAutoencoderPretrainer {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mae-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: root) }
        let images = root.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        for i in 0..<3 {
            try Image(width: 32, height: 32, fill: (UInt8(40 * i), 100, 200)).write(
                to: images.appendingPathComponent("\(i).png"))
        }
        let model = try MaskedAutoencoderRegistry.create(
            "mae_vit_tiny_patch16",
            [
                "img_size": 32, "patch_size": 8, "embed_dim": 16, "depth": 1, "num_heads": 2,
                "decoder_embed_dim": 16, "decoder_depth": 1, "decoder_num_heads": 2,
            ])
        var config = MaskedAutoencoderPretrainingConfig()
        config.imageSize = 32
        config.batchSize = 2
        config.seed = seed
        config.workers = 1
        return try MaskedAutoencoderPretrainer(
            model: model, dataset: UnlabeledImageFolder(root: images), config: config,
            output: root.appendingPathComponent("out"))
    }

    /// Each sample's noise depends on (seed, epoch, sample) only: the same whatever batch (or rank) holds it.
    func testMaskNoiseIsTheSamplesWhateverItsBatch() throws {
        let trainer = try pretrainer()
        XCTAssertEqual(trainer.config.replicas, 1)
        let patches = 16
        let batch = try trainer.maskNoise(for: [0, 1, 2], epoch: 0)
        XCTAssertEqual(batch.shape, [3, patches])
        let values = batch.scalars
        XCTAssertTrue(values.allSatisfy { $0 >= 0 && $0 < 1 })
        func row(_ t: Tensor, _ r: Int) -> [Float] { Array(t.scalars[r * patches..<(r + 1) * patches]) }
        let alone = try trainer.maskNoise(for: [2], epoch: 0)
        XCTAssertEqual(row(alone, 0), row(batch, 2))
        let reordered = try trainer.maskNoise(for: [1, 0], epoch: 0)
        XCTAssertEqual(row(reordered, 0), row(batch, 1))
        XCTAssertEqual(row(reordered, 1), row(batch, 0))
        XCTAssertNotEqual(row(batch, 0), row(batch, 1), "samples get different masks")
        XCTAssertNotEqual(row(try trainer.maskNoise(for: [0], epoch: 1), 0), row(batch, 0), "and new ones each epoch")

        // Another seed (another run) gives other noise.
        let other = try pretrainer(seed: 4)
        XCTAssertNotEqual(try other.maskNoise(for: [0], epoch: 0).scalars, row(batch, 0))
    }

    /// Rank 0 takes the output folder's lock: a second trainer on the same folder is refused.
    func testTheOutputFolderIsHeldForTheRun() throws {
        let trainer = try pretrainer()
        XCTAssertEqual(trainer.checkpointURL.lastPathComponent, "checkpoint.safetensors")
        try withExtendedLifetime(trainer) {
            XCTAssertThrowsError(try OutputFolder(trainer.output)) { error in
                XCTAssertEqual(error as? OutputFolderError, .inUse(path: trainer.output.path))
            }
        }
    }
}
