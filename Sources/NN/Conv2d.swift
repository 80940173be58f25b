import Tensors

/// How a convolution pads: fixed (PyTorch) or TensorFlow "same", which depends on the input size.
public enum ConvPadding: Equatable, Sendable {
    case explicit(Padding2d)
    case same

    public static func symmetric(_ p: Int) -> ConvPadding { .explicit(Padding2d(p)) }

    func resolve(height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int)) -> Padding2d {
        switch self {
        case .explicit(let p): return p
        case .same: return .same(height: height, width: width, kernel: kernel, stride: stride, dilation: dilation)
        }
    }
}

/// torch.nn.Conv2d (NCHW, OIHW weights).
public final class Conv2d: Module, Layer {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: (Int, Int), dilation: (Int, Int), groups: Int
    public let padding: ConvPadding

    public init(
        _ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: ConvPadding? = nil,
        dilation: Int = 1, groups: Int = 1, bias: Bool = true
    ) throws {
        self.stride = (stride, stride)
        self.dilation = (dilation, dilation)
        self.groups = groups
        // PyTorch's usual default: keep the size for odd kernels at stride 1 ("padding = k // 2 · d").
        self.padding = padding ?? .symmetric((kernel - 1) / 2 * dilation)
        let fanIn = inChannels / max(groups, 1) * kernel * kernel
        let bound = 1 / Float(max(fanIn, 1)).squareRoot()
        weight = try Initialization.uniform([outChannels, inChannels / max(groups, 1), kernel, kernel], bound: bound)
        self.bias = bias ? try Initialization.uniform([outChannels], bound: bound) : nil
        super.init()
        register(parameter: "weight", weight)
        if let b = self.bias { register(parameter: "bias", b) }
    }

    public var inChannels: Int { weight.shape[1] * groups }
    public var outChannels: Int { weight.shape[0] }
    public var kernelSize: (Int, Int) { (weight.shape[2], weight.shape[3]) }

    /// The padding this conv applies to an input of the given size.
    public func resolvedPadding(height: Int, width: Int) -> Padding2d {
        padding.resolve(height: height, width: width, kernel: kernelSize, stride: stride, dilation: dilation)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard runsInference(input) else { return try convolve(input, weight: weight, bias: bias) }
        return try inference(input, shift: bias?.scalars)
    }

    /// Whether `input` goes through the inference path: no gradient is wanted from this call.
    func runsInference(_ input: Tensor) -> Bool {
        input.rank == 4 && !input.requiresGrad
            && !(GradMode.isEnabled && (weight.requiresGrad || bias?.requiresGrad == true))
    }

    /// activation(conv(x) · scale[o] + shift[o] + residual) in one pass over the output, the weights packed
    /// once for the GEMM; the caller folds this conv's bias into `shift`. No autograd record.
    func inference(
        _ input: Tensor, scale: [Float]? = nil, shift: [Float]?, residual: Tensor? = nil,
        activation: Activation = .identity
    ) throws -> Tensor {
        let pad = resolvedPadding(height: input.shape[2], width: input.shape[3])
        return try input.conv2dInference(
            weight: weight, scale: scale, shift: shift, residual: residual, activation: activation,
            stride: stride, padding: pad, dilation: dilation, groups: groups)
    }

    /// This conv's geometry applied with other (e.g. BatchNorm-folded) weights.
    func convolve(_ input: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
        guard input.rank == 4 else { return try input.conv2d(weight: weight, bias: bias) }
        let pad = resolvedPadding(height: input.shape[2], width: input.shape[3])
        return try input.conv2d(
            weight: weight, bias: bias, stride: stride, padding: pad, dilation: dilation, groups: groups)
    }
}
