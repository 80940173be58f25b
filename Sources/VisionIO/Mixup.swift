// Batch-level Mixup / CutMix with soft targets (timm.data.Mixup, mode "batch"), and label smoothing.
import Foundation
import Randomness

/// Label-smoothed one-hot rows: `1 - smoothing + smoothing / classes` on the label, `smoothing / classes` elsewhere.
public func smoothedOneHot(labels: [Int], classes: Int, smoothing: Double = 0) -> [Float] {
    // Computed in Double and rounded once, like timm (Python floats, then a float32 tensor).
    let off = Float(smoothing / Double(classes))
    let on = Float(1 - smoothing + smoothing / Double(classes))
    var out = [Float](repeating: off, count: labels.count * classes)
    for (row, label) in labels.enumerated() where label >= 0 && label < classes { out[row * classes + label] = on }
    return out
}

/// timm's `Mixup` in mode "batch": one mixing decision per batch, Mixup or CutMix, with soft, smoothed targets.
public struct Mixup: Sendable {
    /// Mixup's Beta(α, α) parameter (timm's `mixup_alpha`); 0 disables Mixup.
    public var mixupAlpha: Double
    /// CutMix's Beta(α, α) parameter (timm's `cutmix_alpha`); 0 disables CutMix.
    public var cutmixAlpha: Double
    /// Chance that a batch is mixed at all (timm's `prob`).
    public var probability: Double
    /// Chance of CutMix rather than Mixup when both are enabled (timm's `switch_prob`).
    public var switchProbability: Double
    /// Label smoothing folded into the targets (timm's `label_smoothing`).
    public var labelSmoothing: Double
    /// Width of the target rows (timm's `num_classes`).
    public var classes: Int

    /// Defaults are the DeiT recipe (`--mixup 0.8 --cutmix 1.0 --smoothing 0.1`).
    /// - Parameters:
    ///   - mixupAlpha: Mixup's Beta parameter; 0 disables Mixup.
    ///   - cutmixAlpha: CutMix's Beta parameter; 0 disables CutMix.
    ///   - probability: chance that a batch is mixed.
    ///   - switchProbability: chance of CutMix when both are enabled.
    ///   - labelSmoothing: smoothing of the one-hot targets, in [0, 1].
    ///   - classes: the number of classes.
    public init(
        mixupAlpha: Double = 0.8, cutmixAlpha: Double = 1.0, probability: Double = 1.0,
        switchProbability: Double = 0.5, labelSmoothing: Double = 0.1, classes: Int
    ) {
        self.mixupAlpha = mixupAlpha
        self.cutmixAlpha = cutmixAlpha
        self.probability = probability
        self.switchProbability = switchProbability
        self.labelSmoothing = labelSmoothing
        self.classes = classes
    }

    /// What one call decided: the effective mixing weight and, for CutMix, the pasted box.
    public struct Decision: Equatable, Sendable {
        /// The weight of each row's own target; 1 when the batch was left unmixed. For CutMix it is corrected to
        /// the box's real area, as timm's `correct_lam` does.
        public var lambda: Double
        /// The pasted rectangle in pixels (half-open ranges `top..<bottom`, `left..<right`); nil for Mixup or none.
        public var cutmixBox: (top: Int, bottom: Int, left: Int, right: Int)?
        /// Equal lambdas and equal boxes (tuples are not `Equatable`, hence the hand-written comparison).
        public static func == (a: Decision, b: Decision) -> Bool {
            a.lambda == b.lambda && a.cutmixBox?.top == b.cutmixBox?.top && a.cutmixBox?.left == b.cutmixBox?.left
                && a.cutmixBox?.bottom == b.cutmixBox?.bottom && a.cutmixBox?.right == b.cutmixBox?.right
        }
    }

    /// Mixes `batch` in place with its reverse (row i with row B-1-i) and returns (B, classes) soft targets.
    @discardableResult
    public func apply<G: RandomNumberGenerator>(
        to batch: inout Batch, using rng: inout G
    ) -> (targets: [Float], decision: Decision) {
        precondition(batch.shape.count == 4, "Mixup expects (B, C, H, W)")
        let (b, c, h, w) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        var lambda = 1.0
        var useCutmix = false
        if rng.nextUnit() < probability {
            if mixupAlpha > 0 && cutmixAlpha > 0 {
                useCutmix = rng.nextUnit() < switchProbability
                lambda = Mixup.beta(useCutmix ? cutmixAlpha : mixupAlpha, using: &rng)
            } else if mixupAlpha > 0 {
                lambda = Mixup.beta(mixupAlpha, using: &rng)
            } else if cutmixAlpha > 0 {
                useCutmix = true
                lambda = Mixup.beta(cutmixAlpha, using: &rng)
            }
        }
        var box: (top: Int, bottom: Int, left: Int, right: Int)?
        let sample = c * h * w
        if lambda < 1 {
            let original = batch.images
            if useCutmix {
                // timm rand_bbox: cut = int(side * sqrt(1 - lam)), centre uniform, clipped; lam from the real area.
                let ratio = (1 - lambda).squareRoot()
                let cutH = Int(Double(h) * ratio)
                let cutW = Int(Double(w) * ratio)
                let cy = rng.int(in: 0...(h - 1))
                let cx = rng.int(in: 0...(w - 1))
                let top = max(0, min(h, cy - cutH / 2))
                let bottom = max(0, min(h, cy + cutH / 2))
                let left = max(0, min(w, cx - cutW / 2))
                let right = max(0, min(w, cx + cutW / 2))
                box = (top, bottom, left, right)
                lambda = 1 - Double((bottom - top) * (right - left)) / Double(h * w)
                for i in 0..<b {
                    let j = b - 1 - i
                    for ch in 0..<c {
                        for y in top..<bottom {
                            let row = (ch * h + y) * w
                            for x in left..<right {
                                batch.images[i * sample + row + x] = original[j * sample + row + x]
                            }
                        }
                    }
                }
            } else {
                let l = Float(lambda)
                let m = Float(1 - lambda)
                for i in 0..<b {
                    let j = b - 1 - i
                    for k in 0..<sample {
                        batch.images[i * sample + k] = original[i * sample + k] * l + original[j * sample + k] * m
                    }
                }
            }
        }
        let y1 = smoothedOneHot(labels: batch.labels, classes: classes, smoothing: labelSmoothing)
        let y2 = smoothedOneHot(labels: batch.labels.reversed(), classes: classes, smoothing: labelSmoothing)
        let l = Float(lambda)
        let targets = zip(y1, y2).map { $0 * l + $1 * (1 - l) }
        return (targets, Decision(lambda: lambda, cutmixBox: box))
    }

    /// Beta(a, a) as X / (X + Y) with Gamma(a) draws.
    static func beta<G: RandomNumberGenerator>(_ a: Double, using rng: inout G) -> Double {
        let x = gamma(a, using: &rng)
        let y = gamma(a, using: &rng)
        return x + y > 0 ? x / (x + y) : 0.5
    }

    /// Marsaglia–Tsang; shape < 1 boosted with U^(1/a).
    static func gamma<G: RandomNumberGenerator>(_ shape: Double, using rng: inout G) -> Double {
        if shape < 1 {
            return gamma(shape + 1, using: &rng) * pow(max(rng.nextUnit(), 1e-300), 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = rng.standardNormal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = rng.nextUnit()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }
}
