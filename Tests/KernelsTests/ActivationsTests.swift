import XCTest

@testable import Kernels

/// The activations: the scalar forms against closed forms, the vector kernels against the scalar forms.
final class ActivationsTests: XCTestCase {
    func testVectorisedActivationsMatchScalarDefinitions() throws {
        let input = (0..<1001).map { Float($0) * 0.02 - 10 }
        for path in KernelPath.available {
            try KernelPath.with(path) {
                for activation in Activation.allCases {
                    var output = [Float](repeating: 0, count: input.count)
                    activationForward(activation, input: input, output: &output, count: input.count)
                    for (x, y) in zip(input, output) {
                        XCTAssertEqual(
                            y, activation.apply(x), accuracy: 2e-6 * max(1, abs(x)), "\(path) \(activation) at \(x)")
                    }
                }
                // PyTorch propagates NaN through every activation.
                for activation in Activation.allCases where activation != .identity {
                    var output: [Float] = [0]
                    activationForward(activation, input: [.nan], output: &output, count: 1)
                    XCTAssertTrue(output[0].isNaN, "\(path) \(activation)(NaN)")
                }
            }
        }
    }

    /// The vectorised backward against the scalar derivative.
    func testVectorisedActivationBackwardMatchesScalarDerivatives() throws {
        let input = (0..<1001).map { Float($0) * 0.02 - 10.001 }
        let outputGrad = input.indices.map { Float($0 % 7) - 3 }
        for path in KernelPath.available {
            try KernelPath.with(path) {
                for activation in Activation.allCases {
                    var inputGrad = [Float](repeating: 1, count: input.count)
                    activationBackward(
                        activation, input: input, outputGrad: outputGrad, inputGrad: &inputGrad, count: input.count)
                    for i in input.indices {
                        let expected = 1 + outputGrad[i] * activation.derivative(input[i])
                        XCTAssertEqual(
                            inputGrad[i], expected, accuracy: 1e-5 * max(1, abs(expected)),
                            "\(path) \(activation) at \(input[i])")
                    }
                }
            }
        }
    }

    func testActivationKnownValues() {
        // Closed forms: Φ(1) = 0.8413447, σ(1) = 0.7310586, tanh(1) = 0.7615942.
        XCTAssertEqual(Activation.gelu.apply(1), 0.8413447, accuracy: 1e-6)
        XCTAssertEqual(Activation.geluTanh.apply(1), 0.8411920, accuracy: 1e-6)
        XCTAssertEqual(Activation.silu.apply(1), 0.7310586, accuracy: 1e-6)
        XCTAssertEqual(Activation.sigmoid.apply(0), 0.5)
        XCTAssertEqual(Activation.hardSwish.apply(1), 4.0 / 6, accuracy: 1e-7)
        XCTAssertEqual(Activation.hardSwish.apply(-4), 0)
        XCTAssertEqual(Activation.hardSigmoid.apply(1.5), 0.75)
        XCTAssertEqual(Activation.relu6.apply(7), 6)
        XCTAssertEqual(Activation.relu.apply(-1), 0)
        XCTAssertEqual(Activation.tanh.apply(1), 0.7615942, accuracy: 1e-6)
    }

    /// The derivatives at points where they have closed forms, with PyTorch's values at the kinks
    /// (relu'(0) = 0, hardswish'(±3) = the inner branch).
    func testDerivativeKnownValues() {
        XCTAssertEqual(Activation.sigmoid.derivative(0), 0.25)
        XCTAssertEqual(Activation.tanh.derivative(0), 1)
        XCTAssertEqual(Activation.silu.derivative(0), 0.5)
        XCTAssertEqual(Activation.gelu.derivative(0), 0.5)
        XCTAssertEqual(Activation.relu.derivative(0), 0)
        XCTAssertEqual(Activation.relu6.derivative(6), 0)
        XCTAssertEqual(Activation.hardSwish.derivative(3), 1.5)
        XCTAssertEqual(Activation.hardSwish.derivative(-3), -0.5)
        XCTAssertEqual(Activation.hardSigmoid.derivative(0), 1.0 / 6)
    }
}
