import Tensors

/// timm multi-head self-attention: `qkv` (dim → 3·dim) then the fused attention kernel, then `proj`.
/// Input and output are tokens (B, N, C).
public final class MultiHeadAttention: Module, Layer {
    public let qkv: Linear, proj: Linear
    public let heads: Int
    public let scale: Float

    public init(dim: Int, heads: Int, qkvBias: Bool = true, headDim: Int? = nil) {
        let inner = (headDim ?? dim / heads) * heads
        qkv = Linear(dim, inner * 3, bias: qkvBias)
        proj = Linear(inner, dim)
        self.heads = heads
        scale = 1 / Float(inner / heads).squareRoot()
        super.init()
        register("qkv", qkv); register("proj", proj)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try self(input, additive: [])
    }

    /// Attention with additive score terms (relative position bias, masks): see `Tensor.attention`.
    public func callAsFunction(_ input: Tensor, additive terms: [Tensor]) throws -> Tensor {
        let (b, n) = (input.shape[0], input.shape[1])
        let (q, k, v) = try splitHeads(qkv(input), batch: b, tokens: n)
        let attended = try Tensor.attention(query: q, key: k, value: v, additive: terms, scale: scale)
        return try proj(mergeHeads(attended))
    }

    /// (B, N, 3·H·D) → three (B, H, N, D) tensors.
    public func splitHeads(_ packed: Tensor, batch b: Int, tokens n: Int) throws -> (Tensor, Tensor, Tensor) {
        let headDim = packed.shape[2] / (3 * heads)
        let split = try packed.reshaped([b, n, 3, heads, headDim]).permuted([2, 0, 3, 1, 4])
        let part = { (i: Int) in try split.slice(axis: 0, i..<i + 1).reshaped([b, self.heads, n, headDim]) }
        return (try part(0), try part(1), try part(2))
    }
}

/// (B, H, N, D) → (B, N, H·D).
public func mergeHeads(_ x: Tensor) throws -> Tensor {
    let (b, h, n, d) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    return try x.permuted([0, 2, 1, 3]).reshaped([b, n, h * d])
}
