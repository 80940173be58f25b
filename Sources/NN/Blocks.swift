import Kernels
import Tensors

/// timm PatchEmbed: a strided conv `proj` turning (B, 3, H, W) into tokens (B, H/p · W/p, C).
public final class PatchEmbed: Module, Layer {
    /// The p×p conv at stride p, without padding (`patch_embed.proj`).
    public let proj: Conv2d
    /// Side p of a square patch, in pixels.
    public let patchSize: Int
    /// LayerNorm on the tokens (`patch_embed.norm`, as Swin's), or nil.
    public let norm: LayerNorm?

    /// A patch embedding with PyTorch-default random weights (see `Initialization`).
    ///
    /// - Parameters:
    ///   - patchSize: Side p of a square patch; input height and width must be multiples of it.
    ///   - inChannels: Image channels C_in.
    ///   - embedDim: Token width C.
    ///   - norm: Whether to apply a LayerNorm to the tokens (timm's `norm_layer`).
    ///   - normEpsilon: That LayerNorm's epsilon.
    /// - Throws: `TensorError` when the weights cannot be allocated.
    public init(
        patchSize: Int, inChannels: Int = 3, embedDim: Int, norm: Bool = false, normEpsilon: Float = 1e-5
    ) throws {
        proj = try Conv2d(inChannels, embedDim, kernel: patchSize, stride: patchSize, padding: .symmetric(0))
        self.patchSize = patchSize
        self.norm = norm ? try LayerNorm(embedDim, epsilon: normEpsilon) : nil
        super.init()
        register("proj", proj)
        if let n = self.norm { register("norm", n) }
    }

    /// Tokens (B, N, C) in row-major patch order; throws `TensorError.invalidArgument` unless `input` is
    /// (B, C_in, H, W) with H and W multiples of `patchSize`.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[2] % patchSize == 0, input.shape[3] % patchSize == 0 else {
            throw TensorError.invalidArgument(
                op: "PatchEmbed", reason: "input \(input.shape) is not divisible into \(patchSize)×\(patchSize) patches"
            )
        }
        let x = try proj(input)
        let tokens = try x.flattened(from: 2).transposed(1, 2)
        return try norm.map { try $0(tokens) } ?? tokens
    }
}

/// Squeeze-and-excitation with 1×1 convs: x · gate(fc2(act(fc1(mean_hw(x))))).
/// Names vary by family (`se.fc1/fc2` in ResNet, `se.conv_reduce/conv_expand` in EfficientNet).
public final class SqueezeExcite: Module, Layer {
    /// The 1×1 convs channels → reduced and reduced → channels, both with bias.
    public let reduce: Conv2d, expand: Conv2d
    /// The nonlinearity after `reduce`, and the gate after `expand` (timm's `act_layer`, `gate_layer`).
    public let activation: Activation, gate: Activation

    /// A squeeze-and-excitation module with PyTorch-default random weights (see `Initialization`).
    ///
    /// - Parameters:
    ///   - channels: Input and output channels.
    ///   - reducedChannels: Channels of the bottleneck between the two convs.
    ///   - activation: Nonlinearity after the reducing conv.
    ///   - gate: Nonlinearity that turns the expanded result into per-channel scales.
    ///   - names: The convs' state-dict names, e.g. `("conv_reduce", "conv_expand")` for EfficientNet.
    /// - Throws: `TensorError` when the weights cannot be allocated.
    public init(
        channels: Int, reducedChannels: Int, activation: Activation = .relu, gate: Activation = .sigmoid,
        names: (reduce: String, expand: String) = ("fc1", "fc2")
    ) throws {
        reduce = try Conv2d(channels, reducedChannels, kernel: 1)
        expand = try Conv2d(reducedChannels, channels, kernel: 1)
        self.activation = activation
        self.gate = gate
        super.init()
        register(names.reduce, reduce)
        register(names.expand, expand)
    }

    /// Scales each channel of `input` (N, C, H, W) by its gate; the output has the input's shape.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        let pooled = try input.adaptiveAvgPool2d((1, 1))
        let scale = try expand(reduce(pooled).activation(activation)).activation(gate)
        return try input * scale
    }
}

/// The pre-norm transformer block of timm's VisionTransformer (ViT, MAE encoder and decoder):
/// x + attn(norm1(x)), then x + mlp(norm2(x)), each branch with optional LayerScale and DropPath.
public final class TransformerBlock: Module, Layer {
    /// The sub-layers, registered under timm's names `norm1`, `attn`, `norm2`, `mlp`.
    public let norm1: LayerNorm, attn: MultiHeadAttention, norm2: LayerNorm, mlp: Mlp
    /// LayerScale on the attention and MLP branches (`ls1`, `ls2`), or nil when timm's `init_values` is None.
    public let layerScale1: LayerScale?, layerScale2: LayerScale?
    /// Stochastic depth shared by both branches (not registered: it has no state).
    public let dropPath: DropPath

    /// A block with PyTorch-default random weights (see `Initialization`).
    ///
    /// - Parameters:
    ///   - dim: Token width C.
    ///   - heads: Attention heads; should divide `dim` (timm asserts it; here a remainder is silently dropped).
    ///   - mlpRatio: Hidden width of the MLP as a multiple of `dim` (timm's `mlp_ratio`).
    ///   - qkvBias: Whether the qkv projection has a bias (timm's `qkv_bias`).
    ///   - normEpsilon: Epsilon of both LayerNorms (timm's ViT uses 1e-6).
    ///   - layerScaleInit: Initial LayerScale gain (timm's `init_values`); nil for no LayerScale.
    ///   - dropPath: Stochastic-depth probability for this block (its share of timm's `drop_path_rate`).
    /// - Throws: `TensorError` when the weights cannot be allocated.
    public init(
        dim: Int, heads: Int, mlpRatio: Float = 4, qkvBias: Bool = true, normEpsilon: Float = 1e-6,
        layerScaleInit: Float? = nil, dropPath: Float = 0
    ) throws {
        norm1 = try LayerNorm(dim, epsilon: normEpsilon)
        attn = try MultiHeadAttention(dim: dim, heads: heads, qkvBias: qkvBias)
        norm2 = try LayerNorm(dim, epsilon: normEpsilon)
        mlp = try Mlp(inFeatures: dim, hiddenFeatures: Int(Float(dim) * mlpRatio))
        layerScale1 = try layerScaleInit.map { try LayerScale(dim, initialValue: $0) }
        layerScale2 = try layerScaleInit.map { try LayerScale(dim, initialValue: $0) }
        self.dropPath = DropPath(dropPath)
        super.init()
        register("drop_path", self.dropPath)
        register("norm1", norm1)
        register("attn", attn)
        if let ls = layerScale1 { register("ls1", ls) }
        register("norm2", norm2)
        register("mlp", mlp)
        if let ls = layerScale2 { register("ls2", ls) }
    }

    /// Tokens (B, N, C) to tokens of the same shape.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        var branch = try attn(norm1(input))
        if let ls = layerScale1 { branch = try ls(branch) }
        let x = try input + dropPath(branch)
        branch = try mlp(norm2(x))
        if let ls = layerScale2 { branch = try ls(branch) }
        return try x + dropPath(branch)
    }
}
