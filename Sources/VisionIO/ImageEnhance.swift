// Pillow's ImageEnhance (Brightness, Contrast, Color, Sharpness) and ImageOps point operations,
// with Pillow's integer formulas so results match `Image.blend` / lookup tables exactly.

extension Image {
    /// Pillow's `Image.blend(degenerate, self, factor)` (float32 factor; truncation, clipping when extrapolating).
    func blended(from degenerate: Image, factor: Double) -> Image {
        let alpha = Float(factor)
        let interpolate = alpha >= 0 && alpha <= 1
        var out = [UInt8](repeating: 0, count: pixels.count)
        for i in 0..<pixels.count {
            let a = Int(degenerate.pixels[i])
            let b = Int(pixels[i])
            let value = Float(a) + alpha * Float(b - a)
            if interpolate {
                out[i] = UInt8(value)
            } else {
                out[i] = value <= 0 ? 0 : value >= 255 ? 255 : UInt8(value)
            }
        }
        return Image(width: width, height: height, pixels: out)
    }

    /// Pillow's RGB → "L": ITU-R 601-2 luma in 16-bit fixed point.
    public func luma() -> [UInt8] {
        (0..<(width * height)).map { i in
            let r = Int(pixels[3 * i])
            let g = Int(pixels[3 * i + 1])
            let b = Int(pixels[3 * i + 2])
            return UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
        }
    }

    func mapped(_ lut: (Int) -> UInt8) -> Image {
        let table = (0..<256).map(lut)
        return Image(width: width, height: height, pixels: pixels.map { table[Int($0)] })
    }

    func mappedPerChannel(_ tables: [[UInt8]]) -> Image {
        var out = pixels
        for i in 0..<out.count { out[i] = tables[i % 3][Int(out[i])] }
        return Image(width: width, height: height, pixels: out)
    }

    // MARK: ImageEnhance

    /// `ImageEnhance.Brightness(img).enhance(factor)`: blend with black.
    public func adjustingBrightness(_ factor: Double) -> Image {
        blended(from: Image(width: width, height: height), factor: factor)
    }

    /// `ImageEnhance.Contrast`: blend with a flat gray at the rounded mean luma.
    public func adjustingContrast(_ factor: Double) -> Image {
        let l = luma()
        let mean = Int(Double(l.reduce(0) { $0 + Int($1) }) / Double(max(l.count, 1)) + 0.5)
        let gray = UInt8(mean)
        return blended(from: Image(width: width, height: height, fill: (gray, gray, gray)), factor: factor)
    }

    /// `ImageEnhance.Color` (saturation): blend with the grayscale version.
    public func adjustingSaturation(_ factor: Double) -> Image {
        let l = luma()
        var gray = [UInt8](repeating: 0, count: pixels.count)
        for i in 0..<l.count {
            gray[3 * i] = l[i]
            gray[3 * i + 1] = l[i]
            gray[3 * i + 2] = l[i]
        }
        return blended(from: Image(width: width, height: height, pixels: gray), factor: factor)
    }

    /// `ImageEnhance.Sharpness`: blend with ImageFilter.SMOOTH (3x3 [1 1 1; 1 5 1; 1 1 1] / 13, border kept).
    public func adjustingSharpness(_ factor: Double) -> Image {
        var smooth = pixels
        if width > 2 && height > 2 {
            for y in 1..<(height - 1) {
                for x in 1..<(width - 1) {
                    for c in 0..<3 {
                        var sum = 0
                        for dy in -1...1 {
                            for dx in -1...1 {
                                let weight = (dx == 0 && dy == 0) ? 5 : 1
                                sum += weight * Int(pixels[((y + dy) * width + x + dx) * 3 + c])
                            }
                        }
                        // Pillow rounds the normalized sum to nearest.
                        smooth[(y * width + x) * 3 + c] = UInt8(
                            min(255, max(0, (Float(sum) / 13 + 0.5).rounded(.down))))
                    }
                }
            }
        }
        return blended(from: Image(width: width, height: height, pixels: smooth), factor: factor)
    }

    // MARK: ImageOps

    /// `ImageOps.invert`: every value v becomes 255 - v.
    public func inverted() -> Image { mapped { UInt8(255 - $0) } }

    /// Keeps the `bits` most significant bits of each channel.
    public func posterized(bits: Int) -> Image {
        let mask = ~((1 << (8 - max(0, min(8, bits)))) - 1) & 0xFF
        return mapped { UInt8($0 & mask) }
    }

    /// Inverts every value at or above `threshold`.
    public func solarized(threshold: Int) -> Image { mapped { $0 < threshold ? UInt8($0) : UInt8(255 - $0) } }

    /// timm's solarize_add: values below `threshold` get `add` (clipped at 255).
    public func solarizedAdd(_ add: Int, threshold: Int = 128) -> Image {
        mapped { $0 < threshold ? UInt8(max(0, min(255, $0 + add))) : UInt8($0) }
    }

    private func histograms() -> [[Int]] {
        var h = [[Int]](repeating: [Int](repeating: 0, count: 256), count: 3)
        for i in 0..<pixels.count { h[i % 3][Int(pixels[i])] += 1 }
        return h
    }

    /// `ImageOps.autocontrast(img)` (cutoff 0): stretch each channel's [min, max] to [0, 255].
    public func autocontrasted() -> Image {
        let tables: [[UInt8]] = histograms().map { h in
            guard let lo = h.firstIndex(where: { $0 != 0 }), let hi = h.lastIndex(where: { $0 != 0 }), hi > lo else {
                return (0..<256).map { UInt8($0) }
            }
            let scale = 255.0 / Double(hi - lo)
            let offset = -Double(lo) * scale
            return (0..<256).map { i in UInt8(max(0, min(255, Int(Double(i) * scale + offset)))) }
        }
        return mappedPerChannel(tables)
    }

    /// `ImageOps.equalize(img)`: Pillow's per-channel cumulative-histogram lookup.
    public func equalized() -> Image {
        let tables: [[UInt8]] = histograms().map { h in
            let used = h.filter { $0 != 0 }
            let identity = (0..<256).map { UInt8($0) }
            guard used.count > 1 else { return identity }
            let step = (used.reduce(0, +) - used[used.count - 1]) / 255
            guard step > 0 else { return identity }
            var n = step / 2
            return (0..<256).map { i in
                let value = UInt8(min(255, n / step))
                n += h[i]
                return value
            }
        }
        return mappedPerChannel(tables)
    }
}
