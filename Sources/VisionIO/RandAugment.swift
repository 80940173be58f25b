import Randomness

// timm's RandAugment ("rand-m9-mstd0.5"): two ops drawn with replacement from timm's 15-op list,
// each applied with probability 0.5 at a magnitude drawn from N(9, 0.5) clipped to [0, 10].
// Level → argument mappings follow timm.data.auto_augment; geometric ops fill with timm's ImageNet mean.

/// timm's `RandAugment` (`timm.data.auto_augment.rand_augment_transform`) on uint8 RGB images.
public struct RandAugment: Sendable {
    /// timm's `_RAND_TRANSFORMS`, in timm's order.
    public enum Op: String, CaseIterable, Sendable {
        /// AutoContrast, Equalize, Invert, Rotate, Posterize, Solarize, SolarizeAdd, Color, Contrast, Brightness,
        /// Sharpness, ShearX, ShearY, TranslateXRel, TranslateYRel.
        case autoContrast, equalize, invert, rotate, posterize, solarize, solarizeAdd, color, contrast,
            brightness, sharpness, shearX, shearY, translateXRel, translateYRel
    }

    /// The ops drawn from, uniformly and with replacement.
    public var ops: [Op]
    /// Ops applied per image (timm's `n`).
    public var numLayers: Int
    /// Mean magnitude on timm's 0...10 scale (timm's `m`).
    public var magnitude: Double
    /// Standard deviation of the per-op magnitude noise (timm's `mstd`); 0 for fixed, infinity for uniform in
    /// [0, magnitude].
    public var magnitudeStd: Double
    /// Upper clip of the drawn magnitude (timm's `mmax`).
    public var magnitudeMax: Double
    /// Chance that each drawn op is applied (timm's `p`).
    public var probability: Double
    /// Largest translation, as a fraction of the image side, at magnitude 10 (timm's `translate_pct`).
    public var translatePct: Double
    /// RGB colour of areas uncovered by rotate, shear and translate (timm's `img_mean`).
    public var fill: (UInt8, UInt8, UInt8)

    /// Defaults are timm's "rand-m9-mstd0.5" with ImageNet-mean fill.
    /// - Parameters:
    ///   - ops: the ops to draw from.
    ///   - numLayers: ops per image.
    ///   - magnitude: mean magnitude, 0...10.
    ///   - magnitudeStd: magnitude noise; 0 fixed, `.infinity` uniform.
    ///   - magnitudeMax: upper clip of the magnitude.
    ///   - probability: chance each op is applied.
    ///   - translatePct: translation fraction at magnitude 10.
    ///   - fill: colour of uncovered areas; timm's ImageNet mean `round(255 * mean)`.
    public init(
        ops: [Op] = Op.allCases, numLayers: Int = 2, magnitude: Double = 9, magnitudeStd: Double = 0.5,
        magnitudeMax: Double = 10, probability: Double = 0.5, translatePct: Double = 0.45,
        fill: (UInt8, UInt8, UInt8) = (124, 116, 104)
    ) {
        self.ops = ops
        self.numLayers = numLayers
        self.magnitude = magnitude
        self.magnitudeStd = magnitudeStd
        self.magnitudeMax = magnitudeMax
        self.probability = probability
        self.translatePct = translatePct
        self.fill = fill
    }

    /// Parses timm's config string, e.g. "rand-m9-mstd0.5" or "rand-m7-n3-mstd1-p0.8".
    public init?(config: String) {
        let parts = config.split(separator: "-")
        guard parts.first == "rand" else { return nil }
        self.init()
        for part in parts.dropFirst() {
            if part.hasPrefix("mstd"), let v = Double(part.dropFirst(4)) {
                magnitudeStd = v
            } else if part.hasPrefix("mmax"), let v = Double(part.dropFirst(4)) {
                magnitudeMax = v
            } else if part.hasPrefix("m"), let v = Double(part.dropFirst()) {
                magnitude = v
            } else if part.hasPrefix("n"), let v = Int(part.dropFirst()) {
                numLayers = v
            } else if part.hasPrefix("p"), let v = Double(part.dropFirst()) {
                probability = v
            } else if part.hasPrefix("inc") {
                continue
            }  // increasing-severity variants not modelled
            else {
                return nil
            }
        }
    }

    /// Draws `numLayers` ops and applies each with `probability`, at a freshly drawn magnitude.
    /// - Parameters:
    ///   - image: the picture to augment.
    ///   - rng: the sample's generator.
    /// - Returns: the augmented image, same size.
    public func callAsFunction(_ image: Image, using rng: inout RandomGenerator) -> Image {
        var image = image
        guard !ops.isEmpty else { return image }
        for _ in 0..<numLayers {
            let op = ops[rng.int(in: 0...(ops.count - 1))]
            if probability < 1 && rng.nextUnit() > probability { continue }
            var level = magnitude
            if magnitudeStd.isInfinite {
                level = rng.uniform(0, magnitude)
            } else if magnitudeStd > 0 {
                level = magnitude + magnitudeStd * rng.standardNormal()
            }
            level = max(0, min(magnitudeMax, level))
            image = apply(op, level: level, to: image, using: &rng)
        }
        return image
    }

    /// One op at a given magnitude, with timm's level → argument mapping (`_level_to_arg`).
    /// - Parameters:
    ///   - op: the operation.
    ///   - level: magnitude on timm's 0...10 scale (not clipped here).
    ///   - image: the picture.
    ///   - rng: draws the random sign of rotate, shear and translate.
    /// - Returns: the transformed image, same size.
    public func apply(_ op: Op, level: Double, to image: Image, using rng: inout RandomGenerator) -> Image {
        let fraction = level / 10
        func signed(_ v: Double) -> Double { rng.bernoulli(0.5) ? -v : v }
        switch op {
        case .autoContrast: return image.autocontrasted()
        case .equalize: return image.equalized()
        case .invert: return image.inverted()
        case .rotate: return image.rotated(degrees: signed(fraction * 30), fill: fill)
        case .posterize:
            let bits = Int(fraction * 4)
            return bits >= 8 ? image : image.posterized(bits: bits)
        case .solarize: return image.solarized(threshold: Int(fraction * 256))
        case .solarizeAdd: return image.solarizedAdd(Int(fraction * 110))
        case .color: return image.adjustingSaturation(fraction * 1.8 + 0.1)
        case .contrast: return image.adjustingContrast(fraction * 1.8 + 0.1)
        case .brightness: return image.adjustingBrightness(fraction * 1.8 + 0.1)
        case .sharpness: return image.adjustingSharpness(fraction * 1.8 + 0.1)
        case .shearX: return image.affineTransformed([1, signed(fraction * 0.3), 0, 0, 1, 0], fill: fill)
        case .shearY: return image.affineTransformed([1, 0, 0, signed(fraction * 0.3), 1, 0], fill: fill)
        case .translateXRel:
            return image.affineTransformed(
                [1, 0, signed(fraction * translatePct) * Double(image.width), 0, 1, 0], fill: fill)
        case .translateYRel:
            return image.affineTransformed(
                [1, 0, 0, 0, 1, signed(fraction * translatePct) * Double(image.height)], fill: fill)
        }
    }
}
