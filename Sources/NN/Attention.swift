import Tensors

/// timm multi-head self-attention: `qkv` (dim → 3·dim) then the fused attention kernel, then `proj`.
/// Input and output are tokens (B, N, C).
public final class MultiHeadAttention: Module, Layer {
    public let qkv: Linear, proj: Linear
    public let heads: Int
    public let scale: Float

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

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try self(input, additive: [])
    }

    /// Attention with additive score terms (relative position bias, masks): see `Tensor.attention`.
    public func callAsFunction(_ input: Tensor, additive terms: [Tensor]) throws -> Tensor {
        try proj(Tensor.packedAttention(qkv(input), heads: heads, additive: terms, scale: scale))
    }
}
