// Affine warps for RandAugment (rotate, shear, translate), following Pillow's `Image.transform(AFFINE)`
// convention: each output pixel centre (x + 0.5, y + 0.5) maps to the input point (a·x + b·y + c, d·x + e·y + f).
// Sampling is nearest or bilinear (bicubic requests use bilinear); close to Pillow, not bit-exact.
import Foundation

extension Image {
    /// Pillow's `Image.transform(size, Image.AFFINE, m)` on the same canvas: an inverse mapping from output to
    /// input pixels; output points whose source falls outside the image get `fill`.
    /// - Parameters:
    ///   - m: the six coefficients `(a, b, c, d, e, f)` of the output → input map, in pixels.
    ///   - filter: `.nearest`, or bilinear for anything else (`.bicubic` is sampled bilinearly).
    ///   - fill: the RGB colour of uncovered pixels (timm's `fillcolor`).
    /// - Returns: an image of the same size.
    public func affineTransformed(
        _ m: [Double], filter: ResampleFilter = .bilinear,
        fill: (UInt8, UInt8, UInt8) = (0, 0, 0)
    ) -> Image {
        precondition(m.count == 6, "affine matrix needs 6 coefficients")
        var out = [UInt8](repeating: 0, count: pixels.count)
        let fillValues = [fill.0, fill.1, fill.2]
        for y in 0..<height {
            for x in 0..<width {
                let u = Double(x) + 0.5
                let v = Double(y) + 0.5
                let sx = m[0] * u + m[1] * v + m[2]
                let sy = m[3] * u + m[4] * v + m[5]
                let d = (y * width + x) * 3
                guard sx >= 0, sy >= 0, sx < Double(width), sy < Double(height) else {
                    out[d] = fillValues[0]
                    out[d + 1] = fillValues[1]
                    out[d + 2] = fillValues[2]
                    continue
                }
                if filter == .nearest {
                    let s = (Int(sy) * width + Int(sx)) * 3
                    out[d] = pixels[s]
                    out[d + 1] = pixels[s + 1]
                    out[d + 2] = pixels[s + 2]
                    continue
                }
                // Bilinear between the four neighbouring pixel centres, edges clamped.
                let fx = sx - 0.5
                let fy = sy - 0.5
                let x0 = Int(fx.rounded(.down))
                let y0 = Int(fy.rounded(.down))
                let tx = fx - Double(x0)
                let ty = fy - Double(y0)
                let xa = min(max(x0, 0), width - 1)
                let xb = min(max(x0 + 1, 0), width - 1)
                let ya = min(max(y0, 0), height - 1)
                let yb = min(max(y0 + 1, 0), height - 1)
                for c in 0..<3 {
                    let p00 = Double(pixels[(ya * width + xa) * 3 + c])
                    let p01 = Double(pixels[(ya * width + xb) * 3 + c])
                    let p10 = Double(pixels[(yb * width + xa) * 3 + c])
                    let p11 = Double(pixels[(yb * width + xb) * 3 + c])
                    let top = p00 + (p01 - p00) * tx
                    let bottom = p10 + (p11 - p10) * tx
                    out[d + c] = UInt8(max(0, min(255, (top + (bottom - top) * ty).rounded())))
                }
            }
        }
        return Image(width: width, height: height, pixels: out)
    }

    /// Pillow's `Image.rotate(degrees)` (counter-clockwise, about the centre, same canvas).
    public func rotated(
        degrees: Double, filter: ResampleFilter = .bilinear, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)
    ) -> Image {
        let angle = -(degrees.truncatingRemainder(dividingBy: 360)) * .pi / 180
        let cosA = cos(angle)
        let sinA = sin(angle)
        let cx = Double(width) / 2
        let cy = Double(height) / 2
        var m = [cosA, sinA, 0, -sinA, cosA, 0]
        m[2] = m[0] * -cx + m[1] * -cy + cx
        m[5] = m[3] * -cx + m[4] * -cy + cy
        return affineTransformed(m, filter: filter, fill: fill)
    }
}
