import Models
import NN
import Randomness
import Tensors
import XCTest

@testable import Training

final class CheckpointTests: XCTestCase {
    /// Saving then loading restores model, optimizer and position; training continues identically.
    func testResumeIsBitForBit() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func makeModel() throws -> any ImageClassifier {
            var generator = RandomGenerator(seed: 1)
            return try Initialization.using(&generator) {
                try ModelRegistry.create(
                    "resnet18", ["layers": [1, 1, 1, 1], "channels": [4, 4, 8, 8], "num_classes": 3])
            }
        }
        var rng = RandomGenerator(seed: 2)
        let batches = try (0..<4).map { _ in try Tensor.normal([2, 3, 32, 32], using: &rng) }
        func trainStep(_ model: any ImageClassifier, _ optimizer: AdamW, _ x: Tensor) throws {
            optimizer.zeroGrad()
            try model(x).crossEntropy(labels: [0, 2]).backward()
            try optimizer.step()
        }
        // Straight run of 4 steps.
        let straight = try makeModel()
        straight.train()
        let straightOpt = try AdamW(groups: weightDecayGroups(straight, weightDecay: 0.05), learningRate: 1e-3)
        for x in batches { try trainStep(straight, straightOpt, x) }
        // 2 steps, checkpoint, fresh objects, resume, 2 more.
        let first = try makeModel()
        first.train()
        let firstOpt = try AdamW(groups: weightDecayGroups(first, weightDecay: 0.05), learningRate: 1e-3)
        for x in batches[..<2] { try trainStep(first, firstOpt, x) }
        let url = dir.appendingPathComponent("checkpoint.safetensors")
        try TrainingCheckpoint(epoch: 1, step: 2, generators: ["data": RandomGenerator(seed: 9)]).save(
            model: first, optimizer: firstOpt, to: url)
        let resumed = try makeModel()
        resumed.train()
        let resumedOpt = try AdamW(groups: weightDecayGroups(resumed, weightDecay: 0.05), learningRate: 1e-3)
        let position = try TrainingCheckpoint.load(from: url, model: resumed, optimizer: resumedOpt)
        XCTAssertEqual(position.epoch, 1)
        XCTAssertEqual(position.step, 2)
        XCTAssertEqual(position.generators["data"], RandomGenerator(seed: 9))
        for x in batches[2...] { try trainStep(resumed, resumedOpt, x) }
        for ((name, a), (_, b)) in zip(straight.stateDict(), resumed.stateDict()) {
            XCTAssertEqual(a.scalars, b.scalars, name)
        }
    }
}
