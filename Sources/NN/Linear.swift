import Tensors

/// torch.nn.Linear: y = x·Wᵀ + b over the last axis; weight (out, in).
public final class Linear: Module, Layer {
    /// Weight of shape `[outFeatures, inFeatures]`.
    public let weight: Tensor
    /// Bias of shape `[outFeatures]`, or nil.
    public let bias: Tensor?

    /// A linear layer with PyTorch's default initialisation, U(−1/√inFeatures, 1/√inFeatures) for weight and bias
    /// (see `Initialization`).
    ///
    /// - Parameters:
    ///   - inFeatures: Size of the input's last axis.
    ///   - outFeatures: Size of the output's last axis.
    ///   - bias: Whether to add a learned bias.
    /// - Throws: `TensorError` when the weights cannot be allocated.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) throws {
        let bound = 1 / Float(max(inFeatures, 1)).squareRoot()
        weight = try Initialization.uniform([outFeatures, inFeatures], bound: bound)
        self.bias = bias ? try Initialization.uniform([outFeatures], bound: bound) : nil
        super.init()
        register(parameter: "weight", weight)
        if let b = self.bias { register(parameter: "bias", b) }
    }

    /// Size of the input's last axis.
    public var inFeatures: Int { weight.shape[1] }
    /// Size of the output's last axis.
    public var outFeatures: Int { weight.shape[0] }

    /// x·Wᵀ + b for `input` `[…, inFeatures]`, giving `[…, outFeatures]`.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try callAsFunction(input, activation: .identity)
    }

    /// activation(x·Wᵀ + b); without gradients, W is packed once and the bias and activation are applied
    /// as the GEMM stores its output.
    public func callAsFunction(_ input: Tensor, activation: Activation) throws -> Tensor {
        let wantsGrad = input.requiresGrad || GradMode.isEnabled && (weight.requiresGrad || bias?.requiresGrad == true)
        guard wantsGrad else { return try input.linearInference(weight: weight, bias: bias, activation: activation) }
        return try input.linear(weight: weight, bias: bias).activation(activation)
    }
}
