import Foundation
import XCTest

@testable import Randomness

/// The one seeded generator: reproducible, independent derived streams, and draws with the right distributions.
final class RandomGeneratorTests: XCTestCase {
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

    /// The same seed replays the same numbers; another seed does not.
    func testSeedReplaysTheSameStream() {
        var a = RandomGenerator(seed: 7)
        var b = RandomGenerator(seed: 7)
        var c = RandomGenerator(seed: 8)
        let first = (0..<100).map { _ in a.next() }
        XCTAssertEqual(first, (0..<100).map { _ in b.next() })
        XCTAssertNotEqual(first, (0..<100).map { _ in c.next() })
        XCTAssertEqual(Set(first).count, 100)
    }

    /// SplitMix64 from seed 0 gives Vigna's reference words (splitmix64.c: 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4,
    /// 0x06C45D188009454F, 0xF88BB8A8724C81EC), so the state is the published algorithm's, not a look-alike.
    func testSeedingIsSplitMix64() {
        XCTAssertEqual(
            RandomGenerator(seed: 0).state,
            [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC])
    }

    /// xoshiro256** on the state [1, 2, 3, 4]: the first outputs of Blackman & Vigna's reference code.
    func testNextIsXoshiro256StarStar() {
        var rng = RandomGenerator(seed: 0)
        rng.state = [1, 2, 3, 4]
        XCTAssertEqual((0..<3).map { _ in rng.next() }, [11520, 0, 1_509_978_240])
    }

    /// Derived streams differ from each other and from the seed's own stream, and do not depend on what was
    /// drawn before: (seed, epoch, sample) names one stream wherever it is made.
    func testDerivedStreamsAreIndependentAndReproducible() {
        var streams: [[UInt64]] = []
        for indices in [[UInt64](), [0], [1], [0, 0], [0, 1], [1, 0]] {
            var rng: RandomGenerator
            switch indices.count {
            case 0: rng = RandomGenerator.derived(seed: 5)
            case 1: rng = RandomGenerator.derived(seed: 5, indices[0])
            default: rng = RandomGenerator.derived(seed: 5, indices[0], indices[1])
            }
            streams.append((0..<8).map { _ in rng.next() })
        }
        var own = RandomGenerator(seed: 5)
        streams.append((0..<8).map { _ in own.next() })
        XCTAssertEqual(Set(streams).count, streams.count)
        XCTAssertEqual(RandomGenerator.derived(seed: 5, 3, 9), RandomGenerator.derived(seed: 5, 3, 9))
        XCTAssertNotEqual(RandomGenerator.derived(seed: 6, 3, 9), RandomGenerator.derived(seed: 5, 3, 9))
    }

    /// uniform() in [0, 1) with mean 1/2 and variance 1/12; normal() with mean 0 and variance 1
    /// (100,000 draws: standard errors about 0.001 and 0.003).
    func testDrawMomentsWithinLooseBounds() {
        var rng = RandomGenerator(seed: 21)
        let n = 100_000
        let uniform = (0..<n).map { _ in Double(rng.uniform()) }
        XCTAssertTrue(uniform.allSatisfy { $0 >= 0 && $0 < 1 })
        let uniformMean = uniform.reduce(0, +) / Double(n)
        XCTAssertEqual(uniformMean, 0.5, accuracy: 0.01)
        XCTAssertEqual(uniform.reduce(0) { $0 + ($1 - 0.5) * ($1 - 0.5) } / Double(n), 1.0 / 12, accuracy: 0.005)
        let normal = (0..<n).map { _ in Double(rng.normal()) }
        let normalMean = normal.reduce(0, +) / Double(n)
        XCTAssertEqual(normalMean, 0, accuracy: 0.02)
        XCTAssertEqual(normal.reduce(0) { $0 + $1 * $1 } / Double(n), 1, accuracy: 0.03)
        // About 68.3 % of a normal lies within one standard deviation.
        XCTAssertEqual(Double(normal.filter { abs($0) < 1 }.count) / Double(n), 0.683, accuracy: 0.01)
    }

    /// The generic draws: int(in:) covers its closed range evenly, bernoulli(p) is true a fraction p of
    /// the time, uniform(low, high) stays in [low, high), standardNormal has unit variance.
    func testGenericDrawsFollowTheirDistributions() {
        var rng = RandomGenerator(seed: 3)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<60_000 { counts[rng.int(in: 0...5)] += 1 }
        for count in counts { XCTAssertEqual(Double(count), 10_000, accuracy: 400) }
        let hits = (0..<20_000).filter { _ in rng.bernoulli(0.3) }.count
        XCTAssertEqual(Double(hits) / 20_000, 0.3, accuracy: 0.015)
        XCTAssertTrue((0..<1000).allSatisfy { _ in (-3.0..<2.0).contains(rng.uniform(-3, 2)) })
        let normal = (0..<20_000).map { _ in rng.standardNormal() }
        XCTAssertEqual(normal.reduce(0) { $0 + $1 * $1 } / 20_000, 1, accuracy: 0.05)
    }

    /// The state is Codable, so a checkpoint can resume the stream exactly.
    func testCodableStateResumesTheStream() throws {
        var rng = RandomGenerator(seed: 99)
        _ = (0..<10).map { _ in rng.next() }
        var restored = try JSONDecoder().decode(RandomGenerator.self, from: JSONEncoder().encode(rng))
        XCTAssertEqual((0..<5).map { _ in restored.next() }, (0..<5).map { _ in rng.next() })
    }
}
