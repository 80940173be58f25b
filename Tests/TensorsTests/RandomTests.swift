import Randomness
import XCTest

@testable import Tensors

final class RandomTests: XCTestCase {
    /// The bulk fill draws exactly the numbers of a `uniform()` loop and leaves the generator in the same state.
    func testFillUniformMatchesScalarDraws() {
        var scalar = RandomGenerator(seed: 42)
        var bulk = RandomGenerator(seed: 42)
        let expected = (0..<1000).map { _ in -0.5 + (2 - -0.5) * scalar.uniform() }
        var actual = [Float](repeating: 0, count: 1000)
        actual.withUnsafeMutableBufferPointer { bulk.fillUniform($0.baseAddress!, count: 1000, low: -0.5, high: 2) }
        XCTAssertEqual(actual, expected)
        XCTAssertEqual(bulk, scalar)
    }

    func testFillNormalMatchesScalarDraws() {
        var scalar = RandomGenerator(seed: 5)
        var bulk = RandomGenerator(seed: 5)
        let expected = (0..<1000).map { _ in 0.25 + 3 * scalar.normal() }
        var actual = [Float](repeating: 0, count: 1000)
        actual.withUnsafeMutableBufferPointer { bulk.fillNormal($0.baseAddress!, count: 1000, mean: 0.25, std: 3) }
        XCTAssertEqual(actual, expected)
        XCTAssertEqual(bulk, scalar)
    }
}
