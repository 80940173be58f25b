// timm's RandomErasing (mode "pixel"): on the normalized CHW tensor, with probability p erase one
// rectangle of area 2%–33% and log-uniform aspect 0.3–3.3 with per-pixel N(0, 1) noise; 10 attempts.
import Foundation
import Randomness

/// timm's `RandomErasing(mode="pixel")`, applied to normalized CHW floats after the image transform.
public struct RandomErasing: Sendable {
    /// Chance that a sample is erased at all (timm's `probability`, `--reprob`).
    public var probability: Double
    /// Smallest erased fraction of the image area (timm's `min_area`).
    public var minArea: Double
    /// Largest erased fraction of the image area (timm's `max_area`).
    public var maxArea: Double
    /// Range of erased height / width ratios, sampled log-uniformly (timm's `min_aspect`...`max_aspect`).
    public var aspect: ClosedRange<Double>
    /// Up to this many rectangles, the count drawn uniformly from 1...maxCount (timm's `max_count`).
    public var maxCount: Int

    /// Defaults are timm's except `probability`, which is DeiT's `--reprob 0.25` (timm's class defaults to 0.5).
    /// - Parameters:
    ///   - probability: chance that a sample is erased.
    ///   - minArea: smallest erased area fraction.
    ///   - maxArea: largest erased area fraction.
    ///   - aspect: height / width ratio range.
    ///   - maxCount: most rectangles per sample.
    public init(
        probability: Double = 0.25, minArea: Double = 0.02, maxArea: Double = 1.0 / 3.0,
        aspect: ClosedRange<Double> = 0.3...(1 / 0.3), maxCount: Int = 1
    ) {
        self.probability = probability
        self.minArea = minArea
        self.maxArea = maxArea
        self.aspect = aspect
        self.maxCount = maxCount
    }

    /// Erases in place inside `values` (3 × height × width floats starting at `offset`).
    public func apply(
        to values: inout [Float], offset: Int = 0, channels: Int = 3, height: Int, width: Int,
        using rng: inout RandomGenerator
    ) {
        guard rng.nextUnit() < probability else { return }
        let area = Double(height * width)
        let count = maxCount <= 1 ? 1 : rng.int(in: 1...maxCount)
        let logAspect = (log(aspect.lowerBound), log(aspect.upperBound))
        for _ in 0..<count {
            for _ in 0..<10 {
                let targetArea = rng.uniform(minArea, maxArea) * area / Double(count)
                let ratio = exp(rng.uniform(logAspect.0, logAspect.1))
                let h = Int((targetArea * ratio).squareRoot().rounded(.toNearestOrEven))
                let w = Int((targetArea / ratio).squareRoot().rounded(.toNearestOrEven))
                guard w < width && h < height else { continue }
                let top = rng.int(in: 0...(height - h))
                let left = rng.int(in: 0...(width - w))
                for c in 0..<channels {
                    for y in top..<(top + h) {
                        let row = offset + (c * height + y) * width
                        for x in left..<(left + w) { values[row + x] = Float(rng.standardNormal()) }
                    }
                }
                break
            }
        }
    }
}
