import Randomness

// torchvision's ColorJitter: brightness, contrast, saturation and hue in a random order, each factor
// uniform in [max(0, 1 - x), 1 + x] (hue in [-h, h]). The first three use Pillow's exact ImageEnhance
// arithmetic; hue shifts in float HSV (torchvision goes through Pillow's uint8 HSV, so ±1-2 levels differ).

/// torchvision's `ColorJitter(brightness, contrast, saturation, hue)` on uint8 RGB images; 0 disables a step.
public struct ColorJitter: Sendable {
    /// Brightness factors are drawn from [max(0, 1 - brightness), 1 + brightness].
    public var brightness: Double
    /// Contrast factors are drawn from [max(0, 1 - contrast), 1 + contrast].
    public var contrast: Double
    /// Saturation factors are drawn from [max(0, 1 - saturation), 1 + saturation].
    public var saturation: Double
    /// Hue shifts, in turns, are drawn from [-hue, hue]; in [0, 0.5].
    public var hue: Double

    /// Defaults are timm's `color_jitter=0.4` (no hue jitter).
    /// - Parameters:
    ///   - brightness: brightness jitter strength, ≥ 0.
    ///   - contrast: contrast jitter strength, ≥ 0.
    ///   - saturation: saturation jitter strength, ≥ 0.
    ///   - hue: hue jitter strength in turns; must be in [0, 0.5] (a precondition).
    public init(brightness: Double = 0.4, contrast: Double = 0.4, saturation: Double = 0.4, hue: Double = 0) {
        precondition(hue >= 0 && hue <= 0.5, "hue jitter must be in [0, 0.5]")
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
    }

    /// Applies the four adjustments in a random order, each with its own random factor.
    /// - Parameters:
    ///   - image: the picture to jitter.
    ///   - rng: the sample's generator; it draws the order and the factors.
    /// - Returns: the jittered image, same size.
    public func callAsFunction(_ image: Image, using rng: inout RandomGenerator) -> Image {
        var image = image
        for step in [0, 1, 2, 3].shuffled(using: &rng) {
            switch step {
            case 0 where brightness > 0:
                image = image.adjustingBrightness(rng.uniform(max(0, 1 - brightness), 1 + brightness))
            case 1 where contrast > 0: image = image.adjustingContrast(rng.uniform(max(0, 1 - contrast), 1 + contrast))
            case 2 where saturation > 0:
                image = image.adjustingSaturation(rng.uniform(max(0, 1 - saturation), 1 + saturation))
            case 3 where hue > 0: image = image.adjustingHue(rng.uniform(-hue, hue))
            default: break
            }
        }
        return image
    }
}

extension Image {
    /// Rotates hue by `shift` turns (in [-0.5, 0.5]).
    public func adjustingHue(_ shift: Double) -> Image {
        var out = pixels
        for i in 0..<(width * height) {
            let r = Double(pixels[3 * i]) / 255
            let g = Double(pixels[3 * i + 1]) / 255
            let b = Double(pixels[3 * i + 2]) / 255
            let maxC = max(r, g, b)
            let minC = min(r, g, b)
            let delta = maxC - minC
            guard delta > 0 else { continue }  // gray: hue undefined, unchanged
            var h: Double
            if maxC == r {
                h = ((g - b) / delta).truncatingRemainder(dividingBy: 6)
            } else if maxC == g {
                h = (b - r) / delta + 2
            } else {
                h = (r - g) / delta + 4
            }
            h = (h / 6 + shift + 2).truncatingRemainder(dividingBy: 1)
            let s = delta / maxC
            let v = maxC
            let sector = h * 6
            let index = Int(sector) % 6
            let f = sector - Double(Int(sector))
            let p = v * (1 - s)
            let q = v * (1 - s * f)
            let t = v * (1 - s * (1 - f))
            let rgb: (Double, Double, Double)
            switch index {
            case 0: rgb = (v, t, p)
            case 1: rgb = (q, v, p)
            case 2: rgb = (p, v, t)
            case 3: rgb = (p, q, v)
            case 4: rgb = (t, p, v)
            default: rgb = (v, p, q)
            }
            out[3 * i] = UInt8(max(0, min(255, (rgb.0 * 255).rounded())))
            out[3 * i + 1] = UInt8(max(0, min(255, (rgb.1 * 255).rounded())))
            out[3 * i + 2] = UInt8(max(0, min(255, (rgb.2 * 255).rounded())))
        }
        return Image(width: width, height: height, pixels: out)
    }
}
