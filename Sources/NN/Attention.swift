import Tensors

/// timm multi-head self-attention: `qkv` (dim → 3·dim) then the fused attention kernel, then `proj`.
/// Input and output are tokens (B, N, C).
public final class MultiHeadAttention: Module, Layer {
    /// The input projection dim → 3·heads·headDim (q, k, v packed as timm's) and the output projection back to dim.
    public let qkv: Linear, proj: Linear
    /// Number of attention heads.
    public let heads: Int
    /// Factor on q·kᵀ before the softmax: 1/√headDim.
    public let scale: Float

    /// Attention with PyTorch-default random weights (see `Initialization`).
    ///
    /// - Parameters:
    ///   - dim: Token width C of input and output.
    ///   - heads: Number of heads H.
    ///   - qkvBias: Whether the qkv projection has a bias (timm's `qkv_bias`); `proj` always has one.
    ///   - headDim: Width of one head; nil for `dim / heads` (timm's `head_dim`).
    /// - Throws: `TensorError` when the weights cannot be allocated.
    public init(dim: Int, heads: Int, qkvBias: Bool = true, headDim: Int? = nil) throws {
        let inner = (headDim ?? dim / heads) * heads
        qkv = try Linear(dim, inner * 3, bias: qkvBias)
        proj = try Linear(inner, dim)
        self.heads = heads
        scale = 1 / Float(inner / heads).squareRoot()
        super.init()
        register("qkv", qkv)
        register("proj", proj)
    }

    /// Self-attention over tokens (B, N, C), giving (B, N, C).
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try self(input, additive: [])
    }

    /// Attention with additive score terms (relative position bias, masks): see `Tensor.attention`.
    public func callAsFunction(_ input: Tensor, additive terms: [Tensor]) throws -> Tensor {
        try proj(Tensor.packedAttention(qkv(input), heads: heads, additive: terms, scale: scale))
    }
}
