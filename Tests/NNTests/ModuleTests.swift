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

    /// An inference-only model keeps its weights packed only: same outputs, the weights released (at once when
    /// already packed by an earlier forward), and the state dict still exactly the loaded values.
    func testKeepWeightsPackedOnlyChangesNoOutputOrWeight() throws {
        let model = Sequential([try Conv2d(32, 64, kernel: 3), try Conv2d(64, 512, kernel: 1)])
        model.eval()
        let weights = model.stateDict().map(\.tensor.scalars)
        var generator = RandomGenerator(seed: 1)
        let x = try Tensor.uniform([1, 32, 10, 10], low: -1, high: 1, using: &generator)
        let expected = try withoutGrad { try model(x) }.scalars
        model.keepWeightsPackedOnly()
        XCTAssertEqual(try withoutGrad { try model(x) }.scalars, expected)
        let released = model.namedParameters().filter { $0.tensor.valuesAreReleased }.map(\.name)
        XCTAssertEqual(released, ["0.weight", "1.weight"])
        XCTAssertEqual(try withoutGrad { try model(x) }.scalars, expected)
        XCTAssertEqual(model.stateDict().map(\.tensor.scalars), weights)
    }
}
