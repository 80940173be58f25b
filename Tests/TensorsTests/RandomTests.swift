import Randomness
import XCTest

@testable import Tensors

/// Random tensors: the generator's numbers in row-major order, in the requested shape and range.
final class RandomTests: XCTestCase {
    /// `Tensor.uniform` holds the draws of `uniform()` in order, scaled to [low, high).
    func testUniformTensorHoldsTheGeneratorsDrawsInOrder() throws {
        var rng = RandomGenerator(seed: 11)
        var reference = RandomGenerator(seed: 11)
        let t = try Tensor.uniform([3, 4], low: -2, high: 6, using: &rng)
        XCTAssertEqual(t.shape, [3, 4])
        for value in t.scalars {
            XCTAssertEqual(value, -2 + 8 * reference.uniform())
            XCTAssertTrue((-2..<6).contains(value))
        }
        XCTAssertEqual(rng, reference)
    }

    /// Mean and standard deviation of 20,000 normal draws within a few standard errors of those asked for.
    func testNormalTensorHasTheRequestedMoments() throws {
        var rng = RandomGenerator(seed: 12)
        let t = try Tensor.normal([20_000], mean: 3, std: 0.5, using: &rng)
        let values = t.scalars.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let std = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
        XCTAssertEqual(mean, 3, accuracy: 0.02)  // standard error 0.5/√20000 ≈ 0.0035
        XCTAssertEqual(std, 0.5, accuracy: 0.02)
        XCTAssertThrowsError(try Tensor.normal([2, -1], using: &rng))
    }
}
