// Image → float CHW data: torchvision's ToTensor (/255) followed by Normalize((x - mean) / std).

/// Plain float data with its shape, kept independent of the Tensor type (an adapter wraps it).
public struct FloatArray: Equatable, Sendable {
    /// Dimension sizes, outermost first (e.g. `[N, C, H, W]`).
    public var shape: [Int]
    /// The elements in row-major (C) order, as many as the product of `shape`.
    public var values: [Float]

    /// Pairs data with its shape; the product of `shape` must equal `values.count` (a precondition).
    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "FloatArray: shape does not match value count")
        self.shape = shape
        self.values = values
    }
}

extension Image {
    /// (3, H, W) floats in [0, 1], then per-channel `(x - mean) / std`, in float32 like torchvision.
    public func normalizedCHW(mean: [Float] = [0, 0, 0], std: [Float] = [1, 1, 1]) -> [Float] {
        var out = [Float](repeating: 0, count: pixels.count)
        writeNormalizedCHW(into: &out, offset: 0, mean: mean, std: std)
        return out
    }

    /// Writes the normalized (3, H, W) planes at `offset` (for filling a batch in place).
    public func writeNormalizedCHW(into out: inout [Float], offset: Int, mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3, "mean and std need 3 channels")
        precondition(out.count >= offset + pixels.count, "output too small")
        let plane = width * height
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    let m = mean[c]
                    let s = std[c]
                    let base = offset + c * plane
                    for i in 0..<plane { dst[base + i] = (Float(src[3 * i + c]) / 255 - m) / s }
                }
            }
        }
    }
}
