import XCTest

@testable import Tensors

final class ShapeTests: XCTestCase {
    func testReshapePermuteSliceConcat() throws {
        let a = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try a.transposed(0, 1).scalars, [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(try a.reshaped([3, -1]).shape, [3, 2])
        XCTAssertThrowsError(try a.reshaped([4, 2]))
        XCTAssertEqual(try a.slice(axis: 1, 1..<3).scalars, [2, 3, 5, 6])
        XCTAssertEqual(try Tensor.concat([a, a], axis: 1).scalars, [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
        XCTAssertThrowsError(try Tensor.concat([a, Tensor(zeros: [3, 3])], axis: 1))

        try checkGradients([randomTensor([2, 3, 4], seed: 9)]) { try $0[0].reshaped([4, 6]) }
        try checkGradients([randomTensor([2, 3, 4, 5], seed: 9)]) { try $0[0].permuted([2, 0, 3, 1]) }
        try checkGradients([randomTensor([2, 5, 3], seed: 9)]) { try $0[0].slice(axis: 1, 1..<4) }
        try checkGradients([randomTensor([2, 2, 3], seed: 9), randomTensor([2, 1, 3], seed: 10)]) {
            try Tensor.concat($0, axis: 1)
        }
        try checkGradients([randomTensor([2, 3], seed: 9)]) { try $0[0].expanded(to: [4, 2, 3]) }
        try checkGradients([randomTensor([2, 3, 4, 5], seed: 9)]) {
            try $0[0].padded2d(top: 1, bottom: 2, left: 0, right: 3)
        }
    }

    func testGatherRollAndSelectRows() throws {
        let a = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        // torch.gather(a, 1, [[2, 0], [1, 1]]) = [[3, 1], [5, 5]]
        XCTAssertEqual(try a.gather(axis: 1, indices: [2, 0, 1, 1], indexShape: [2, 2]).scalars, [3, 1, 5, 5])
        XCTAssertThrowsError(try a.gather(axis: 1, indices: [3, 0, 1, 1], indexShape: [2, 2]))
        // torch.roll([[1,2,3],[4,5,6]], shifts=1, dims=1) = [[3,1,2],[6,4,5]]
        XCTAssertEqual(try a.rolled(shifts: [1], axes: [1]).scalars, [3, 1, 2, 6, 4, 5])
        XCTAssertEqual(try a.rolled(shifts: [-1, 1], axes: [0, 1]).scalars, [6, 4, 5, 3, 1, 2])
        let tokens = try Tensor(shape: [2, 3, 1], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try tokens.selectRows([[2, 0], [1, 2]]).scalars, [3, 1, 5, 6])

        try checkGradients([randomTensor([2, 4, 3], seed: 11)]) { try $0[0].selectRows([[3, 1], [0, 0]]) }
        try checkGradients([randomTensor([2, 4, 3], seed: 11)]) { try $0[0].rolled(shifts: [-1, 2], axes: [1, 2]) }
    }
}
