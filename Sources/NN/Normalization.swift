import Kernels
import Tensors

/// torch.nn.BatchNorm2d with running statistics (`running_mean`, `running_var`, `num_batches_tracked`).
public final class BatchNorm2d: Module, Layer {
    public let weight: Tensor, bias: Tensor
    public let runningMean: Tensor, runningVar: Tensor, batchesTracked: Tensor
    public let epsilon: Float, momentum: Float
    /// Conv weights with this norm folded in, cached for inference (see `fused(after:activation:)`).
    private var foldedCache: (weight: Tensor, bias: Tensor)?

    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        weight = Tensor(repeating: 1, shape: [channels]); bias = Tensor(zeros: [channels])
        runningMean = Tensor(zeros: [channels]); runningVar = Tensor(repeating: 1, shape: [channels])
        batchesTracked = Tensor(zeros: [])
        self.epsilon = epsilon; self.momentum = momentum
        super.init()
        register(parameter: "weight", weight); register(parameter: "bias", bias)
        register(buffer: "running_mean", runningMean); register(buffer: "running_var", runningVar)
        register(buffer: "num_batches_tracked", batchesTracked)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        if isTraining { batchesTracked.withUnsafeMutableBufferPointer { $0[0] += 1 } }
        return try input.batchNorm(weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                   training: isTraining, momentum: momentum, epsilon: epsilon)
    }

    /// activation(bn(conv(x))). In evaluation mode without gradients the norm is folded into the conv
    /// (one conv with bias, then the activation): the same numbers in one pass instead of three.
    public func fused(after conv: Conv2d, activation: Activation = .identity, _ input: Tensor) throws -> Tensor {
        if isTraining || GradMode.isEnabled && (input.requiresGrad || weight.requiresGrad) {
            return try self(conv(input)).activation(activation)
        }
        let folded = foldedCache ?? fold(into: conv)
        foldedCache = folded
        return try conv.convolve(input, weight: folded.weight, bias: folded.bias).activatedInPlace(activation)
    }

    private func fold(into conv: Conv2d) -> (weight: Tensor, bias: Tensor) {
        let w = conv.weight.copy(), channels = weight.count, perChannel = w.count / channels
        let b = Tensor(zeros: [channels])
        let gamma = weight.scalars, beta = bias.scalars, mean = runningMean.scalars, variance = runningVar.scalars
        let convBias = conv.bias?.scalars
        w.withUnsafeMutableBufferPointer { wb in
            b.withUnsafeMutableBufferPointer { bb in
                for c in 0..<channels {
                    let scale = gamma[c] / (variance[c] + epsilon).squareRoot()
                    for i in c * perChannel..<(c + 1) * perChannel { wb[i] *= scale }
                    bb[c] = beta[c] + ((convBias?[c] ?? 0) - mean[c]) * scale
                }
            }
        }
        return (w, b)
    }

    public override func didChangeMode() { foldedCache = nil }
}

/// torch.nn.LayerNorm over the last axis.
public final class LayerNorm: Module, Layer {
    public let weight: Tensor, bias: Tensor
    public let epsilon: Float
    public init(_ dim: Int, epsilon: Float = 1e-5) {
        weight = Tensor(repeating: 1, shape: [dim]); bias = Tensor(zeros: [dim]); self.epsilon = epsilon
        super.init()
        register(parameter: "weight", weight); register(parameter: "bias", bias)
    }
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try input.layerNorm(weight: weight, bias: bias, epsilon: epsilon)
    }
}

/// torch.nn.GroupNorm on (N, C, …).
public final class GroupNorm: Module, Layer {
    public let weight: Tensor, bias: Tensor
    public let groups: Int, epsilon: Float
    public init(groups: Int, channels: Int, epsilon: Float = 1e-5) {
        weight = Tensor(repeating: 1, shape: [channels]); bias = Tensor(zeros: [channels])
        self.groups = groups; self.epsilon = epsilon
        super.init()
        register(parameter: "weight", weight); register(parameter: "bias", bias)
    }
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try input.groupNorm(groups: groups, weight: weight, bias: bias, epsilon: epsilon)
    }
}
