import Foundation
import Randomness
import Tensors

/// Where layers draw their initial weights from: the generator of the enclosing `using` scope (seed it for
/// reproducible training, as torch.manual_seed before a build), and zeros inside `skipping`.
public enum Initialization {
    @TaskLocal static var stream: RandomStream?
    @TaskLocal static var skipped = false

    /// Whether weights are about to be loaded (inside `skipping`): nothing to initialise.
    public static var isSkipping: Bool { skipped }

    /// Builds inside `body` draw their initial weights from `generator`, which is left advanced past the draws.
    /// Outside such a scope every draw uses a fresh system-seeded generator (an unreproducible build).
    /// - Parameters:
    ///   - generator: the generator to draw from; the same seed gives the same weights.
    ///   - body: builds one or more models.
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws.
    public static func using<T>(_ generator: inout RandomGenerator, _ body: () throws -> T) rethrows -> T {
        try RandomStream.lending(&generator, as: $stream, body)
    }

    /// Builds with zero weights instead of random ones: for models whose weights are loaded next.
    public static func skipping<T>(_ body: () throws -> T) rethrows -> T {
        try $skipped.withValue(true) { try body() }
    }

    private static func draw<T>(_ body: (inout RandomGenerator) throws -> T) rethrows -> T {
        try RandomStream.draw(from: stream, body)
    }

    /// U(−bound, bound), PyTorch's default for Linear and Conv2d weights (kaiming_uniform with a = √5 → 1/√fan_in).
    public static func uniform(_ shape: [Int], bound: Float) throws -> Tensor {
        if skipped { return try Tensor(zeros: shape) }
        return try draw { try Tensor.uniform(shape, low: -bound, high: bound, using: &$0) }
    }

    /// N(0, std²) truncated to ±2 std (timm's trunc_normal_ for transformer weights).
    public static func truncatedNormal(_ shape: [Int], std: Float) throws -> Tensor {
        let t = try Tensor(zeros: shape)
        if skipped { return t }
        draw { generator in
            t.withUnsafeMutableBufferPointer { b in
                for i in b.indices {
                    var v: Float
                    repeat { v = generator.normal() } while abs(v) > 2
                    b[i] = v * std
                }
            }
        }
        return t
    }

    /// Kaiming normal with fan_out and ReLU gain (torchvision / timm ResNet convs).
    public static func kaimingNormalFanOut(_ shape: [Int]) throws -> Tensor {
        if skipped { return try Tensor(zeros: shape) }
        let fanOut = shape[0] * shape.dropFirst(2).reduce(1, *)
        return try draw { try Tensor.normal(shape, std: (2 / Float(max(fanOut, 1))).squareRoot(), using: &$0) }
    }
}
