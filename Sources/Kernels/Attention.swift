import Foundation

// Scaled dot-product attention, one fused pass per (batch, head):
//   P = softmax(scale · Q·Kᵀ + bias + mask),  O = P·V
// q (B, H, Nq, D), k (B, H, Nk, D), v (B, H, Nk, Dv) → o (B, H, Nq, Dv); P (B, H, Nq, Nk) is saved for backward.

/// The sizes of one attention call: B, H, Nq, Nk, D and Dv, the score scale and the memory layout.
public struct AttentionGeometry: Equatable, Sendable {
    /// B, H, Nq (query tokens), Nk (key and value tokens), D (query and key channels per head) and
    /// Dv (value channels per head).
    public var batch: Int, heads: Int, queries: Int, keys: Int, headDim: Int, valueDim: Int
    /// The factor on Q·Kᵀ before the softmax (timm's `self.scale`, by default 1/√D).
    public var scale: Float

    /// The geometry of an attention call in the head-major layout (set `packed` for the qkv layout).
    ///
    /// - Parameters:
    ///   - batch: B, the number of samples (or of windows, in Swin).
    ///   - heads: H, the number of heads.
    ///   - queries: Nq, the number of query tokens.
    ///   - keys: Nk, the number of key and value tokens.
    ///   - headDim: D, the channels per head of q and k.
    ///   - valueDim: Dv, the channels per head of v and the output; nil for D.
    ///   - scale: The factor on Q·Kᵀ; nil for 1/√D, as torch's scaled_dot_product_attention.
    public init(
        batch: Int, heads: Int, queries: Int, keys: Int, headDim: Int, valueDim: Int? = nil, scale: Float? = nil
    ) {
        self.batch = batch
        self.heads = heads
        self.queries = queries
        self.keys = keys
        self.headDim = headDim
        self.valueDim = valueDim ?? headDim
        self.scale = scale ?? 1 / Float(headDim).squareRoot()
    }
    /// Head-major q/k/v/output (B, H, N, D), or `packed`: q, k and v point at the thirds of one token-major
    /// (B, N, 3, H, D) buffer (a qkv projection's output as is) and the output is (B, N, H, Dv). Packed
    /// attention needs no permuted copies on either side; it requires Nq = Nk and D = Dv.
    public var packed = false

    /// Where block bh (= b·H + h) starts in q, k, v and the output.
    @inline(__always) func offsets(_ bh: Int) -> (q: Int, k: Int, v: Int, o: Int) {
        guard packed else {
            return (bh * queries * headDim, bh * keys * headDim, bh * keys * valueDim, bh * queries * valueDim)
        }
        let (b, h) = (bh / heads, bh % heads)
        let input = b * queries * 3 * heads * headDim + h * headDim
        return (input, input, input, b * queries * heads * valueDim + h * valueDim)
    }

    /// Elements between consecutive tokens of one head: (q, k and v, output).
    var rowStrides: (input: Int, v: Int, o: Int) {
        packed ? (3 * heads * headDim, 3 * heads * headDim, heads * valueDim) : (headDim, valueDim, valueDim)
    }
    var scoresPerHead: Int { queries * keys }
    /// B·H·Nq·Nk: the floats of the saved probabilities P and of the scores gradient.
    public var probabilityCount: Int { batch * heads * queries * keys }
    /// Floating-point operations of the forward pass's two products, Q·Kᵀ and P·V (2 per multiply-add).
    public var flops: Double { 2.0 * Double(batch * heads * queries * keys * (headDim + valueDim)) }
}

/// An additive score term of shape (P, Hb, Nq, Nk): batch b reads block b mod P (Swin's window mask
/// repeats every nW windows; a relative position bias has P = 1), head h reads h (Hb = H) or 0 (Hb = 1).
public struct AttentionBias {
    /// The P·Hb·Nq·Nk bias values, contiguous.
    public var values: UnsafePointer<Float>
    /// P, the number of blocks batch entries cycle through (1: one block shared by the whole batch).
    public var period: Int
    /// Hb: H for one block per head, or 1 for one block shared by all heads.
    public var heads: Int

