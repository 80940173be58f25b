import Foundation
import Kernels
import Randomness
import XCTest

@testable import NN
@testable import Tensors

/// timm's Mlp, fc1 → activation → fc2, with weights small enough to follow by hand.
final class MlpTests: XCTestCase {
    private func mlp(activation: Activation) throws -> Mlp {
        let mlp = try Mlp(inFeatures: 2, hiddenFeatures: 3, outFeatures: 1, activation: activation)
        try mlp.fc1.weight.assign(Tensor(shape: [3, 2], scalars: [1, -1, 2, 0, 0, 1]))
        try mlp.fc1.bias!.assign(Tensor(shape: [3], scalars: [0, 0, -1]))
        try mlp.fc2.weight.assign(Tensor(shape: [1, 3], scalars: [1, -1, 5]))
        try mlp.fc2.bias!.assign(Tensor(shape: [1], scalars: [0.5]))
        return mlp
    }

    func testFc1ActivationFc2() throws {
        let relu = try mlp(activation: .relu)
        let x = try Tensor(shape: [2, 2], scalars: [3, 1, -1, 2])
        // [3, 1] → fc1 [2, 6, 0] → relu → fc2 2 − 6 + 0 + 0.5; [−1, 2] → [−3, −2, 1] → [0, 0, 1] → 5 + 0.5.
        XCTAssertEqual(try relu(x).scalars, [-3.5, 5.5])
        XCTAssertEqual(try withoutGrad { try relu(x) }.scalars, [-3.5, 5.5])

        // GELU (exact, erf), timm's default.
        let gelu = try mlp(activation: .gelu)
        func g(_ v: Double) -> Double { 0.5 * v * (1 + erf(v / 2.0.squareRoot())) }
        let expected = [
            g(2) - g(6) + 5 * g(0) + 0.5,
            g(-3) - g(-2) + 5 * g(1) + 0.5,
        ]
        for (a, e) in zip(try gelu(x).scalars, expected) { XCTAssertEqual(Double(a), e, accuracy: 1e-5) }
    }

    func testDefaultsAndNames() throws {
        let mlp = try Mlp(inFeatures: 4, hiddenFeatures: 16)
        XCTAssertEqual(mlp.activation, .gelu)
        XCTAssertEqual(mlp.fc1.weight.shape, [16, 4])
        XCTAssertEqual(mlp.fc2.weight.shape, [4, 16])  // out defaults to in
        XCTAssertEqual(mlp.drop.probability, 0)
        XCTAssertEqual(mlp.stateDict().map(\.name), ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
        let noBias = try Mlp(inFeatures: 4, hiddenFeatures: 8, outFeatures: 2, bias: false)
        XCTAssertEqual(noBias.stateDict().map(\.name), ["fc1.weight", "fc2.weight"])
    }

    /// Dropout acts in training mode only (timm's `drop`, after the activation and after fc2): with p = 1
    /// training zeroes every output, as torch.nn.Dropout(1) does; evaluation leaves the outputs alone.
    func testDropoutActsInTrainingModeOnly() throws {
        var generator = RandomGenerator(seed: 2)
        let mlp = try Initialization.using(&generator) { try Mlp(inFeatures: 8, hiddenFeatures: 32, dropout: 1) }
        var rng = RandomGenerator(seed: 3)
        let x = try Tensor.normal([4, 8], using: &rng)
        let evaluated = try mlp(x).scalars
        XCTAssertTrue(evaluated.contains { $0 != 0 })
        XCTAssertEqual(try mlp(x).scalars, evaluated, "evaluation is deterministic")
        mlp.train()
        XCTAssertTrue(mlp.drop.isTraining, "train() reaches the dropout layer")
        var dropout = RandomGenerator(seed: 4)
        let trained = try TrainingRandomness.using(&dropout) { try mlp(x) }.scalars
        XCTAssertEqual(trained, [Float](repeating: 0, count: 4 * 8), "training with p = 1 drops everything")
    }
}
