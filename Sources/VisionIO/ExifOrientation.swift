// EXIF orientation (tag 0x0112) and the transpose that `ImageOps.exif_transpose` applies for it.

/// The EXIF orientation tag's values 1...8, named after how the stored picture must be turned to display upright.
public enum ExifOrientation: Int, Sendable {
    /// 1: stored upright; nothing to do.
    case up = 1
    /// 2 mirrored, 3 rotated 180°, 4 flipped vertically, 5 transposed, 6 needs 90° clockwise, 7 transversed,
    /// 8 needs 90° counter-clockwise.
    case upMirrored, down, downMirrored, leftMirrored, right, rightMirrored, left
}

extension Image {
    /// Maps output (x, y) to a source pixel for each orientation, as Pillow's transpose table does:
    /// 2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE, 6 ROTATE_270, 7 TRANSVERSE, 8 ROTATE_90.
    public func applying(_ orientation: ExifOrientation) -> Image {
        if orientation == .up { return self }
        let w = width
        let h = height
        let swaps = orientation.rawValue >= 5
        let outW = swaps ? h : w
        let outH = swaps ? w : h
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outH {
                    for x in 0..<outW {
                        let sx: Int
                        let sy: Int
                        switch orientation {
                        case .up: (sx, sy) = (x, y)
                        case .upMirrored: (sx, sy) = (w - 1 - x, y)
                        case .down: (sx, sy) = (w - 1 - x, h - 1 - y)
                        case .downMirrored: (sx, sy) = (x, h - 1 - y)
                        case .leftMirrored: (sx, sy) = (y, x)  // transpose
                        case .right: (sx, sy) = (y, h - 1 - x)  // rotate 270 (clockwise 90)
                        case .rightMirrored: (sx, sy) = (w - 1 - y, h - 1 - x)  // transverse
                        case .left: (sx, sy) = (w - 1 - y, x)  // rotate 90 counter-clockwise
                        }
                        let s = (sy * w + sx) * 3
                        let d = (y * outW + x) * 3
                        dst[d] = src[s]
                        dst[d + 1] = src[s + 1]
                        dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return Image(width: outW, height: outH, pixels: out)
    }
}
