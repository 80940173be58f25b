// An 8-bit RGB picture: the common currency between decoders, transforms and datasets.

/// Interleaved RGB pixels, row-major (HWC), 3 bytes per pixel.
public struct Image: Equatable, Sendable {
    /// Columns, in pixels.
    public var width: Int
    /// Rows, in pixels.
    public var height: Int
    /// `height * width * 3` bytes: pixel (x, y) channel c is at `(y * width + x) * 3 + c`.
    public var pixels: [UInt8]

    /// Always RGB: 3 bytes per pixel, no alpha.
    public static let channels = 3

    /// Wraps existing HWC bytes; `pixels.count` must be `width * height * 3` (a precondition).
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(
            width >= 0 && height >= 0 && pixels.count == width * height * 3,
            "Image: pixel count must be width * height * 3")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A uniformly filled image.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            pixels[3 * i] = fill.0
            pixels[3 * i + 1] = fill.1
            pixels[3 * i + 2] = fill.2
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// The RGB value at column `x`, row `y`; only the pixel array bounds are checked, not `x < width`.
    public subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }
}
