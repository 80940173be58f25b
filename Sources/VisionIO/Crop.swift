// Crops: Pillow's `crop` (zero fill outside the image) and torchvision's center crop rounding.

extension Image {
    /// Pillow's `Image.crop((x, y, x + width, y + height))`; areas outside the image are black.
    public func cropped(x: Int, y: Int, width outWidth: Int, height outHeight: Int) -> Image {
        precondition(outWidth >= 0 && outHeight >= 0, "crop size must be non-negative")
        var out = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        let x0 = max(x, 0)
        let x1 = min(x + outWidth, width)
        guard x1 > x0 else { return Image(width: outWidth, height: outHeight, pixels: out) }
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for row in 0..<outHeight {
                    let sy = y + row
                    guard sy >= 0 && sy < height else { continue }
                    let s = (sy * width + x0) * 3
                    let d = (row * outWidth + (x0 - x)) * 3
                    dst.baseAddress!.advanced(by: d).update(
                        from: src.baseAddress!.advanced(by: s), count: (x1 - x0) * 3)
                }
            }
        }
        return Image(width: outWidth, height: outHeight, pixels: out)
    }

    /// torchvision's `CenterCrop`: zero-pads when the crop is larger, then
    /// `top = int(round((h - th) / 2.0))` with Python's round-half-to-even.
    public func centerCropped(width cropWidth: Int, height cropHeight: Int) -> Image {
        var image = self
        if cropWidth > width || cropHeight > height {
            let padLeft = cropWidth > width ? (cropWidth - width) / 2 : 0
            let padTop = cropHeight > height ? (cropHeight - height) / 2 : 0
            let padRight = cropWidth > width ? (cropWidth - width + 1) / 2 : 0
            let padBottom = cropHeight > height ? (cropHeight - height + 1) / 2 : 0
            image = cropped(
                x: -padLeft, y: -padTop, width: width + padLeft + padRight,
                height: height + padTop + padBottom)
        }
        let top = Int((Double(image.height - cropHeight) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(image.width - cropWidth) / 2).rounded(.toNearestOrEven))
        return image.cropped(x: left, y: top, width: cropWidth, height: cropHeight)
    }

    /// torchvision's `Resize(int)`: the shorter side becomes `size`, the longer `int(size * long / short)`.
    public func resizedShorterSide(to size: Int, filter: ResampleFilter) -> Image {
        let (newWidth, newHeight) = Image.shorterSideSize(width: width, height: height, size: size)
        if newWidth == width && newHeight == height { return self }
        return resized(width: newWidth, height: newHeight, filter: filter)
    }

    static func shorterSideSize(width: Int, height: Int, size: Int) -> (width: Int, height: Int) {
        let short = min(width, height)
        let long = max(width, height)
        let newLong = Int(Double(size * long) / Double(short))
        return width <= height ? (size, newLong) : (newLong, size)
    }
}
