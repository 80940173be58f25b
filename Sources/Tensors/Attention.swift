import Kernels

extension Tensor {
    /// Scaled dot-product attention on q (B, H, Nq, D), k (B, H, Nk, D), v (B, H, Nk, Dv) through the fused kernel.
    /// Each additive term has shape (Hb, Nq, Nk) or (P, Hb, Nq, Nk) with Hb ∈ {1, H}; batch b uses block b mod P
    /// (a relative position bias: P = 1; Swin's shifted-window mask: P = windows per image, Hb = 1).
    public static func attention(
        query q: Tensor, key k: Tensor, value v: Tensor, additive terms: [Tensor] = [],
        scale: Float? = nil
    ) throws -> Tensor {
        guard q.rank == 4, k.rank == 4, v.rank == 4, q.shape[0] == k.shape[0], q.shape[1] == k.shape[1],
            q.shape[3] == k.shape[3], Array(k.shape[0..<3]) == Array(v.shape[0..<3])
        else {
            throw TensorError.shapeMismatch(op: "attention", shapes: [q.shape, k.shape, v.shape])
        }
        let g = AttentionGeometry(
            batch: q.shape[0], heads: q.shape[1], queries: q.shape[2], keys: k.shape[2],
            headDim: q.shape[3], valueDim: v.shape[3], scale: scale)
        let biases = try attentionBiases(terms, g, shape: q.shape)
        let saveProbabilities = needsGraph(q, k, v) || terms.contains { $0.requiresGrad }
        let probabilities = saveProbabilities ? try Tensor(uninitializedShape: [g.probabilityCount]) : nil
        let (qp, kp, vp) = (q.pointer, k.pointer, v.pointer)
        return try Tensor.result(
            shape: [g.batch, g.heads, g.queries, g.valueDim], inputs: [q, k, v] + terms,
            compute: { out in
                attentionForward(
                    g, q: qp, k: kp, v: vp, biases: biases, output: out, probabilities: probabilities?.pointer)
            },
            backward: { grad in
                guard let probabilities else { return }
                try withScratch(g.probabilityCount) { scoresGrad in
                    let biasGrads = try zip(terms, biases).filter { $0.0.requiresGrad }.map {
                        (bias: $0.1, grad: try $0.0.gradPointer())
                    }
                    attentionBackward(
                        g, q: qp, k: kp, v: vp, probabilities: probabilities.pointer, outputGrad: grad.pointer,
                        qGrad: q.requiresGrad ? try q.gradPointer() : nil,
                        kGrad: k.requiresGrad ? try k.gradPointer() : nil,
                        vGrad: v.requiresGrad ? try v.gradPointer() : nil, biasGrads: biasGrads, scoresGrad: scoresGrad!
                    )
                }
            })
    }

    /// Self-attention straight on a qkv projection's output (B, N, 3·H·D), laid out as timm's
    /// `qkv.reshape(B, N, 3, H, D)`, giving (B, N, H·D): the same numbers as splitting the heads out,
    /// `attention`, and merging them back, without the three permuted copies.
    public static func packedAttention(
        _ qkv: Tensor, heads: Int, additive terms: [Tensor] = [], scale: Float? = nil
    ) throws -> Tensor {
        guard qkv.rank == 3, heads > 0, qkv.shape[2] % (3 * heads) == 0 else {
            throw TensorError.shapeMismatch(op: "packedAttention", shapes: [qkv.shape, [heads]])
        }
        let (b, n, d) = (qkv.shape[0], qkv.shape[1], qkv.shape[2] / (3 * heads))
        var g = AttentionGeometry(batch: b, heads: heads, queries: n, keys: n, headDim: d, scale: scale)
        g.packed = true
        let biases = try attentionBiases(terms, g, shape: qkv.shape)
        let saveProbabilities = needsGraph(qkv) || terms.contains { $0.requiresGrad }
        let probabilities = saveProbabilities ? try Tensor(uninitializedShape: [g.probabilityCount]) : nil
        let base = qkv.pointer
        let third = heads * d
        return try Tensor.result(
            shape: [b, n, heads * d], inputs: [qkv] + terms,
            compute: { out in
                attentionForward(
                    g, q: base, k: base + third, v: base + 2 * third, biases: biases, output: out,
                    probabilities: probabilities?.pointer)
            },
            backward: { grad in
                guard let probabilities else { return }
                try withScratch(g.probabilityCount) { scoresGrad in
                    let biasGrads = try zip(terms, biases).filter { $0.0.requiresGrad }.map {
                        (bias: $0.1, grad: try $0.0.gradPointer())
                    }
                    let dQKV = qkv.requiresGrad ? try qkv.gradPointer() : nil
                    attentionBackward(
                        g, q: base, k: base + third, v: base + 2 * third, probabilities: probabilities.pointer,
                        outputGrad: grad.pointer, qGrad: dQKV, kGrad: dQKV.map { $0 + third },
                        vGrad: dQKV.map { $0 + 2 * third }, biasGrads: biasGrads, scoresGrad: scoresGrad!)
                }
            })
    }

    /// Additive terms as kernel biases: (Hb, Nq, Nk) or (P, Hb, Nq, Nk), Hb ∈ {1, H}, P dividing the batch.
    private static func attentionBiases(
        _ terms: [Tensor], _ g: AttentionGeometry, shape: [Int]
    ) throws -> [AttentionBias] {
        try terms.map { t -> AttentionBias in
            let dims = t.rank == 3 ? [1] + t.shape : t.shape
            guard dims.count == 4, dims[2] == g.queries, dims[3] == g.keys, dims[1] == 1 || dims[1] == g.heads,
                dims[0] >= 1, g.batch % dims[0] == 0
            else {
                throw TensorError.shapeMismatch(op: "attention bias", shapes: [shape, t.shape])
            }
            return AttentionBias(values: t.pointer, period: dims[0], heads: dims[1])
        }
    }
}
