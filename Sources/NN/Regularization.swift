import Randomness
import Tensors

/// The generator behind dropout and stochastic depth; checkpoints save and restore it.
public enum TrainingRandomness {
    // Process-wide like torch.manual_seed: seeded by the command before training, drawn from on the training thread.
    nonisolated(unsafe) public static var generator = RandomGenerator(seed: 1)
}

/// Stochastic depth on a residual branch (timm DropPath); identity in evaluation mode.
public final class DropPath: Module, Layer {
    public let probability: Float
    public init(_ probability: Float) {
        self.probability = probability
        super.init()
    }
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try input.dropPath(probability, training: isTraining, using: &TrainingRandomness.generator)
    }
}

public final class Dropout: Module, Layer {
    public let probability: Float
    public init(_ probability: Float) {
        self.probability = probability
        super.init()
    }
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try input.dropout(probability, training: isTraining, using: &TrainingRandomness.generator)
    }
}

/// timm LayerScale: a learned per-channel gain `gamma` on a residual branch.
public final class LayerScale: Module, Layer {
    public let gamma: Tensor
    public init(_ dim: Int, initialValue: Float = 1e-5) throws {
        gamma = try Tensor(repeating: initialValue, shape: [dim])
        super.init()
        register(parameter: "gamma", gamma)
    }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { try input * gamma }
}

extension DropPath {
    /// timm's stochastic-depth schedule (`torch.linspace(0, rate, total)`): 0 at the first block, `rate` at the last.
    public static func linearRate(_ rate: Float, block index: Int, of total: Int) -> Float {
        rate * Float(index) / Float(max(total - 1, 1))
    }
}
