// Pillow's `Image.resize`, ported from libImaging/Resample.c so uint8 results are bit-exact:
// per-output-pixel coefficients (support widened by the scale when shrinking, i.e. antialiasing),
// 22-bit fixed point, two separable passes in Pillow 13's order (fixtures come from Pillow 13.0).

/// Pillow's resampling filters, named as timm's `interpolation` strings ("nearest", "bilinear", "bicubic").
public enum ResampleFilter: String, Codable, Sendable, CaseIterable {
    /// `NEAREST`, `BILINEAR` (triangle, support 1) and `BICUBIC` (Keys cubic, a = -0.5, support 2).
    case nearest, bilinear, bicubic

    var support: Double {
        switch self {
        case .nearest: return 0
        case .bilinear: return 1
        case .bicubic: return 2
        }
    }

    @inline(__always) func weight(_ value: Double) -> Double {
        let x = value < 0 ? -value : value
        switch self {
        case .nearest: return 0
        case .bilinear: return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5  // Pillow's (and Keys') cubic convolution constant
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }

    /// Pillow's resampling weights along one axis (`precompute_coeffs` in libImaging/Resample.c): for each
    /// of `outSize` outputs, the first source index it reads and the normalised weights of the source pixels
    /// from there. The filter's support widens by the scale when shrinking (antialiasing) and is cut at the
    /// borders. torch's antialiased `F.interpolate` (bilinear, bicubic) uses the same weights.
    /// - Parameters:
    ///   - inSize: source pixels along the axis.
    ///   - outSize: output pixels.
    ///   - start: where the source region begins (Pillow's `box`), in source pixels.
    ///   - span: the source region's length; the whole axis when nil.
    /// - Returns: one entry per output pixel: the first source index and the weights from there, summing to 1
    ///   (empty for `.nearest`, which has no kernel).
    public func axisWeights(
        inSize: Int, outSize: Int, start: Double = 0, span: Double? = nil
    )
        -> [(first: Int, weights: [Double])]
    {
        let scale = (span ?? Double(inSize)) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = self.support * filterScale
        let inverseFilterScale = 1 / filterScale
        return (0..<outSize).map { output in
            let center = start + (Double(output) + 0.5) * scale
            let first = max(Int(center - support + 0.5), 0)
            let count = max(min(Int(center + support + 0.5), inSize) - first, 0)
            var weights = (0..<count).map { weight((Double($0 + first) - center + 0.5) * inverseFilterScale) }
            let total = weights.reduce(0, +)
            if total != 0 { weights = weights.map { $0 / total } }
            return (first, weights)
        }
    }
}

/// A source region in pixel coordinates, Pillow's `box` argument (stored as float32 like Pillow does).
public struct ResizeBox: Equatable, Sendable {
    /// Left, top, right and bottom edges, in source pixels (right and bottom exclusive).
    public var x0: Float, y0: Float, x1: Float, y1: Float
    /// The box `(x0, y0, x1, y1)`, as Pillow's `box=(left, upper, right, lower)`.
    public init(x0: Float, y0: Float, x1: Float, y1: Float) {
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
    }
}

private let precisionBits = 32 - 8 - 2

/// Fixed-point coefficients for one axis: `bounds[2i]` first source index, `bounds[2i+1]` count.
private struct Coefficients {
    var kernelSize: Int
    var bounds: [Int]
    var weights: [Int32]

