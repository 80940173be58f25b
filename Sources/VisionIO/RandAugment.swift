import Randomness

// timm's RandAugment ("rand-m9-mstd0.5"): two ops drawn with replacement from timm's 15-op list,
// each applied with probability 0.5 at a magnitude drawn from N(9, 0.5) clipped to [0, 10].
// Level → argument mappings follow timm.data.auto_augment; geometric ops fill with timm's ImageNet mean.

public struct RandAugment: Sendable {
    public enum Op: String, CaseIterable, Sendable {
        case autoContrast, equalize, invert, rotate, posterize, solarize, solarizeAdd, color, contrast,
            brightness, sharpness, shearX, shearY, translateXRel, translateYRel
    }

    public var ops: [Op]
    public var numLayers: Int
    public var magnitude: Double
    public var magnitudeStd: Double
    public var magnitudeMax: Double
    public var probability: Double
    public var translatePct: Double
    public var fill: (UInt8, UInt8, UInt8)

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
