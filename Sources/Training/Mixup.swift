import Foundation
import Tensors

/// timm's batch-level Mixup / CutMix with label smoothing (Zhang et al. 2017 — arXiv:1710.09412;
/// Yun et al. 2019 — arXiv:1905.04899): each batch is blended with its reverse under λ ~ Beta(α, α),
/// either everywhere (mixup) or inside one box (cutmix, λ corrected to the box's real area).
public struct Mixup {
    public var mixupAlpha: Float
    public var cutmixAlpha: Float
    /// Chance of cutmix when both are on (timm's switch_prob).
    public var switchProbability: Float = 0.5
    public var labelSmoothing: Float
    public var classes: Int

    public init(mixupAlpha: Float, cutmixAlpha: Float, labelSmoothing: Float, classes: Int) {
        self.mixupAlpha = mixupAlpha; self.cutmixAlpha = cutmixAlpha
        self.labelSmoothing = labelSmoothing; self.classes = classes
    }

    public var isActive: Bool { mixupAlpha > 0 || cutmixAlpha > 0 }

    /// Mixes `images` (B, C, H, W) in place and returns soft targets (B, classes).
    public func apply(images: inout [Float], shape: [Int], labels: [Int], using rng: inout RandomGenerator) throws -> Tensor {
        let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let useCutmix = cutmixAlpha > 0 && (mixupAlpha <= 0 || rng.uniform() < switchProbability)
        var lambda = Float(Self.beta(Double(useCutmix ? cutmixAlpha : mixupAlpha), using: &rng))
        let original = images
        if useCutmix {
            // A box of area (1 − λ)·H·W at a uniform centre, clipped to the image.
            let ratio = (1 - lambda).squareRoot()
            let cutH = Int(Float(h) * ratio), cutW = Int(Float(w) * ratio)
            let cy = Int(rng.uniform() * Float(h)), cx = Int(rng.uniform() * Float(w))
            let y0 = max(cy - cutH / 2, 0), y1 = min(cy + cutH / 2, h), x0 = max(cx - cutW / 2, 0), x1 = min(cx + cutW / 2, w)
            for i in 0..<b {
                let j = b - 1 - i
                for ch in 0..<c { for y in y0..<y1 { for x in x0..<x1 {
                    images[((i * c + ch) * h + y) * w + x] = original[((j * c + ch) * h + y) * w + x]
                } } }
            }
            lambda = 1 - Float((y1 - y0) * (x1 - x0)) / Float(h * w)
        } else {
            let plane = c * h * w
            for i in 0..<b {
                let j = b - 1 - i
                for k in 0..<plane { images[i * plane + k] = lambda * original[i * plane + k] + (1 - lambda) * original[j * plane + k] }
            }
        }
        return try softTargets(labels, lambda: lambda)
    }

    /// λ·smooth(y) + (1 − λ)·smooth(reversed y), as timm's mixup_target.
    public func softTargets(_ labels: [Int], lambda: Float) throws -> Tensor {
        let off = labelSmoothing / Float(classes), on = 1 - labelSmoothing + off
        var values = [Float](repeating: 0, count: labels.count * classes)
        for (i, label) in labels.enumerated() {
            let other = labels[labels.count - 1 - i]
            for k in 0..<classes {
                let a: Float = k == label ? on : off, b: Float = k == other ? on : off
                values[i * classes + k] = lambda * a + (1 - lambda) * b
            }
        }
        return try Tensor(shape: [labels.count, classes], scalars: values)
    }

    /// Beta(α, α) from two Gamma(α) draws (Marsaglia–Tsang, with the α < 1 boost).
    static func beta(_ alpha: Double, using rng: inout RandomGenerator) -> Double {
        let x = gamma(alpha, using: &rng), y = gamma(alpha, using: &rng)
        return x + y > 0 ? x / (x + y) : 0.5
    }

    static func gamma(_ alpha: Double, using rng: inout RandomGenerator) -> Double {
        if alpha < 1 {
            let u = max(Double(rng.uniform()), 1e-12)
            return gamma(alpha + 1, using: &rng) * pow(u, 1 / alpha)
        }
        let d = alpha - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat { x = Double(rng.normal()); v = 1 + c * x } while v <= 0
            v = v * v * v
            let u = Double(rng.uniform())
            if u < 1 - 0.0331 * x * x * x * x || log(max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }
}