    init(inSize: Int, in0: Float, in1: Float, outSize: Int, filter: ResampleFilter) {
        let span = Double(in1 - in0)  // a Float difference, as Pillow's
        kernelSize = Int((filter.support * max(span / Double(outSize), 1)).rounded(.up)) * 2 + 1
        bounds = [Int](repeating: 0, count: outSize * 2)
        weights = [Int32](repeating: 0, count: outSize * kernelSize)
        let rows = filter.axisWeights(inSize: inSize, outSize: outSize, start: Double(in0), span: span)
        for (output, row) in rows.enumerated() {
            for (x, weight) in row.weights.enumerated() {
                let scaled = weight * Double(1 << precisionBits)
                weights[output * kernelSize + x] = Int32(weight < 0 ? (-0.5 + scaled) : (0.5 + scaled))
            }
            bounds[2 * output] = row.first
            bounds[2 * output + 1] = row.weights.count
        }
    }
}

@inline(__always) private func clip8(_ value: Int) -> UInt8 {
    let shifted = value >> precisionBits
    return shifted < 0 ? 0 : shifted > 255 ? 255 : UInt8(truncatingIfNeeded: shifted)
}

extension Image {
    /// `Image.resize((width, height), filter, box)` with Pillow's exact arithmetic.
    public func resized(
        width outWidth: Int, height outHeight: Int, filter: ResampleFilter,
        box: ResizeBox? = nil
    ) -> Image {
        precondition(outWidth > 0 && outHeight > 0, "resize target must be positive")
        let box = box ?? ResizeBox(x0: 0, y0: 0, x1: Float(width), y1: Float(height))
        precondition(
            box.x0 >= 0 && box.y0 >= 0 && box.x1 <= Float(width) && box.y1 <= Float(height)
                && box.x1 >= box.x0 && box.y1 >= box.y0, "resize box outside the image")
        // Pillow crops instead of resampling when an integral box already has the target size.
        if box.x0 == box.x0.rounded(.towardZero), box.y0 == box.y0.rounded(.towardZero),
            box.x1 - box.x0 == Float(outWidth), box.y1 - box.y0 == Float(outHeight)
        {
            return cropped(x: Int(box.x0), y: Int(box.y0), width: outWidth, height: outHeight)
        }
        if filter == .nearest { return resizedNearest(width: outWidth, height: outHeight, box: box) }

        let needHorizontal = outWidth != width || box.x0 != 0 || box.x1 != Float(outWidth)
        let needVertical = outHeight != height || box.y0 != 0 || box.y1 != Float(outHeight)
        var vertical = Coefficients(inSize: height, in0: box.y0, in1: box.y1, outSize: outHeight, filter: filter)
        var horizontal = Coefficients(inSize: width, in0: box.x0, in1: box.x1, outSize: outWidth, filter: filter)
        // Pillow 13 runs the vertical pass first when the height shrinks by more than twice the
        // width's reduction (whole-image sizes, not the box). The order changes rounding, so follow it.
        let horizontalFirst = !((height - outHeight) > 0 && (height - outHeight) > (width - outWidth) * 2)
        var source = self
        if horizontalFirst {
            if needHorizontal {
                let firstRow = vertical.bounds[0]
                let lastRow = vertical.bounds[outHeight * 2 - 2] + vertical.bounds[outHeight * 2 - 1]
                for i in 0..<outHeight { vertical.bounds[2 * i] -= firstRow }
                source = resampleHorizontal(
                    horizontal, outWidth: outWidth, firstRow: firstRow, rows: lastRow - firstRow)
            }
            if needVertical {
                source = source.resampleVertical(vertical, outHeight: outHeight, columns: 0..<source.width)
            }
        } else {
            if needVertical {
                // Only the columns the horizontal pass reads; the values are those of a full-width pass.
                var columns = 0..<width
                if needHorizontal {
                    columns =
                        horizontal.bounds[
                            0]..<(horizontal.bounds[outWidth * 2 - 2] + horizontal.bounds[outWidth * 2 - 1])
                    for i in 0..<outWidth { horizontal.bounds[2 * i] -= columns.lowerBound }
                }
                source = resampleVertical(vertical, outHeight: outHeight, columns: columns)
            }
            if needHorizontal {
                source = source.resampleHorizontal(horizontal, outWidth: outWidth, firstRow: 0, rows: source.height)
            }
        }
        return source
    }

