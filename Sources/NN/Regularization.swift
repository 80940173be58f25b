import Randomness
import Tensors

/// Where dropout, stochastic depth and MAE's default masks draw from: the generator of the enclosing `using`
/// scope, which a trainer owns and saves in its checkpoints.
public enum TrainingRandomness {
    @TaskLocal static var stream: RandomStream?

    /// Forward passes inside `body` draw their dropout and stochastic-depth decisions from `generator`, which is
    /// left advanced past the draws. Outside such a scope each draw uses a fresh system-seeded generator.
    /// - Parameters:
    ///   - generator: the training run's generator.
    ///   - body: one or more training steps.
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws.
    public static func using<T>(_ generator: inout RandomGenerator, _ body: () throws -> T) rethrows -> T {
        try RandomStream.lending(&generator, as: $stream, body)
    }

    /// Runs `body` on the scope's generator (see `using`).
    public static func draw<T>(_ body: (inout RandomGenerator) throws -> T) rethrows -> T {
        try RandomStream.draw(from: stream, body)
    }
}

/// Stochastic depth on a residual branch (timm DropPath); identity in evaluation mode.
public final class DropPath: Module, Layer {
    /// Chance of dropping a sample's branch, in [0, 1] (timm's `drop_prob`).
    public let probability: Float
    /// Stochastic depth dropping each sample's branch with `probability` (see `linearRate` for timm's schedule).
    public init(_ probability: Float) {
        self.probability = probability
        super.init()
    }
    /// In training mode, zeroes whole samples (axis 0) of `input` with `probability` and scales the kept ones by
    /// 1 / (1 − probability), drawing from `TrainingRandomness`; otherwise returns `input`.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard isTraining, probability > 0 else { return input }  // nothing to draw
        return try TrainingRandomness.draw { try input.dropPath(probability, training: true, using: &$0) }
    }
}

/// torch.nn.Dropout: zeroes elements at random in training mode; identity in evaluation mode.
public final class Dropout: Module, Layer {
    /// Chance of zeroing each element, in [0, 1] (torch's `p`).
    public let probability: Float
    /// Dropout zeroing each element with `probability`.
    public init(_ probability: Float) {
        self.probability = probability
        super.init()
    }
    /// In training mode, zeroes each element of `input` with `probability` and scales the rest by
    /// 1 / (1 − probability), drawing from `TrainingRandomness`; otherwise returns `input`.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard isTraining, probability > 0 else { return input }  // nothing to draw
        return try TrainingRandomness.draw { try input.dropout(probability, training: true, using: &$0) }
    }
}

/// timm LayerScale: a learned per-channel gain `gamma` on a residual branch.
public final class LayerScale: Module, Layer {
    /// Per-channel gain `[dim]` on the last axis.
    public let gamma: Tensor
    /// A LayerScale of width `dim` with every gain at `initialValue` (timm's `init_values`); throws `TensorError`
    /// when the tensor cannot be allocated.
    public init(_ dim: Int, initialValue: Float = 1e-5) throws {
        gamma = try Tensor(repeating: initialValue, shape: [dim])
        super.init()
        register(parameter: "gamma", gamma)
    }
    /// `input` `[…, dim]` times `gamma`, broadcast over the leading axes.
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try input * gamma }
}

extension DropPath {
    /// timm's stochastic-depth schedule (`torch.linspace(0, rate, total)`): 0 at the first block, `rate` at the last.
    public static func linearRate(_ rate: Float, block index: Int, of total: Int) -> Float {
        rate * Float(index) / Float(max(total - 1, 1))
    }
}
