import Foundation
import Kernels
import Randomness
import XCTest

@testable import NN
@testable import Tensors

/// PatchEmbed, SqueezeExcite and the ViT TransformerBlock: token order, hand-computed gates, and the block's
/// residual wiring.
final class BlocksTests: XCTestCase {
    func testPatchEmbedTokensAreRowMajorPatches() throws {
        let embed = try PatchEmbed(patchSize: 2, inChannels: 1, embedDim: 1)
        try embed.proj.weight.assign(Tensor(repeating: 1, shape: [1, 1, 2, 2]))
        try embed.proj.bias!.assign(Tensor(zeros: [1]))
        let x = try Tensor(shape: [1, 1, 2, 4], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
        let tokens = try embed(x)
        XCTAssertEqual(tokens.shape, [1, 2, 1])
        XCTAssertEqual(tokens.scalars, [14, 22])  // 1+2+5+6, 3+4+7+8
        XCTAssertThrowsError(try embed(Tensor(zeros: [1, 1, 3, 4])))
    }

    func testPatchEmbedNormNormalisesEachToken() throws {
        var generator = RandomGenerator(seed: 8)
        let embed = try Initialization.using(&generator) {
            try PatchEmbed(patchSize: 4, inChannels: 3, embedDim: 6, norm: true)
        }
        XCTAssertEqual(
            embed.stateDict().map(\.name), ["proj.weight", "proj.bias", "norm.weight", "norm.bias"])
        var rng = RandomGenerator(seed: 9)
        let tokens = try embed(Tensor.normal([2, 3, 8, 12], using: &rng))
        XCTAssertEqual(tokens.shape, [2, 6, 6])  // (8 / 4) · (12 / 4) tokens of width 6
        let values = tokens.scalars
        for token in 0..<12 {
            let row = values[token * 6..<(token + 1) * 6]
            let mean = row.reduce(0, +) / 6
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 6
            XCTAssertEqual(mean, 0, accuracy: 1e-5)
            XCTAssertEqual(variance, 1, accuracy: 1e-3)
        }
    }

    /// x · σ(expand(relu(reduce(mean_hw(x))))) with weights small enough to follow by hand.
    func testSqueezeExciteScalesEachChannelByItsGate() throws {
        let se = try SqueezeExcite(channels: 2, reducedChannels: 1, names: ("conv_reduce", "conv_expand"))
        XCTAssertEqual(
            se.stateDict().map(\.name),
            ["conv_reduce.weight", "conv_reduce.bias", "conv_expand.weight", "conv_expand.bias"])
        try se.reduce.weight.assign(Tensor(shape: [1, 2, 1, 1], scalars: [1, -1]))
        try se.reduce.bias!.assign(Tensor(zeros: [1]))
        try se.expand.weight.assign(Tensor(shape: [2, 1, 1, 1], scalars: [1, 2]))
        try se.expand.bias!.assign(Tensor(shape: [2], scalars: [0, -1]))
        let x = try Tensor(shape: [1, 2, 2, 2], scalars: [1, 2, 3, 4, 0, 0, 0, 2])
        // Means 2.5 and 0.5; reduced 2.5 − 0.5 = 2, relu 2; expanded [2, 2·2 − 1] = [2, 3].
        func sigmoid(_ v: Float) -> Float { 1 / (1 + Foundation.exp(-v)) }
        let expected = [1, 2, 3, 4].map { $0 * sigmoid(2) } + [0, 0, 0, 2].map { $0 * sigmoid(3) }
        for output in [try se(x), try withoutGrad { try se(x) }] {
            XCTAssertEqual(output.shape, [1, 2, 2, 2])
            for (a, e) in zip(output.scalars, expected) { XCTAssertEqual(a, e, accuracy: 1e-6) }
        }
    }

    /// x + attn(norm1(x)), then + mlp(norm2(·)): the block is its sub-layers in that order.
    func testTransformerBlockIsPreNormResidual() throws {
        var generator = RandomGenerator(seed: 12)
        let block = try Initialization.using(&generator) { try TransformerBlock(dim: 8, heads: 2, mlpRatio: 2) }
        XCTAssertEqual(block.mlp.fc1.weight.shape, [16, 8])
        XCTAssertNil(block.layerScale1)
        var rng = RandomGenerator(seed: 13)
        let x = try Tensor.normal([2, 3, 8], using: &rng)
        let afterAttention = try x + block.attn(block.norm1(x))
        let expected = try afterAttention + block.mlp(block.norm2(afterAttention))
        for (a, e) in zip(try block(x).scalars, expected.scalars) { XCTAssertEqual(a, e, accuracy: 1e-5) }
    }

    /// LayerScale with gain 0 silences both branches: the block returns its input.
    func testZeroLayerScaleMakesTheBlockTheIdentity() throws {
        let block = try TransformerBlock(dim: 8, heads: 2, layerScaleInit: 0)
        XCTAssertEqual(block.layerScale1?.gamma.scalars, [Float](repeating: 0, count: 8))
        var rng = RandomGenerator(seed: 14)
        let x = try Tensor.normal([1, 4, 8], using: &rng)
        XCTAssertEqual(try block(x).scalars, x.scalars)
    }

    /// Stochastic depth in training mode: with probability 1 both branches are dropped for every sample
    /// (timm's drop_path keeps nothing), so the block returns its input; evaluation mode keeps them.
    func testDropPathDropsTheBranchesInTrainingModeOnly() throws {
        let block = try TransformerBlock(dim: 8, heads: 2, dropPath: 1)
        var rng = RandomGenerator(seed: 15)
        let x = try Tensor.normal([2, 4, 8], using: &rng)
        XCTAssertNotEqual(try block(x).scalars, x.scalars, "evaluation mode keeps the branches")
        block.train()
        XCTAssertTrue(block.dropPath.isTraining, "train() reaches the block's DropPath")
        var generator = RandomGenerator(seed: 16)
        let trained = try TrainingRandomness.using(&generator) { try block(x) }
        XCTAssertEqual(trained.scalars, x.scalars, "training with drop probability 1 drops both branches")
    }

    func testMultiHeadAttentionGradientReachesEveryParameter() throws {
        let block = try TransformerBlock(dim: 8, heads: 2)
        block.train()
        var rng = RandomGenerator(seed: 5)
        let loss = try block(Tensor.normal([2, 5, 8], using: &rng)).squared().mean()
        try loss.backward()
        for (name, p) in block.namedParameters() {
            XCTAssertNotNil(p.grad, name)
            XCTAssertTrue(p.grad!.scalars.contains { $0 != 0 }, name)
        }
    }
}
