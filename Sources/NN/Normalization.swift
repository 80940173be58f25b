import Kernels
import Tensors

/// torch.nn.BatchNorm2d with running statistics (`running_mean`, `running_var`, `num_batches_tracked`).
public final class BatchNorm2d: Module, Layer {
    /// Learned per-channel scale γ (starts at 1) and shift β (starts at 0), each `[C]`.
    public let weight: Tensor, bias: Tensor
    /// Buffers: running mean and variance `[C]` used in evaluation mode, and the scalar count of training
    /// batches seen (`num_batches_tracked`).
    public let runningMean: Tensor, runningVar: Tensor, batchesTracked: Tensor
    /// Added to the variance before the square root; weight of the new batch in the running statistics
    /// (torch's `eps`, `momentum`).
    public let epsilon: Float, momentum: Float
    /// Set for data-parallel training: batch statistics over the batches of all replicas (SyncBatchNorm).
    public var replicas: Communicator?
    /// The last fold into a conv's epilogue, with the versions of the tensors it read (`folded(convBias:)`).
    private var lastFold: (versions: [UInt64], scale: [Float], shift: [Float])?

    /// A batch norm in its PyTorch initial state: γ = 1, β = 0, running mean 0, running variance 1.
    ///
    /// - Parameters:
    ///   - channels: Channels C of the input `[N, C, H, W]`.
    ///   - epsilon: Added to the variance for stability (torch's `eps`).
    ///   - momentum: Running statistics become (1 − momentum)·running + momentum·batch (torch's `momentum`).
    /// - Throws: `TensorError` when the tensors cannot be allocated.
    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) throws {
        weight = try Tensor(repeating: 1, shape: [channels])
        bias = try Tensor(zeros: [channels])
        runningMean = try Tensor(zeros: [channels])
        runningVar = try Tensor(repeating: 1, shape: [channels])
        batchesTracked = try Tensor(zeros: [])
        self.epsilon = epsilon
        self.momentum = momentum
        super.init()
        register(parameter: "weight", weight)
        register(parameter: "bias", bias)
        register(buffer: "running_mean", runningMean)
        register(buffer: "running_var", runningVar)
        register(buffer: "num_batches_tracked", batchesTracked)
    }

    /// Normalises `input` `[N, C, …]` per channel: with batch statistics in training mode (updating the running
    /// ones and `num_batches_tracked`), with the running statistics in evaluation mode.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        if isTraining { batchesTracked.withUnsafeMutableBufferPointer { $0[0] += 1 } }
        return try input.batchNorm(
            weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
            training: isTraining, momentum: momentum, epsilon: epsilon,
            replicaSum: replicas.map { replicas in { replicas.sum($0) } })
    }

    /// activation(bn(x)); in evaluation mode without gradients, one pass over x.
    public func callAsFunction(_ input: Tensor, activation: Activation) throws -> Tensor {
        try normalized(input, activation: activation, inPlace: false)
    }

    /// activation(bn(conv(x)) + residual). In evaluation mode without gradients the norm is folded into the
    /// conv's per-channel scale and shift, and the GEMM applies them, the residual and the activation as it
    /// stores the output: one pass, and no folded copy of the weights.
    public func fused(
        after conv: Conv2d, activation: Activation = .identity, _ input: Tensor, residual: Tensor? = nil
    ) throws -> Tensor {
        guard residual?.requiresGrad != true, let folded = folded(into: conv, activation: activation, for: input)
        else {
            let normalized = try self(conv(input))
            return try (residual.map { try normalized + $0 } ?? normalized).activation(activation)
        }
        return try input.conv2dInference(folded, residual: residual)
    }

    /// activation(self(conv(·))) over `input` as one inference conv, this norm folded into its weights' epilogue;
    /// nil when the pair must run through autograd (training, or a gradient wanted).
    public func folded(into conv: Conv2d, activation: Activation, for input: Tensor) -> InferenceConv? {
        guard !isTraining, conv.runsInference(input), !(GradMode.isEnabled && weight.requiresGrad) else { return nil }
        let (scale, shift) = folded(convBias: conv.bias)
        return conv.inferenceConv(for: input, scale: scale, shift: shift, activation: activation)
    }

    /// y = x · scale + shift per channel: this norm at inference, after a conv with `convBias`; computed again only
    /// when a tensor it reads has changed (a division and a square root per channel, every forward, cost MobileNetV2
    /// about 1 % of its time on one thread, Zen 4).
    private func folded(convBias: Tensor?) -> (scale: [Float], shift: [Float]) {
        let versions = [weight, bias, runningMean, runningVar].map(\.version) + (convBias.map { [$0.version] } ?? [])
        if let lastFold, lastFold.versions == versions { return (lastFold.scale, lastFold.shift) }
        let (gamma, beta, mean, variance) = (weight.scalars, bias.scalars, runningMean.scalars, runningVar.scalars)
        let convBias = convBias?.scalars
        var scale = [Float](repeating: 0, count: gamma.count)
        var shift = scale
        for c in gamma.indices {
            scale[c] = gamma[c] / (variance[c] + epsilon).squareRoot()
            shift[c] = beta[c] - mean[c] * scale[c] + (convBias?[c] ?? 0) * scale[c]
        }
        lastFold = (versions, scale, shift)
        return (scale, shift)
    }

    /// activation(bn(concat(parts, axis: 1))) in evaluation mode without gradients (DenseNet's layers),
    /// without building the concatenation.
    public func concatenated(_ parts: [Tensor], activation: Activation) throws -> Tensor {
        precondition(!isTraining && !GradMode.isEnabled, "concatenated batch norm is for inference")
        return try Tensor.concatenatedBatchNormInference(
            parts, weight: weight, bias: bias, runningMean: runningMean,
            runningVar: runningVar, epsilon: epsilon, activation: activation)
    }

    private func normalized(_ input: Tensor, activation: Activation, inPlace: Bool) throws -> Tensor {
        if isTraining || input.requiresGrad || GradMode.isEnabled && weight.requiresGrad {
            return try self(input).activation(activation)
        }
        return try input.batchNormInference(
            weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
            epsilon: epsilon, activation: activation, inPlace: inPlace)
    }
}

