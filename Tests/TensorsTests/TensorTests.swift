import Foundation
import XCTest

@testable import Tensors

/// The tensor itself: the autograd record (grad mode, backward, accumulation) and the memory budget.
final class TensorTests: XCTestCase {
    func testNoGradModeRecordsNothing() throws {
        let w = try randomTensor([3, 3], seed: 6)
        w.requiresGrad = true
        let y = try withoutGrad { try (w * w).sum() }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.gradNode)
        XCTAssertThrowsError(try y.backward())
    }

    /// Another thread inside `withoutGrad` does not stop this one from recording a graph.
    func testGradModeIsPerThread() throws {
        let w = try randomTensor([3], seed: 7)
        w.requiresGrad = true
        let inside = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let thread = Thread {
            withoutGrad {
                inside.signal()
                release.wait()
            }
        }
        thread.start()
        inside.wait()
        let y = try (w * w).sum()
        release.signal()
        XCTAssertTrue(y.requiresGrad)
        XCTAssertNotNil(y.gradNode)
    }

    func testGradientAccumulatesOverSharedUse() throws {
        let x = try Tensor(shape: [2], scalars: [1, 2], requiresGrad: true)
        let y = try (x * x + x).sum()  // d/dx = 2x + 1
        try y.backward()
        XCTAssertEqual(x.grad?.scalars, [3, 5])
    }

    // A tensor too large for memory is a thrown error naming its shape, never a trap.
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

    /// `detached` shares nothing with the graph, `copy` shares no storage, `assign` copies values in place.
    func testDetachedCopyAndAssign() throws {
        let x = try Tensor(shape: [2], scalars: [1, 2], requiresGrad: true)
        let y = try x * 3
        XCTAssertFalse(y.detached().requiresGrad)
        XCTAssertEqual(y.detached().scalars, [3, 6])
        let copy = try x.copy()
        copy.withUnsafeMutableBufferPointer { $0[0] = 10 }
        XCTAssertEqual(x.scalars, [1, 2])
        try x.assign(Tensor(shape: [2], scalars: [5, 7]))
        XCTAssertEqual(x.scalars, [5, 7])
        XCTAssertThrowsError(try x.assign(Tensor(zeros: [3])))
    }

    /// Shapes and value counts must agree, as torch.tensor(values).reshape(shape) requires.
    func testScalarCountMustMatchTheShape() {
        XCTAssertThrowsError(try Tensor(shape: [2, 3], scalars: [1, 2, 3])) { error in
            XCTAssertEqual(error as? TensorError, .scalarCountMismatch(shape: [2, 3], count: 3))
        }
        XCTAssertEqual(try Tensor(shape: [], scalars: [4]).item, 4)
    }

    /// A weight kept packed only gives its pages back once an inference op packs it losslessly; results are
    /// unchanged, and reading or writing the values later unpacks them first, exactly.
    func testValuesKeptPackedOnlyAreReleasedAndComeBackExactly() throws {
        let x = try randomTensor([1, 32, 12, 12], seed: 1)
        let rows = try randomTensor([5, 64], seed: 2)
        let wide = try randomTensor([1, 64, 16, 16], seed: 6)
        // Over 64 KB each: a shifted-tap conv, a 1×1 conv (im2col GEMM), a Linear layer, and a Winograd conv past
        // 64 × 64 channels (its filters kept as the packed taps).
        let cases: [(weight: Tensor, run: (Tensor) throws -> Tensor)] = [
            (try randomTensor([64, 32, 3, 3], seed: 3), { try x.conv2dInference(weight: $0, padding: Padding2d(1)) }),
            (try randomTensor([600, 32, 1, 1], seed: 4), { try x.conv2dInference(weight: $0) }),
            (try randomTensor([300, 64], seed: 5), { try rows.linearInference(weight: $0, bias: nil) }),
            (
                try randomTensor([80, 64, 3, 3], seed: 8),
                { try wide.conv2dInference(weight: $0, padding: Padding2d(1)) }
            ),
        ]
        for (weight, run) in cases {
            let values = weight.scalars
            let expected = try run(weight.copy()).scalars
            weight.keepValuesPackedOnly()
            XCTAssertEqual(try run(weight).scalars, expected, "\(weight.shape)")
            XCTAssertTrue(weight.valuesAreReleased, "\(weight.shape)")
            XCTAssertEqual(try run(weight).scalars, expected, "\(weight.shape): from the packed form alone")
            XCTAssertEqual(weight.scalars, values, "\(weight.shape)")
            XCTAssertFalse(weight.valuesAreReleased)
            // A write after a release sees every other value intact, and the next op packs the new values.
            _ = try run(weight)
            weight.withUnsafeMutableBufferPointer { $0[7] += 1 }
            let changed = try weight.copy()
            XCTAssertEqual(try run(weight).scalars, try run(changed).scalars, "\(weight.shape) after a write")
            XCTAssertEqual(changed.scalars.enumerated().filter { $0.element != values[$0.offset] }.map(\.offset), [7])
        }
        // Winograd's transformed points (64 × 64 channels and fewer) cannot give the weights back: they stay.
        let filters = try randomTensor([64, 64, 3, 3], seed: 7)
        filters.keepValuesPackedOnly()
        _ = try wide.conv2dInference(weight: filters, padding: Padding2d(1))
        XCTAssertFalse(filters.valuesAreReleased)
    }
}
