import Kernels
import XCTest

@testable import Tensors

/// matmul, linear and the fused inference linear: values against hand products, gradients by finite differences.
final class LinearAlgebraTests: XCTestCase {
    func testMatmulAndLinear() throws {
        let a = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        let b = try Tensor(shape: [2, 2], scalars: [5, 6, 7, 8])
        XCTAssertEqual(try a.matmul(b).scalars, [19, 22, 43, 50])
        XCTAssertThrowsError(try a.matmul(Tensor(zeros: [3, 2]))) { XCTAssertTrue("\($0)".contains("[3, 2]")) }
        try checkGradients([randomTensor([3, 4, 5], seed: 12), randomTensor([3, 5, 2], seed: 13)]) {
            try $0[0].matmul($0[1])
        }
        try checkGradients([randomTensor([3, 4, 5], seed: 12), randomTensor([5, 2], seed: 13)]) {
            try $0[0].matmul($0[1])
        }
        try checkGradients([
            randomTensor([2, 3, 5], seed: 12), randomTensor([4, 5], seed: 13), randomTensor([4], seed: 14),
        ]) {
            try $0[0].linear(weight: $0[1], bias: $0[2])
        }
        let y = try Tensor(shape: [1, 2], scalars: [1, 2]).linear(
            weight: try Tensor(shape: [1, 2], scalars: [3, 4]), bias: try Tensor(shape: [1], scalars: [0.5]))
        XCTAssertEqual(y.scalars, [11.5])
    }

    /// The inference linear (packed weight, bias and activation in the GEMM's store) gives relu(x·Wᵀ + b):
    /// x = [1, 2], W = [[3, 4], [-1, -1]], b = [0.5, 1] → [11.5, −2] → relu [11.5, 0].
    func testLinearInferenceAppliesBiasAndActivation() throws {
        let x = try Tensor(shape: [1, 2], scalars: [1, 2])
        let weight = try Tensor(shape: [2, 2], scalars: [3, 4, -1, -1])
        let bias = try Tensor(shape: [2], scalars: [0.5, 1])
        XCTAssertEqual(try x.linearInference(weight: weight, bias: bias).scalars, [11.5, -2])
        XCTAssertEqual(try x.linearInference(weight: weight, bias: bias, activation: .relu).scalars, [11.5, 0])
        XCTAssertEqual(try x.linearInference(weight: weight, bias: nil).scalars, [11, -3])
        XCTAssertThrowsError(try x.linearInference(weight: Tensor(zeros: [2, 3]), bias: nil))
    }
}