    /// A bias of shape (`period`, `heads`, Nq, Nk) at `values`, which must outlive the attention call.
    public init(values: UnsafePointer<Float>, period: Int = 1, heads: Int) {
        self.values = values
        self.period = period
        self.heads = heads
    }
    @inline(__always) func block(batch b: Int, head h: Int) -> Int { (b % period) * heads + (heads == 1 ? 0 : h) }
}

/// O = softmax(scale · Q·Kᵀ + biases)·V, as torch's scaled_dot_product_attention, parallel over (batch, head).
///
/// - Parameters:
///   - g: The sizes, scale and layout (head-major or packed) of q, k, v and the output.
///   - q: The queries, (B, H, Nq, D), or the first third of a packed (B, N, 3, H, D) buffer.
///   - k: The keys, (B, H, Nk, D), or the packed buffer's second third.
///   - v: The values, (B, H, Nk, Dv), or the packed buffer's last third.
///   - biases: Additive score terms (relative position bias, Swin's shift mask), added before the softmax.
///   - output: Receives O (overwritten), (B, H, Nq, Dv), or (B, N, H, Dv) when packed.
///   - probabilities: Receives P, (B, H, Nq, Nk), for `attentionBackward`; nil when no backward pass follows.
public func attentionForward(
    _ g: AttentionGeometry, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    biases: [AttentionBias] = [], output: UnsafeMutablePointer<Float>,
    probabilities: UnsafeMutablePointer<Float>?
) {
    KernelProfile.measure(.attention, shape: g.profileShape) {
        let blocks = g.batch * g.heads
        let perHead = g.scoresPerHead
        parallelFor(blocks) { range in
            // Without a P buffer to keep (inference), each thread reuses one scores block.
            let scratch = probabilities == nil ? UnsafeMutablePointer<Float>.allocate(capacity: perHead) : nil
            defer { scratch?.deallocate() }
            let stride = g.rowStrides
            for bh in range {
                let scores = probabilities.map { $0 + bh * perHead } ?? scratch!
                let at = g.offsets(bh)
                gemm(
                    transposeB: true, m: g.queries, n: g.keys, k: g.headDim, alpha: g.scale,
                    a: q + at.q, lda: stride.input, b: k + at.k, ldb: stride.input, c: scores)
                for bias in biases {
                    let term = bias.values + bias.block(batch: bh / g.heads, head: bh % g.heads) * perHead
                    for i in 0..<perHead { scores[i] += term[i] }
                }
                for row in 0..<g.queries { softmaxRow(scores + row * g.keys, scores + row * g.keys, g.keys) }
                gemm(
                    m: g.queries, n: g.valueDim, k: g.keys, a: scores, b: v + at.v, ldb: stride.v,
                    c: output + at.o, ldc: stride.o)
            }
        }
    }
}

