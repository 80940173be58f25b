import Foundation

/// A small seeded generator (xoshiro256**): reproducible initialisation, dropout and augmentation.
public struct RandomGenerator: RandomNumberGenerator, Codable, Equatable, Sendable {
    public var state: [UInt64]

    public init(seed: UInt64) {
        // SplitMix64 spreads the seed over the four words.
        var s = seed
        state = (0..<4).map { _ in
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / Float(1 << 24)) }

    /// Writes `low + (high − low)·uniform()` for `count` draws: the same numbers as calling `uniform()` in a
    /// loop, with the state held in locals (array access made model construction slow in debug builds).
    public mutating func fillUniform(_ out: UnsafeMutablePointer<Float>, count: Int, low: Float = 0, high: Float = 1) {
        var words = Words(state)
        let span = high - low
        for i in 0..<count { out[i] = low + span * (Float(words.next() >> 40) * (1.0 / Float(1 << 24))) }
        state = words.array
    }

    /// Writes `mean + std·normal()` for `count` draws: the same numbers as calling `normal()` in a loop.
    public mutating func fillNormal(_ out: UnsafeMutablePointer<Float>, count: Int, mean: Float = 0, std: Float = 1) {
        var words = Words(state)
        for i in 0..<count {
            let u1 = max(Double(words.next() >> 11) * (1.0 / Double(1 << 53)), .leastNonzeroMagnitude)
            let u2 = Double(words.next() >> 11) * (1.0 / Double(1 << 53))
            out[i] = mean + std * Float((-2 * Foundation.log(u1)).squareRoot() * cos(2 * .pi * u2))
        }
        state = words.array
    }

    /// xoshiro256** on four local words (the same steps as `next()`).
    private struct Words {
        var s0, s1, s2, s3: UInt64
        init(_ state: [UInt64]) { (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3]) }
        var array: [UInt64] { [s0, s1, s2, s3] }
        mutating func next() -> UInt64 {
            let m = s1 &* 5
            let result = ((m << 7) | (m >> 57)) &* 9
            let t = s1 << 17
            s2 ^= s0
            s3 ^= s1
            s1 ^= s2
            s0 ^= s3
            s2 ^= t
            s3 = (s3 << 45) | (s3 >> 19)
            return result
        }
    }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * (1.0 / Double(1 << 53)), .leastNonzeroMagnitude)
        let u2 = Double(next() >> 11) * (1.0 / Double(1 << 53))
        return Float((-2 * Foundation.log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}

extension Tensor {
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, using rng: inout RandomGenerator
    ) throws -> Tensor {
        let t = try Tensor(uninitializedShape: shape)
        rng.fillUniform(t.pointer, count: t.count, low: low, high: high)
        return t
    }

    public static func normal(
        _ shape: [Int], mean: Float = 0, std: Float = 1, using rng: inout RandomGenerator
    ) throws -> Tensor {
        let t = try Tensor(uninitializedShape: shape)
        rng.fillNormal(t.pointer, count: t.count, mean: mean, std: std)
        return t
    }
}
