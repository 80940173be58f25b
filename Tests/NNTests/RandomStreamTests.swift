import Randomness
import XCTest

@testable import NN
@testable import Tensors

/// A generator lent to a scope (`TrainingRandomness.using`, `Initialization.using`): the draws inside come from
/// it, in order, and it comes back advanced past them.
final class RandomStreamTests: XCTestCase {
    /// Dropout(p) on n elements makes one uniform draw per element, dropping element i when draw i < p.
    func testDropoutDecisionsComeFromTheScopeGeneratorInOrder() throws {
        let dropout = Dropout(0.5)
        dropout.train()
        let x = try Tensor(repeating: 1, shape: [64])
        var generator = RandomGenerator(seed: 17)
        var copy = generator
        let y = try TrainingRandomness.using(&generator) { try dropout(x) }
        let expected = (0..<64).map { _ -> Float in copy.uniform() < 0.5 ? 0 : 2 }
        XCTAssertEqual(y.scalars, expected)
        XCTAssertEqual(generator, copy, "the generator comes back advanced by exactly the 64 draws")
    }

    func testTheSameSeedReplaysTheDecisions() throws {
        let dropout = Dropout(0.3)
        dropout.train()
        let x = try Tensor(repeating: 1, shape: [256])
        func run(seed: UInt64) throws -> [Float] {
            var generator = RandomGenerator(seed: seed)
            return try TrainingRandomness.using(&generator) { [try dropout(x).scalars, try dropout(x).scalars] }
                .flatMap { $0 }
        }
        XCTAssertEqual(try run(seed: 1), try run(seed: 1))
        XCTAssertNotEqual(try run(seed: 1), try run(seed: 2))
        // Within one scope the second call continues the stream rather than repeating the first.
        let both = try run(seed: 1)
        XCTAssertNotEqual(Array(both[..<256]), Array(both[256...]))
    }

    /// Evaluation mode (and probability 0) draws nothing: the generator comes back unchanged.
    func testEvaluationModeDrawsNothing() throws {
        let x = try Tensor(repeating: 1, shape: [16])
        var generator = RandomGenerator(seed: 5)
        let before = generator
        let evaluated = Dropout(0.5)
        let idle = Dropout(0)
        idle.train()
        let path = DropPath(0.5)
        let outputs = try TrainingRandomness.using(&generator) { [try evaluated(x), try idle(x), try path(x)] }
        for output in outputs { XCTAssertTrue(output === x, "the input itself, untouched") }
        XCTAssertEqual(generator, before)
    }

    /// Nested scopes: the inner one draws from its own generator, and the outer one resumes where it was.
    func testNestedScopesKeepTheirOwnStreams() throws {
        let dropout = Dropout(0.5)
        dropout.train()
        let x = try Tensor(repeating: 1, shape: [32])
        var outer = RandomGenerator(seed: 1)
        var inner = RandomGenerator(seed: 2)
        var (outerCopy, innerCopy) = (outer, inner)
        let (a, b, c) = try TrainingRandomness.using(&outer) {
            let a = try dropout(x).scalars
            let b = try TrainingRandomness.using(&inner) { try dropout(x).scalars }
            return (a, b, try dropout(x).scalars)
        }
        func mask(_ g: inout RandomGenerator) -> [Float] { (0..<32).map { _ in g.uniform() < 0.5 ? 0 : 2 } }
        XCTAssertEqual(a, mask(&outerCopy))
        XCTAssertEqual(b, mask(&innerCopy))
        XCTAssertEqual(c, mask(&outerCopy))
        XCTAssertEqual(outer, outerCopy)
        XCTAssertEqual(inner, innerCopy)
    }

    /// Initialization and TrainingRandomness are separate scopes: a training scope does not seed a build.
    func testInitializationAndTrainingScopesAreSeparate() throws {
        var generator = RandomGenerator(seed: 9)
        let before = generator
        let (first, second) = try TrainingRandomness.using(&generator) {
            (try Linear(4, 4).weight.scalars, try Linear(4, 4).weight.scalars)
        }
        XCTAssertEqual(generator, before, "a build inside a training scope does not draw from it")
        XCTAssertNotEqual(first, second, "outside an Initialization scope each build is system-seeded")
    }
}
