import Kernels
import Randomness
import XCTest

@testable import NN
@testable import Tensors

final class ModuleTests: XCTestCase {
    func testStateDictUsesTimmNames() throws {
        let block = try TransformerBlock(dim: 8, heads: 2, layerScaleInit: 1e-5)
        let keys = block.stateDict().map(\.name)
        XCTAssertEqual(
            keys,
            [
                "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias",
                "ls1.gamma", "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight",
                "mlp.fc2.bias", "ls2.gamma",
            ])
        let bn = try BatchNorm2d(4)
        XCTAssertEqual(
            bn.stateDict().map(\.name), ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        XCTAssertEqual(bn.parameterCount, 8)
    }

    func testTrainAndEvalReachEveryChild() throws {
        let seq = Sequential([try Linear(2, 2), Sequential([Dropout(0.5)])])
        seq.train()
        XCTAssertTrue(seq.layers[1].children[0].module.isTraining)
        seq.eval()
        XCTAssertFalse(seq.layers[1].children[0].module.isTraining)
    }

    /// The folded inference path (conv with BN folded in, activation applied) equals conv → BN → activation.
    func testFoldedBatchNormMatchesReferencePath() throws {
        for (padding, groups, activation) in [
            (ConvPadding.symmetric(1), 1, Activation.relu), (.same, 4, .relu6), (.symmetric(0), 2, .hardSwish),
        ] {
            Initialization.generator = RandomGenerator(seed: 7)
            let conv = try Conv2d(4, 8, kernel: 3, stride: 2, padding: padding, groups: groups, bias: groups == 2)
            let bn = try BatchNorm2d(8, epsilon: 1e-3)
            var rng = RandomGenerator(seed: 3)
            for t in [bn.weight, bn.bias, bn.runningMean] { try t.assign(Tensor.normal(t.shape, using: &rng)) }
            try bn.runningVar.assign(Tensor.uniform([8], low: 0.5, high: 2, using: &rng))
            let x = try Tensor.normal([2, 4, 9, 10], using: &rng)
            let reference = try withoutGrad { try bn(conv(x)).activation(activation) }
            let fused = try withoutGrad { try bn.fused(after: conv, activation: activation, x) }
            XCTAssertEqual(reference.shape, fused.shape)
            for (a, b) in zip(reference.scalars, fused.scalars) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        }
    }

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
