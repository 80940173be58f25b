import XCTest

@testable import Tensors

/// sum, mean, variance and argmax over axes, against hand values and finite differences.
final class ReductionsTests: XCTestCase {
    func testReductionsValuesAndGradients() throws {
        let a = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try a.sum().item, 21)
        XCTAssertEqual(try a.sum(axes: [0]).scalars, [5, 7, 9])
        XCTAssertEqual(try a.mean(axes: [1], keepDims: true).scalars, [2, 5])
        XCTAssertEqual(try a.mean(axes: [1], keepDims: true).shape, [2, 1])
        XCTAssertEqual(try a.variance(axes: [1]).scalars, [1, 1])
        for axes in [[], [0], [1], [0, 2], [-1]] {
            try checkGradients([randomTensor([2, 3, 4], seed: 7)]) { try $0[0].sum(axes: axes) }
            try checkGradients([randomTensor([2, 3, 4], seed: 7)]) { try $0[0].mean(axes: axes, keepDims: true) }
        }
        try checkGradients([randomTensor([2, 3, 5], seed: 8)]) { try $0[0].variance(axes: [-1], keepDims: true) }
    }

    /// torch.var's default is unbiased (n − 1); `unbiased: false` divides by n. Rows [1, 2, 3, 4] and [2, 2, 2, 2].
    func testVarianceIsUnbiasedByDefault() throws {
        let a = try Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, 2, 2, 2, 2])
        let unbiased = try a.variance(axes: [1]).scalars
        XCTAssertEqual(unbiased[0], 5.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(unbiased[1], 0)
        XCTAssertEqual(try a.variance(axes: [1], unbiased: false).scalars, [1.25, 0])
        XCTAssertEqual(try a.sum(axes: [-1], keepDims: true).shape, [2, 1])
        XCTAssertThrowsError(try a.sum(axes: [2]))
    }

    /// The first index of the largest value in each row, as torch.argmax(dim=-1).
    func testArgmaxLastAxis() throws {
        let a = try Tensor(shape: [3, 3], scalars: [1, 5, 2, 7, 7, 0, -3, -2, -1])
        XCTAssertEqual(a.argmaxLastAxis(), [1, 0, 2])
        XCTAssertEqual(try Tensor(shape: [4], scalars: [0, 9, 9, 1]).argmaxLastAxis(), [1])
    }
}
