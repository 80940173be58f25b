import Randomness

/// A generator lent to one task for the length of a scope (`Initialization.using`, `TrainingRandomness.using`):
/// a task-local value cannot be mutated in place, so the scope holds it by reference and hands it back advanced.
final class RandomStream: @unchecked Sendable {  // drawn from only by the task that opened the scope
    var generator: RandomGenerator

    private init(_ generator: RandomGenerator) { self.generator = generator }

    /// Runs `body` with `local` bound to a stream over `generator`, then stores the advanced generator back.
    static func lending<T>(
        _ generator: inout RandomGenerator, as local: TaskLocal<RandomStream?>, _ body: () throws -> T
    ) rethrows -> T {
        let stream = RandomStream(generator)
        defer { generator = stream.generator }
        return try local.withValue(stream) { try body() }
    }

    /// Draws from the scope's generator, or outside any scope from a fresh one seeded by the system
    /// (each run then differs, as in a program that sets no seed).
    static func draw<T>(from stream: RandomStream?, _ body: (inout RandomGenerator) throws -> T) rethrows -> T {
        if let stream { return try body(&stream.generator) }
        var fresh = RandomGenerator(seed: .random(in: .min ... .max))
        return try body(&fresh)
    }
}
