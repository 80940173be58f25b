import Randomness
import XCTest

@testable import NN
@testable import Tensors

/// Where initial weights come from: the `using` scope's generator (reproducible, advanced past the draws),
/// zeros inside `skipping`, and PyTorch's / timm's distributions.
final class InitializationTests: XCTestCase {
    func testTheSameSeedGivesTheSameWeightsAndAnotherSeedOthers() throws {
        func build(seed: UInt64) throws -> [Float] {
            var generator = RandomGenerator(seed: seed)
            let block = try Initialization.using(&generator) { try TransformerBlock(dim: 8, heads: 2) }
            return block.stateDict().flatMap(\.tensor.scalars)
        }
        XCTAssertEqual(try build(seed: 5), try build(seed: 5))
        XCTAssertNotEqual(try build(seed: 5), try build(seed: 6))
    }

    /// Linear(4, 3) draws its 12 weights row-major, then its 3 biases, as U(−½, ½) from the scope's generator,
    /// which is left exactly 15 draws further on.
    func testDrawsInOrderFromTheScopeAndAdvancesTheGenerator() throws {
        var generator = RandomGenerator(seed: 11)
        var copy = generator
        let linear = try Initialization.using(&generator) { try Linear(4, 3) }
        let expected = (0..<15).map { _ in -0.5 + copy.uniform() }
        XCTAssertEqual(linear.weight.scalars + linear.bias!.scalars, expected)
        XCTAssertEqual(generator, copy)

        // The next build in a new scope continues the stream instead of repeating it.
        let next = try Initialization.using(&generator) { try Linear(4, 3) }
        XCTAssertNotEqual(next.weight.scalars, linear.weight.scalars)
    }

    func testSkippingGivesZerosAndDrawsNothing() throws {
        var generator = RandomGenerator(seed: 1)
        let before = generator
        let (linear, conv, normal, kaiming) = try Initialization.using(&generator) {
            try Initialization.skipping {
                XCTAssertTrue(Initialization.isSkipping)
                return (
                    try Linear(3, 2), try Conv2d(2, 2, kernel: 3), try Initialization.truncatedNormal([5], std: 1),
                    try Initialization.kaimingNormalFanOut([4, 2, 3, 3])
                )
            }
        }
        XCTAssertFalse(Initialization.isSkipping)
        for t in [linear.weight, linear.bias!, conv.weight, conv.bias!, normal, kaiming] {
            XCTAssertEqual(t.scalars, [Float](repeating: 0, count: t.count))
        }
        XCTAssertEqual(kaiming.shape, [4, 2, 3, 3])
        XCTAssertEqual(generator, before)
    }

    func testUniformStaysWithinItsBound() throws {
        var generator = RandomGenerator(seed: 2)
        let t = try Initialization.using(&generator) { try Initialization.uniform([10_000], bound: 0.25) }
        let values = t.scalars
        XCTAssertLessThanOrEqual(values.map(abs).max()!, 0.25)
        XCTAssertGreaterThan(values.max()!, 0.24)
        XCTAssertLessThan(values.min()!, -0.24)
        XCTAssertEqual(values.reduce(0, +) / 10_000, 0, accuracy: 0.01)
    }

    /// timm's trunc_normal_: within ±2 std; the standard deviation of N(0, 1) cut at ±2 is 0.880.
    func testTruncatedNormalStaysWithinTwoStandardDeviations() throws {
        var generator = RandomGenerator(seed: 3)
        let t = try Initialization.using(&generator) { try Initialization.truncatedNormal([20_000], std: 0.02) }
        let values = t.scalars
        XCTAssertLessThanOrEqual(values.map(abs).max()!, 0.04)
        XCTAssertGreaterThan(values.map(abs).max()!, 0.039)
        let mean = values.reduce(0, +) / Float(values.count)
        let std = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(values.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 5e-4)
        XCTAssertEqual(std, 0.02 * 0.880, accuracy: 5e-4)
    }

    /// Kaiming normal, fan_out mode, ReLU gain: std √(2 / (out · kh · kw)).
    func testKaimingNormalFanOutStandardDeviation() throws {
        var generator = RandomGenerator(seed: 4)
        let t = try Initialization.using(&generator) { try Initialization.kaimingNormalFanOut([50, 40, 3, 3]) }
        let values = t.scalars
        let std = (values.reduce(0) { $0 + $1 * $1 } / Float(values.count)).squareRoot()
        XCTAssertEqual(std, (2 / Float(50 * 9)).squareRoot(), accuracy: 0.002)
    }

    /// Outside any scope each build draws from a fresh system-seeded generator.
    func testWithoutAScopeBuildsDiffer() throws {
        XCTAssertNotEqual(try Linear(8, 8).weight.scalars, try Linear(8, 8).weight.scalars)
    }
}
