import Tensors

/// torch.nn.Linear: y = x·Wᵀ + b over the last axis; weight (out, in).
public final class Linear: Module, Layer {
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) throws {
        let bound = 1 / Float(max(inFeatures, 1)).squareRoot()
        weight = try Initialization.uniform([outFeatures, inFeatures], bound: bound)
        self.bias = bias ? try Initialization.uniform([outFeatures], bound: bound) : nil
        super.init()
        register(parameter: "weight", weight)
        if let b = self.bias { register(parameter: "bias", b) }
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

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
