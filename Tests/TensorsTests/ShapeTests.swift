import XCTest

@testable import Tensors

final class ShapeTests: XCTestCase {
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
}

/// A tensor too large for memory is a thrown error naming its shape, never a trap.
final class TensorMemoryTests: XCTestCase {
    func testAllocationBeyondTheBudgetThrows() {
        let before = TensorMemory.inUse
        XCTAssertThrowsError(try Tensor(zeros: [1 << 20, 1 << 20])) { error in
            guard case TensorError.outOfMemory(let shape, let bytes, let limit, _)? = error as? TensorError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(shape, [1 << 20, 1 << 20])
            XCTAssertEqual(bytes, 4 << 40)
            XCTAssertEqual(limit, TensorMemory.budget)
            XCTAssertTrue(
                "\(error)".hasPrefix("cannot allocate a tensor of shape [1048576, 1048576] (4.4 TB)"), "\(error)")
        }
        XCTAssertThrowsError(try Tensor(repeating: 1, shape: [Int.max, 2])) { error in
            XCTAssertEqual(
                error as? TensorError,
                .invalidShape(shape: [Int.max, 2], reason: "has more elements than memory can address"))
        }
        XCTAssertThrowsError(try Tensor(zeros: [3, -1])) { error in
            XCTAssertEqual(error as? TensorError, .invalidShape(shape: [3, -1], reason: "has a negative size"))
        }
        XCTAssertEqual(TensorMemory.inUse, before)
    }

    func testLiveTensorsAreCountedUntilReleased() throws {
        let before = TensorMemory.inUse
        var tensor: Tensor? = try Tensor(zeros: [1000, 1000])
        XCTAssertGreaterThanOrEqual(TensorMemory.inUse - before, 4_000_000)
        XCTAssertEqual(tensor?.count, 1_000_000)
        tensor = nil
        XCTAssertLessThan(TensorMemory.inUse - before, 4_000_000)
    }
}
