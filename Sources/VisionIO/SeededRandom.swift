// A small deterministic RNG so augmentations and shuffles replay exactly under a seed.
import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014): tiny state, good statistics, trivially splittable by reseeding.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An independent stream derived from this seed and `index` (e.g. one per sample per epoch).
    public static func derived(seed: UInt64, _ index: UInt64...) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed)
        var value = mixer.next()
        for i in index {
            mixer = SplitMix64(seed: value ^ (i &* 0xD1B5_4A32_D192_ED03))
            value = mixer.next()
        }
        return SplitMix64(seed: value)
    }
}

/// Draws every augmentation needs, from any seeded generator (SplitMix64 here, the models' RandomGenerator in training).
extension RandomNumberGenerator {
    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * nextUnit() }

    /// Uniform integer in [low, high] (inclusive).
    public mutating func int(in range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    public mutating func bernoulli(_ p: Double) -> Bool { nextUnit() < p }

    /// A standard normal sample (Box–Muller).
    public mutating func standardNormal() -> Double {
        let u1 = max(nextUnit(), 1e-300)
        let u2 = nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
