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
}
