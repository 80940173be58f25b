import XCTest

@testable import Tensors

/// Error messages name the op and the shapes; sizes read in decimal units; axes resolve as in PyTorch.
final class TensorErrorTests: XCTestCase {
    /// Decimal units, one decimal place above bytes: 4 << 40 bytes is 4.398 TB.
    func testFormatBytes() {
        XCTAssertEqual(formatBytes(0), "0 bytes")
        XCTAssertEqual(formatBytes(999), "999 bytes")
        XCTAssertEqual(formatBytes(1000), "1.0 KB")
        XCTAssertEqual(formatBytes(12_345_678), "12.3 MB")
        XCTAssertEqual(formatBytes(1_500_000_000), "1.5 GB")
        XCTAssertEqual(formatBytes(4 << 40), "4.4 TB")
        XCTAssertEqual(formatBytes(Int.max), "9.2 EB")
    }

    /// A negative axis counts from the end (−1 is the last); out of range is an error naming axis and rank.
    func testNormalizedAxis() throws {
        XCTAssertEqual(try normalizedAxis(-1, rank: 3, op: "sum"), 2)
        XCTAssertEqual(try normalizedAxis(-3, rank: 3, op: "sum"), 0)
        XCTAssertEqual(try normalizedAxis(1, rank: 3, op: "sum"), 1)
        XCTAssertThrowsError(try normalizedAxis(3, rank: 3, op: "sum")) { error in
            XCTAssertEqual(error as? TensorError, .invalidAxis(op: "sum", axis: 3, rank: 3))
            XCTAssertEqual("\(error)", "sum: axis 3 is out of range for a tensor of rank 3")
        }
        XCTAssertThrowsError(try normalizedAxis(-4, rank: 3, op: "mean"))
    }

    /// Row-major strides: the last axis is contiguous.
    func testContiguousStrides() {
        XCTAssertEqual(contiguousStrides([2, 3, 4]), [12, 4, 1])
        XCTAssertEqual(contiguousStrides([5]), [1])
        XCTAssertEqual(contiguousStrides([]), [])
    }

    func testDescriptionsNameTheOpAndShapes() {
        XCTAssertEqual(
            "\(TensorError.shapeMismatch(op: "add", shapes: [[2, 3], [4]]))", "add: incompatible shapes [2, 3] and [4]")
        XCTAssertEqual(
            "\(TensorError.scalarCountMismatch(shape: [2, 3], count: 5))",
            "tensor of shape [2, 3] needs 6 values, got 5")
        XCTAssertEqual(
            "\(TensorError.outOfMemory(shape: [10], bytes: 2_000_000, limit: 1_000_000, inUse: 500))",
            "cannot allocate a tensor of shape [10] (2.0 MB): tensors may use 1.0 MB on this machine and 500 bytes "
                + "are in use")
    }
}