    private func resampleHorizontal(_ c: Coefficients, outWidth: Int, firstRow: Int, rows: Int) -> Image {
        var out = [UInt8](repeating: 0, count: outWidth * rows * 3)
        let k = c.kernelSize
        let inWidth = width
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                c.weights.withUnsafeBufferPointer { weights in
                    c.bounds.withUnsafeBufferPointer { bounds in
                        for yy in 0..<rows {
                            let inRow = (yy + firstRow) * inWidth * 3
                            let outRow = yy * outWidth * 3
                            for xx in 0..<outWidth {
                                let xmin = bounds[2 * xx]
                                let count = bounds[2 * xx + 1]
                                let w = xx * k
                                var s0 = 1 << (precisionBits - 1)
                                var s1 = s0
                                var s2 = s0
                                var p = inRow + xmin * 3
                                for x in 0..<count {
                                    let weight = Int(weights[w + x])
                                    s0 += Int(src[p]) * weight
                                    s1 += Int(src[p + 1]) * weight
                                    s2 += Int(src[p + 2]) * weight
                                    p += 3
                                }
                                dst[outRow + xx * 3] = clip8(s0)
                                dst[outRow + xx * 3 + 1] = clip8(s1)
                                dst[outRow + xx * 3 + 2] = clip8(s2)
                            }
                        }
                    }
                }
            }
        }
        return Image(width: outWidth, height: rows, pixels: out)
    }

    private func resampleVertical(_ c: Coefficients, outHeight: Int, columns: Range<Int>) -> Image {
        let rowLength = columns.count * 3
        let k = c.kernelSize
        let inRowLength = width * 3
        let first = columns.lowerBound * 3
        var out = [UInt8](repeating: 0, count: rowLength * outHeight)
        var sums = [Int](repeating: 0, count: rowLength)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                sums.withUnsafeMutableBufferPointer { sums in
                    for yy in 0..<outHeight {
                        let ymin = c.bounds[2 * yy]
                        let count = c.bounds[2 * yy + 1]
                        for i in 0..<rowLength { sums[i] = 1 << (precisionBits - 1) }
                        // Row-at-a-time accumulation: same sums as Pillow's per-pixel loop, cache-friendly.
                        for y in 0..<count {
                            let weight = Int(c.weights[yy * k + y])
                            let row = (y + ymin) * inRowLength + first
                            for i in 0..<rowLength { sums[i] += Int(src[row + i]) * weight }
                        }
                        let outRow = yy * rowLength
                        for i in 0..<rowLength { dst[outRow + i] = clip8(sums[i]) }
                    }
                }
            }
        }
        return Image(width: columns.count, height: outHeight, pixels: out)
    }

    /// Pillow routes NEAREST through an affine transform (ImagingScaleAffine): accumulated float steps.
    private func resizedNearest(width outWidth: Int, height outHeight: Int, box: ResizeBox) -> Image {
        let a0 = Double(box.x1 - box.x0) / Double(outWidth)
        let a4 = Double(box.y1 - box.y0) / Double(outHeight)
        func coordinate(_ v: Double) -> Int { v < 0 ? -1 : Int(v) }
        var columns = [Int](repeating: -1, count: outWidth)
        var xo = Double(box.x0) + a0 * 0.5
        for x in 0..<outWidth {
            let xin = coordinate(xo)
            if xin >= 0 && xin < width { columns[x] = xin }
            xo += a0
        }
        var out = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        var yo = Double(box.y0) + a4 * 0.5
        for y in 0..<outHeight {
            let yi = coordinate(yo)
            if yi >= 0 && yi < height {
                for x in 0..<outWidth where columns[x] >= 0 {
                    let s = (yi * width + columns[x]) * 3
                    let d = (y * outWidth + x) * 3
                    out[d] = pixels[s]
                    out[d + 1] = pixels[s + 1]
                    out[d + 2] = pixels[s + 2]
                }
            }
            yo += a4
        }
        return Image(width: outWidth, height: outHeight, pixels: out)
    }
}
