import XCTest

@testable import Kernels

/// The normalisation kernels against their definitions, on every path this CPU runs.
final class NormalizationTests: XCTestCase {
    /// Layer norm rows (vector lanes and a tail, with and without the affine) against the definition in Double.
    func testLayerNormMatchesItsDefinition() throws {
        for path in KernelPath.available {
            try KernelPath.with(path) {
                let (rows, dim) = (3, 37)
                let x = (0..<rows * dim).map { Float(($0 * 31) % 23) * 0.4 - 3 }
                let weight = (0..<dim).map { Float($0 % 5) * 0.5 - 1 }
                let bias = (0..<dim).map { Float($0 % 3) - 1 }
                for affine in [true, false] {
                    var y = [Float](repeating: .nan, count: rows * dim)
                    var mean = [Float](repeating: 0, count: rows)
                    var invStd = mean
                    layerNormForward(
                        rows: rows, dim: dim, input: x, weight: affine ? weight : nil, bias: affine ? bias : nil,
                        epsilon: 1e-5, output: &y, savedMean: &mean, savedInvStd: &invStd)
                    for r in 0..<rows {
                        let row = x[r * dim..<(r + 1) * dim].map(Double.init)
                        let m = row.reduce(0, +) / Double(dim)
                        let variance = row.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(dim)
                        XCTAssertEqual(Double(mean[r]), m, accuracy: 1e-5, "\(path)")
                        for i in 0..<dim {
                            let expected =
                                (row[i] - m) / (variance + 1e-5).squareRoot() * (affine ? Double(weight[i]) : 1)
                                + (affine ? Double(bias[i]) : 0)
                            XCTAssertEqual(
                                Double(y[r * dim + i]), expected, accuracy: 1e-5,
                                "\(path) affine=\(affine) [\(r), \(i)]")
                        }
                    }
                }
            }
        }
    }

}
