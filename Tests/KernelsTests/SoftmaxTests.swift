import Foundation
import XCTest

@testable import Kernels

/// Softmax and log-softmax rows against their definitions, on every path this CPU runs.
final class SoftmaxTests: XCTestCase {
    func testSoftmaxMatchesDoublePrecisionIncludingExtremes() throws {
        for path in KernelPath.available {
            try KernelPath.with(path) {
                for count in [1, 7, 16, 33, 197] {
                    let row = (0..<count).map { Float(($0 * 37) % 61) * 0.7 - 21 }
                    var fast = [Float](repeating: 0, count: count)
                    softmaxForward(rows: 1, dim: count, input: row, output: &fast)
                    let top = row.max()!
                    let total = row.reduce(0.0) { $0 + exp(Double($1 - top)) }
                    for (x, y) in zip(row, fast) {
                        XCTAssertEqual(Double(y), exp(Double(x - top)) / total, accuracy: 3e-7, "\(path) n=\(count)")
                    }
                }
                // exp must neither overflow to NaN nor underflow to garbage far outside its range.
                var extreme = [Float](repeating: 0, count: 3)
                softmaxForward(rows: 1, dim: 3, input: [-200, 200, 0], output: &extreme)
                XCTAssertEqual(extreme[0], 0, accuracy: 1e-30, "\(path)")
                XCTAssertEqual(extreme[1], 1, "\(path)")
                XCTAssertEqual(extreme[2], 0, accuracy: 1e-30, "\(path)")
            }
        }
    }

    /// torch.log_softmax([1, 2, 3]) = x − log(e + e² + e³) = x − 3.40760596; rows are independent, and a large
    /// shift changes nothing (the maximum is subtracted first, so exp cannot overflow).
    func testLogSoftmaxKnownValues() {
        let input: [Float] = [1, 2, 3, 1001, 1002, 1003]
        var output = [Float](repeating: .nan, count: 6)
        logSoftmaxForward(rows: 2, dim: 3, input: input, output: &output)
        let expected: [Float] = [-2.40760596, -1.40760596, -0.40760596]
        for (i, value) in output.enumerated() {
            // Near 1000 a Float's spacing is 6e-5, so the shifted row can only be that close.
            XCTAssertEqual(value, expected[i % 3], accuracy: i < 3 ? 1e-6 : 1e-4, "element \(i)")
        }
    }

    /// The softmax backward is the Jacobian-vector product y ⊙ (dy − Σ dy·y), added to what the gradient held:
    /// for y = [0.25, 0.75] and dy = [1, 0], Σ dy·y = 0.25 and dx = [0.25·0.75, 0.75·(−0.25)].
    func testSoftmaxBackwardAccumulatesTheJacobianProduct() {
        var inputGrad: [Float] = [1, 1]
        softmaxBackward(rows: 1, dim: 2, output: [0.25, 0.75], outputGrad: [1, 0], inputGrad: &inputGrad)
        XCTAssertEqual(inputGrad[0], 1 + 0.1875, accuracy: 1e-7)
        XCTAssertEqual(inputGrad[1], 1 - 0.1875, accuracy: 1e-7)
    }
}
