import Kernels
import Randomness
import XCTest

@testable import NN
@testable import Tensors

/// torch.nn.Linear, y = x·Wᵀ + b, with values small enough to follow by hand.
final class LinearTests: XCTestCase {
    private func layer(bias: Bool = true) throws -> Linear {
        let linear = try Linear(3, 2, bias: bias)
        try linear.weight.assign(Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))
        try linear.bias?.assign(Tensor(shape: [2], scalars: [0.5, -1]))
        return linear
    }

    func testComputesXTimesWTransposedPlusB() throws {
        let linear = try layer()
        XCTAssertEqual(linear.inFeatures, 3)
        XCTAssertEqual(linear.outFeatures, 2)
        let x = try Tensor(shape: [2, 1, 3], scalars: [1, 0, -1, 2, 1, 0])
        // [1, 0, −1]: 1 − 3 + 0.5, 4 − 6 − 1; [2, 1, 0]: 2 + 2 + 0.5, 8 + 5 − 1.
        for output in [try linear(x), try withoutGrad { try linear(x) }] {
            XCTAssertEqual(output.shape, [2, 1, 2])
            XCTAssertEqual(output.scalars, [-1.5, -3, 4.5, 12])
        }
        for output in [try linear(x, activation: .relu), try withoutGrad { try linear(x, activation: .relu) }] {
            XCTAssertEqual(output.scalars, [0, 0, 4.5, 12])
        }
        let noBias = try layer(bias: false)
        XCTAssertNil(noBias.bias)
        XCTAssertEqual(noBias.stateDict().map(\.name), ["weight"])
        XCTAssertEqual(try noBias(x).scalars, [-2, -2, 4, 13])
    }

    /// For Σ y: ∂/∂W[o][i] = Σ_rows x[row][i], ∂/∂b[o] = rows.
    func testGradients() throws {
        let linear = try layer()
        let x = try Tensor(shape: [2, 3], scalars: [1, 0, -1, 2, 1, 0], requiresGrad: true)
        try linear(x).sum().backward()
        XCTAssertEqual(linear.weight.grad?.scalars, [3, 1, -1, 3, 1, -1])
        XCTAssertEqual(linear.bias?.grad?.scalars, [2, 2])
        XCTAssertEqual(x.grad?.scalars, [5, 7, 9, 5, 7, 9])  // column sums of W
    }

    func testInitialisationBound() throws {
        let linear = try Linear(100, 50)
        XCTAssertEqual(linear.weight.shape, [50, 100])
        let values = linear.weight.scalars + linear.bias!.scalars
        XCTAssertLessThanOrEqual(values.map(abs).max()!, 0.1)  // 1 / √100
        XCTAssertGreaterThan(values.map(abs).max()!, 0.09)
    }
}