/// torch.nn.LayerNorm over the last axis.
public final class LayerNorm: Module, Layer {
    /// Learned elementwise scale (starts at 1) and shift (starts at 0), each `[dim]`.
    public let weight: Tensor, bias: Tensor
    /// Added to the variance for stability (torch's `eps`).
    public let epsilon: Float
    /// A layer norm over a last axis of size `dim`, in PyTorch's initial state; `epsilon` is torch's `eps`
    /// (timm's ViT uses 1e-6). Throws `TensorError` when the tensors cannot be allocated.
    public init(_ dim: Int, epsilon: Float = 1e-5) throws {
        weight = try Tensor(repeating: 1, shape: [dim])
        bias = try Tensor(zeros: [dim])
        self.epsilon = epsilon
        super.init()
        register(parameter: "weight", weight)
        register(parameter: "bias", bias)
    }
    /// Normalises each vector along the last axis of `input` `[…, dim]`; the output has the input's shape.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try input.layerNorm(weight: weight, bias: bias, epsilon: epsilon)
    }
}

/// torch.nn.GroupNorm on (N, C, …).
public final class GroupNorm: Module, Layer {
    /// Learned per-channel scale (starts at 1) and shift (starts at 0), each `[C]`.
    public let weight: Tensor, bias: Tensor
    /// Number of channel groups normalised together, and the variance epsilon (torch's `num_groups`, `eps`).
    public let groups: Int, epsilon: Float
    /// A group norm in PyTorch's initial state.
    ///
    /// - Parameters:
    ///   - groups: Channel groups; must divide `channels` (checked on the first call).
    ///   - channels: Channels C of the input.
    ///   - epsilon: Added to the variance for stability.
    /// - Throws: `TensorError` when the tensors cannot be allocated.
    public init(groups: Int, channels: Int, epsilon: Float = 1e-5) throws {
        weight = try Tensor(repeating: 1, shape: [channels])
        bias = try Tensor(zeros: [channels])
        self.groups = groups
        self.epsilon = epsilon
        super.init()
        register(parameter: "weight", weight)
        register(parameter: "bias", bias)
    }
    /// Normalises `input` `[N, C, …]` over each group of C / groups channels and all positions, then applies the
    /// per-channel affine; throws `TensorError.invalidArgument` when the groups do not divide C.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try input.groupNorm(groups: groups, weight: weight, bias: bias, epsilon: epsilon)
    }
}
