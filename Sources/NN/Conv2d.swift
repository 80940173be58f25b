import Tensors

/// How a convolution pads: fixed (PyTorch) or TensorFlow "same", which depends on the input size.
public enum ConvPadding: Equatable, Sendable {
    /// Fixed padding on each side, whatever the input size (torch.nn.Conv2d's `padding`).
    case explicit(Padding2d)
    /// TensorFlow "same" (timm's `padding='same'` / Conv2dSame): chosen per input so that the output has
    /// ⌈size / stride⌉ pixels, the odd pixel at the bottom and right.
    case same

    /// `p` pixels on every side (torch's `padding=p`).
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
    /// Kernel of shape `[outChannels, inChannels / groups, k, k]`.
    public let weight: Tensor
    /// Per-output-channel bias `[outChannels]`, or nil for a conv without bias (as before a BatchNorm).
    public let bias: Tensor?
    /// Step and kernel dilation as (vertical, horizontal), and the number of channel groups (torch's `groups`).
    public let stride: (Int, Int), dilation: (Int, Int), groups: Int
    /// How the input is padded before the kernel slides over it.
    public let padding: ConvPadding

    /// A square-kernel conv with PyTorch's default initialisation, U(−1/√fan_in, 1/√fan_in) for weight and
    /// bias (see `Initialization`).
    ///
    /// - Parameters:
    ///   - inChannels: Input channels; must be a multiple of `groups`.
    ///   - outChannels: Output channels (filters).
    ///   - kernel: Kernel side k.
    ///   - stride: Step in both directions.
    ///   - padding: nil for PyTorch's usual `(k − 1) / 2 · dilation` on every side (size-preserving for odd k
    ///     at stride 1).
    ///   - dilation: Spacing between kernel taps in both directions.
    ///   - groups: Channel groups (`inChannels` for a depthwise conv).
    ///   - bias: Whether the conv adds a learned per-channel bias.
    /// - Throws: `TensorError` when the weights cannot be allocated.
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

    /// Channels the input must have.
    public var inChannels: Int { weight.shape[1] * groups }
    /// Channels of the output.
    public var outChannels: Int { weight.shape[0] }
    /// Kernel (height, width), read from `weight`.
    public var kernelSize: (Int, Int) { (weight.shape[2], weight.shape[3]) }

    /// The padding this conv applies to an input of the given size.
    public func resolvedPadding(height: Int, width: Int) -> Padding2d {
        padding.resolve(height: height, width: width, kernel: kernelSize, stride: stride, dilation: dilation)
    }

    /// Convolves `input` `[N, inChannels, H, W]` into `[N, outChannels, H′, W′]`, as torch.nn.functional.conv2d;
    /// when no gradient is wanted, through a faster path that records no autograd graph.
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
        try input.conv2dInference(
            inferenceConv(for: input, scale: scale, shift: shift, activation: activation), residual: residual)
    }

    /// This conv over `input` with the given epilogue, as the inference kernels take it.
    func inferenceConv(for input: Tensor, scale: [Float]?, shift: [Float]?, activation: Activation) -> InferenceConv {
        InferenceConv(
            weight: weight, scale: scale, shift: shift, activation: activation, stride: stride,
            padding: resolvedPadding(height: input.shape[2], width: input.shape[3]), dilation: dilation,
            groups: groups)
    }

    /// This conv's geometry applied with other (e.g. BatchNorm-folded) weights.
    func convolve(_ input: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
        guard input.rank == 4 else { return try input.conv2d(weight: weight, bias: bias) }
        let pad = resolvedPadding(height: input.shape[2], width: input.shape[3])
        return try input.conv2d(
            weight: weight, bias: bias, stride: stride, padding: pad, dilation: dilation, groups: groups)
    }
}
