import Foundation

// The zoo's one seeded generator: initialisation, dropout, masks, shuffles and augmentations all draw from
// it, so a seed replays a run exactly.

/// xoshiro256** (Blackman & Vigna 2018), seeded through SplitMix64: reproducible initialisation, dropout,
/// augmentation and shuffling.
public struct RandomGenerator: RandomNumberGenerator, Codable, Equatable, Sendable {
    /// The four xoshiro256** words; saved in checkpoints so that a resumed run draws the same numbers.
    public var state: [UInt64]

    /// The generator for `seed`; equal seeds give equal streams on every machine.
    public init(seed: UInt64) {
        // SplitMix64 spreads the seed over the four words.
        var s = seed
        state = (0..<4).map { _ in
            defer { s &+= 0x9E37_79B9_7F4A_7C15 }
            return Self.splitMix(s)
        }
    }

    private enum CodingKeys: String, CodingKey { case state }

    /// Decodes a saved generator (a checkpoint's), refusing a state that is not four words or is all zero
    /// (xoshiro's fixed point, which would draw only zeros).
    /// - Throws: `DecodingError.dataCorrupted` naming the problem.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let state = try container.decode([UInt64].self, forKey: .state)
        guard state.count == 4, state.contains(where: { $0 != 0 }) else {
            throw DecodingError.dataCorruptedError(
                forKey: .state, in: container,
                debugDescription: "a generator state is four words, not all zero; got \(state)")
        }
        self.state = state
    }

    /// An independent stream for (seed, indices…), e.g. one per epoch or per sample of an epoch: the same
    /// numbers whichever thread, batch or process draws them.
    public static func derived(seed: UInt64, _ indices: UInt64...) -> RandomGenerator {
        var value = splitMix(seed)
        for index in indices { value = splitMix(value ^ (index &* 0xD1B5_4A32_D192_ED03)) }
        return RandomGenerator(seed: value)
    }

    /// The SplitMix64 output after `state` (Steele, Lea, Flood 2014): a well-mixed 64-bit value.
    private static func splitMix(_ state: UInt64) -> UInt64 {
        var z = state &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next 64 random bits, advancing the state one xoshiro256** step.
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

/// Draws every augmentation and training step needs, from any generator.
extension RandomNumberGenerator {
    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * nextUnit() }

    /// Uniform integer in [low, high] (inclusive).
    public mutating func int(in range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    /// True with probability `p` (always false for p ≤ 0, always true for p ≥ 1).
    public mutating func bernoulli(_ p: Double) -> Bool { nextUnit() < p }

    /// A standard normal sample (Box–Muller).
    public mutating func standardNormal() -> Double {
        let u1 = max(nextUnit(), 1e-300)
        let u2 = nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
