// torchvision's RandomResizedCrop: 10 attempts at a random area/aspect crop, then a central fallback;
// crop first, then resize (Pillow-exact), exactly as `F.resized_crop` on a PIL image.
import Foundation
import Randomness

/// torchvision's `RandomResizedCrop(size, scale, ratio, interpolation)` on uint8 RGB images.
public struct RandomResizedCrop: Sendable {
    /// Output width, in pixels.
    public var width: Int
    /// Output height, in pixels.
    public var height: Int
    /// Range of the crop's area as a fraction of the image area (torchvision's `scale`).
    public var scale: ClosedRange<Double>
    /// Range of the crop's width / height, sampled log-uniformly (torchvision's `ratio`).
    public var ratio: ClosedRange<Double>
    /// The resize filter (torchvision's `interpolation`).
    public var filter: ResampleFilter

    /// Defaults are torchvision's: scale 0.08...1, ratio 3/4...4/3, bilinear.
    /// - Parameters:
    ///   - width: output width.
    ///   - height: output height.
    ///   - scale: crop-area fraction range.
    ///   - ratio: crop aspect (width / height) range.
    ///   - filter: the resize filter.
    public init(
        width: Int, height: Int, scale: ClosedRange<Double> = 0.08...1.0,
        ratio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0), filter: ResampleFilter = .bilinear
    ) {
        self.width = width
        self.height = height
        self.scale = scale
        self.ratio = ratio
        self.filter = filter
    }

    /// A square `size × size` output with torchvision's default scale and ratio.
    public init(size: Int, filter: ResampleFilter = .bilinear) { self.init(width: size, height: size, filter: filter) }

    /// `get_params`: (top, left, height, width) of the crop in the source image.
    public func parameters(
        imageWidth: Int, imageHeight: Int,
        using rng: inout RandomGenerator
    ) -> (top: Int, left: Int, height: Int, width: Int) {
        let area = Double(imageWidth * imageHeight)
        let logRatio = (log(ratio.lowerBound), log(ratio.upperBound))
        for _ in 0..<10 {
            let targetArea = area * rng.uniform(scale.lowerBound, scale.upperBound)
            let aspect = exp(rng.uniform(logRatio.0, logRatio.1))
            let w = Int((targetArea * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((targetArea / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= imageWidth && h > 0 && h <= imageHeight {
                let top = rng.int(in: 0...(imageHeight - h))
                let left = rng.int(in: 0...(imageWidth - w))
                return (top, left, h, w)
            }
        }
        let inRatio = Double(imageWidth) / Double(imageHeight)
        var w = imageWidth
        var h = imageHeight
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return ((imageHeight - h) / 2, (imageWidth - w) / 2, h, w)
    }

    /// Picks a crop with `parameters(imageWidth:imageHeight:using:)`, then resizes it to `width × height`.
    /// - Parameters:
    ///   - image: the source picture.
    ///   - rng: the sample's generator.
    /// - Returns: a `width × height` image.
    public func callAsFunction(_ image: Image, using rng: inout RandomGenerator) -> Image {
        let p = parameters(imageWidth: image.width, imageHeight: image.height, using: &rng)
        return image.cropped(x: p.left, y: p.top, width: p.width, height: p.height)
            .resized(width: width, height: height, filter: filter)
    }
}

extension Image {
    /// Mirrored left ↔ right (Pillow's `FLIP_LEFT_RIGHT`, torchvision's `hflip`).
    public func flippedHorizontally() -> Image {
        var out = pixels
        out.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for y in 0..<height {
                    let row = y * width * 3
                    for x in 0..<width {
                        let s = row + x * 3
                        let d = row + (width - 1 - x) * 3
                        dst[d] = src[s]
                        dst[d + 1] = src[s + 1]
                        dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return Image(width: width, height: height, pixels: out)
    }

    /// Mirrored top ↔ bottom (Pillow's `FLIP_TOP_BOTTOM`, torchvision's `vflip`).
    public func flippedVertically() -> Image {
        var out = pixels
        let row = width * 3
        for y in 0..<height {
            out.replaceSubrange(
                (y * row)..<((y + 1) * row), with: pixels[((height - 1 - y) * row)..<((height - y) * row)])
        }
        return Image(width: width, height: height, pixels: out)
    }
}
