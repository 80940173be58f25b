import XCTest

@testable import Kernels

/// The row reductions and the AdamW update against their scalar definitions, on every path this CPU runs.
final class VectorMathTests: XCTestCase {
    /// The vector AdamW update against torch.optim.AdamW's formula in Double, over vector lanes and a tail.
    func testAdamWUpdateMatchesItsDefinition() throws {
        for path in KernelPath.available {
            try KernelPath.with(path) {
                let count = 37
                let gradient = (0..<count).map { Float(($0 * 29) % 17) * 0.3 - 2.4 }
                var w = (0..<count).map { Float(($0 * 13) % 11) * 0.2 - 1 }
                var m = w.map { $0 * 0.1 }
                var v = gradient.map { $0 * $0 * 0.5 }
                let (w0, m0, v0) = (w, m, v)
                let step = AdamWStep(
                    decay: 0.995, beta1: 0.9, beta2: 0.95, stepSize: 0.1 / (1 - 0.81),
                    rootCorrection2: (1 - 0.9025).squareRoot(), epsilon: 1e-8)
                step.apply(weights: &w, firstMoment: &m, secondMoment: &v, gradient: gradient, count: count)
                for k in 0..<count {
                    let g = Double(gradient[k])
                    let mk = 0.9 * Double(m0[k]) + 0.1 * g
                    let vk = 0.95 * Double(v0[k]) + 0.05 * g * g
                    let wk =
                        Double(w0[k]) * 0.995 - 0.1 / (1 - 0.81) * mk
                        / (vk.squareRoot() / (1 - 0.9025).squareRoot() + 1e-8)
                    XCTAssertEqual(Double(m[k]), mk, accuracy: 1e-6, "\(path) m[\(k)]")
                    XCTAssertEqual(Double(v[k]), vk, accuracy: 1e-6 * max(1, vk), "\(path) v[\(k)]")
                    XCTAssertEqual(Double(w[k]), wk, accuracy: 1e-5 * max(1, abs(wk)), "\(path) w[\(k)]")
                }
            }
        }
    }

    func testReductionsMatchDoublePrecision() throws {
        for path in KernelPath.available {
            try KernelPath.with(path) {
                for count in [0, 1, 5, 16, 63, 64, 65, 1000] {
                    let a = (0..<count).map { Float(($0 * 29) % 17) - 8.5 }
                    let b = (0..<count).map { Float(($0 * 13) % 11) * 0.25 }
                    let sum = a.reduce(0.0) { $0 + Double($1) }
                    let mean = count == 0 ? 0 : sum / Double(count)
                    XCTAssertEqual(Double(vectorSum(a, count: count)), sum, accuracy: 1e-3, "\(path)")
                    XCTAssertEqual(
                        Double(vectorDot(a, b, count: count)),
                        zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }, accuracy: 1e-3)
                    XCTAssertEqual(
                        Double(vectorSquaredDeviations(a, count: count, mean: Float(mean))),
                        a.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }, accuracy: 1e-2)
                    XCTAssertEqual(
                        Double(vectorCenteredDot(b, a, count: count, mean: Float(mean))),
                        zip(b, a).reduce(0.0) { $0 + Double($1.0) * (Double($1.1) - Double(Float(mean))) },
                        accuracy: 1e-2, "\(path)")
                    XCTAssertEqual(vectorMax(a, count: count), a.max() ?? -.infinity, "\(path)")
                }
            }
        }
    }

}
