import Randomness
import XCTest

@testable import Tensors

/// Finite-difference check of every input's gradient for loss = Σ f(inputs) ⊙ r with a fixed random r.
/// Central differences in Float32 with step `epsilon`; passes when
/// |analytic − numeric| ≤ tolerance · max(1, |analytic|, |numeric|) for every checked element.
func checkGradients(
    _ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 1e-2, maxElements: Int = 64,
    file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) throws -> Tensor
) throws {
    for x in inputs {
        x.requiresGrad = true
        x.zeroGrad()
    }
    var rng = RandomGenerator(seed: 99)
    let probe = try f(inputs)
    let weights = try Tensor.normal(probe.shape, using: &rng)
    let loss = try (probe * weights).sum()
    try loss.backward()

    func lossValue() throws -> Double {
        try withoutGrad {
            let y = try f(inputs)
            return zip(y.scalars, weights.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
    }
    for (index, x) in inputs.enumerated() {
        let analytic = x.grad?.scalars ?? [Float](repeating: 0, count: x.count)
        // Check every element of small inputs, a spread-out sample of large ones.
        let step = max(1, x.count / maxElements)
        for i in stride(from: 0, to: x.count, by: step) {
            let original = x.scalars[i]
            x.withUnsafeMutableBufferPointer { $0[i] = original + epsilon }
            let plus = try lossValue()
            x.withUnsafeMutableBufferPointer { $0[i] = original - epsilon }
            let minus = try lossValue()
            x.withUnsafeMutableBufferPointer { $0[i] = original }
            let numeric = Float((plus - minus) / Double(2 * epsilon))
            let scale = max(1, abs(analytic[i]), abs(numeric))
            XCTAssertLessThanOrEqual(
                abs(analytic[i] - numeric), tolerance * scale,
                "input \(index) element \(i): analytic \(analytic[i]) vs numeric \(numeric)", file: file, line: line)
        }
    }
}

func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) throws -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return try Tensor.normal(shape, std: scale, using: &rng)
}

/// Values bounded away from 0 (for functions with kinks or poles there).
func awayFromZero(_ shape: [Int], seed: UInt64, low: Float = 0.3, high: Float = 2) throws -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let t = try Tensor.uniform(shape, low: low, high: high, using: &rng)
    t.withUnsafeMutableBufferPointer { b in for i in b.indices where rng.uniform() < 0.5 { b[i] = -b[i] } }
    return t
}
