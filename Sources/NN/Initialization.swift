import Foundation
import Randomness
import Tensors

/// The seeded generator layers draw their initial weights from (set a seed for reproducible training).
public enum Initialization {
    // Process-wide like torch.manual_seed: seeded before a model is built, drawn from by the building thread.
    nonisolated(unsafe) public static var generator = RandomGenerator(seed: 0)
    // Set around a build whose weights a checkpoint will overwrite, on the building thread.
    nonisolated(unsafe) static var skipped = false

    /// Whether weights are about to be loaded (inside `skipping`): nothing to initialise.
    public static var isSkipping: Bool { skipped }

    /// Builds with zero weights instead of random ones: for models whose weights are loaded next.
    public static func skipping<T>(_ body: () throws -> T) rethrows -> T {
        let previous = skipped
        skipped = true
        defer { skipped = previous }
        return try body()
    }

    /// U(−bound, bound), PyTorch's default for Linear and Conv2d weights (kaiming_uniform with a = √5 → 1/√fan_in).
    public static func uniform(_ shape: [Int], bound: Float) throws -> Tensor {
        if skipped { return try Tensor(zeros: shape) }
        return try Tensor.uniform(shape, low: -bound, high: bound, using: &generator)
    }

    /// N(0, std²) truncated to ±2 std (timm's trunc_normal_ for transformer weights).
    public static func truncatedNormal(_ shape: [Int], std: Float) throws -> Tensor {
        let t = try Tensor(zeros: shape)
        if skipped { return t }
        t.withUnsafeMutableBufferPointer { b in
            for i in b.indices {
                var v: Float
                repeat { v = generator.normal() } while abs(v) > 2
                b[i] = v * std
            }
        }
        return t
    }

    /// Kaiming normal with fan_out and ReLU gain (torchvision / timm ResNet convs).
    public static func kaimingNormalFanOut(_ shape: [Int]) throws -> Tensor {
        if skipped { return try Tensor(zeros: shape) }
        let fanOut = shape[0] * shape.dropFirst(2).reduce(1, *)
        return try Tensor.normal(shape, std: (2 / Float(max(fanOut, 1))).squareRoot(), using: &generator)
    }
}