/// The gradients of `attentionForward`, added into qGrad, kGrad, vGrad and each bias gradient.
///
/// - Parameters:
///   - g: The geometry of the forward call.
///   - q: The forward pass's queries.
///   - k: The forward pass's keys.
///   - v: The forward pass's values.
///   - probabilities: P as `attentionForward` saved it.
///   - outputGrad: ∂loss/∂O, in the output's layout.
///   - qGrad: Accumulates ∂loss/∂Q in q's layout; nil to skip.
///   - kGrad: Accumulates ∂loss/∂K in k's layout; nil to skip.
///   - vGrad: Accumulates ∂loss/∂V in v's layout; nil to skip.
///   - biasGrads: Each bias with the buffer its gradient is added into (same layout as the bias; batch entries
///     sharing a block are summed).
///   - scoresGrad: Scratch of `probabilityCount` floats; receives dS = ∂loss/∂(scale·QKᵀ + biases).
public func attentionBackward(
    _ g: AttentionGeometry, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    probabilities: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
    qGrad: UnsafeMutablePointer<Float>?, kGrad: UnsafeMutablePointer<Float>?,
    vGrad: UnsafeMutablePointer<Float>?,
    biasGrads: [(bias: AttentionBias, grad: UnsafeMutablePointer<Float>)] = [],
    scoresGrad: UnsafeMutablePointer<Float>
) {
    KernelProfile.measure(.attention, shape: g.profileShape) {
        let blocks = g.batch * g.heads
        let perHead = g.scoresPerHead
        parallelFor(blocks) { range in
            let stride = g.rowStrides
            for bh in range {
                let at = g.offsets(bh)
                let p = probabilities + bh * perHead
                let dO = outputGrad + at.o
                let dS = scoresGrad + bh * perHead
                if let vGrad {  // dV += Pᵀ·dO
                    gemm(
                        transposeA: true, m: g.keys, n: g.valueDim, k: g.queries, a: p, b: dO, ldb: stride.o,
                        beta: 1, c: vGrad + at.v, ldc: stride.v)
                }
                // dP = dO·Vᵀ, then through the softmax: dS = P ⊙ (dP − rowsum(dP ⊙ P)).
                gemm(
                    transposeB: true, m: g.queries, n: g.keys, k: g.valueDim, a: dO, lda: stride.o, b: v + at.v,
                    ldb: stride.v, c: dS)
                for row in 0..<g.queries {
                    let pr = p + row * g.keys
                    let dr = dS + row * g.keys
                    let dot = vectorDot(pr, dr, count: g.keys)
                    for j in 0..<g.keys { dr[j] = pr[j] * (dr[j] - dot) }
                }
                if let qGrad {  // dQ += scale · dS·K
                    gemm(
                        m: g.queries, n: g.headDim, k: g.keys, alpha: g.scale, a: dS, b: k + at.k,
                        ldb: stride.input,
                        beta: 1, c: qGrad + at.q, ldc: stride.input)
                }
                if let kGrad {  // dK += scale · dSᵀ·Q
                    gemm(
                        transposeA: true, m: g.keys, n: g.headDim, k: g.queries, alpha: g.scale, a: dS, b: q + at.q,
                        ldb: stride.input, beta: 1, c: kGrad + at.k, ldc: stride.input)
                }
            }
        }
        // Bias gradients sum over the batches that share a block: done serially to avoid write races.
        for (bias, grad) in biasGrads {
            for bh in 0..<blocks {
                let target = grad + bias.block(batch: bh / g.heads, head: bh % g.heads) * perHead
                let dS = scoresGrad + bh * perHead
                for i in 0..<perHead { target[i] += dS[i] }
            }
        }
    }
}

/// Unfused reference (Double accumulation) for the tests.
public func attentionReference(
    _ g: AttentionGeometry, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    biases: [AttentionBias] = [], output: UnsafeMutablePointer<Float>
) {
    for bh in 0..<g.batch * g.heads {
        for i in 0..<g.queries {
            var scores = [Double](repeating: 0, count: g.keys)
            for j in 0..<g.keys {
                var dot = 0.0
                for d in 0..<g.headDim {
                    dot +=
                        Double(q[(bh * g.queries + i) * g.headDim + d]) * Double(k[(bh * g.keys + j) * g.headDim + d])
                }
                scores[j] = dot * Double(g.scale)
                for bias in biases {
                    scores[j] += Double(
                        bias.values[
                            bias.block(batch: bh / g.heads, head: bh % g.heads) * g.scoresPerHead + i * g.keys + j])
                }
            }
            let maximum = scores.max() ?? 0
            let exps = scores.map { exponential($0 - maximum) }
            let total = exps.reduce(0, +)
            for d in 0..<g.valueDim {
                var acc = 0.0
                for j in 0..<g.keys { acc += exps[j] / total * Double(v[(bh * g.keys + j) * g.valueDim + d]) }
                output[(bh * g.queries + i) * g.valueDim + d] = Float(acc)
            }
        }
    }
}

@inline(__always) private func exponential(_ x: Double) -> Double { Foundation.exp(x) }

extension AttentionGeometry {
    /// How a profile names this call: batch × heads, queries × keys, channels per head.
    var profileShape: String { "\(batch)×\(heads) heads, \(queries)×\(keys) tokens, \(headDim) dims" }
}
