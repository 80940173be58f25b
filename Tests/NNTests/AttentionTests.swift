import Foundation
import Randomness
import XCTest

@testable import NN
@testable import Tensors

/// timm's Attention: shapes, head split and scale, and the output against softmax(q·kᵀ·scale + bias)·v worked
/// out here in scalar loops from the layer's own weights (timm's `qkv.reshape(B, N, 3, H, D)` layout).
final class AttentionTests: XCTestCase {
    func testProjectionShapesHeadsAndScale() throws {
        let attention = try MultiHeadAttention(dim: 8, heads: 2)
        XCTAssertEqual(attention.qkv.weight.shape, [24, 8])
        XCTAssertEqual(attention.qkv.bias?.shape, [24])
        XCTAssertEqual(attention.proj.weight.shape, [8, 8])
        XCTAssertEqual(attention.proj.bias?.shape, [8])
        XCTAssertEqual(attention.heads, 2)
        XCTAssertEqual(attention.scale, 0.5)  // 1 / √(8 / 2)

        // timm's head_dim: the inner width is heads · headDim, not dim.
        let wide = try MultiHeadAttention(dim: 8, heads: 2, qkvBias: false, headDim: 9)
        XCTAssertEqual(wide.qkv.weight.shape, [54, 8])
        XCTAssertNil(wide.qkv.bias)
        XCTAssertEqual(wide.proj.weight.shape, [8, 18])
        XCTAssertEqual(wide.scale, 1 / 3, accuracy: 1e-7)
        XCTAssertEqual(wide.stateDict().map(\.name), ["qkv.weight", "proj.weight", "proj.bias"])

        var rng = RandomGenerator(seed: 1)
        XCTAssertEqual(try wide(Tensor.normal([3, 5, 8], using: &rng)).shape, [3, 5, 8])
    }

    func testMatchesHandWrittenSoftmaxAttention() throws {
        let (b, n, c, h) = (2, 4, 6, 3)
        let d = c / h
        var generator = RandomGenerator(seed: 21)
        let attention = try Initialization.using(&generator) { try MultiHeadAttention(dim: c, heads: h) }
        var rng = RandomGenerator(seed: 22)
        let x = try Tensor.normal([b, n, c], using: &rng)
        let bias = try Tensor.normal([h, n, n], using: &rng)

        let (wq, bq) = (attention.qkv.weight.scalars, attention.qkv.bias!.scalars)
        let (wp, bp) = (attention.proj.weight.scalars, attention.proj.bias!.scalars)
        let xs = x.scalars
        let biases = bias.scalars
        func reference(withBias: Bool) -> [Float] {
            var out = [Float](repeating: 0, count: b * n * c)
            for batch in 0..<b {
                // qkv[token][j] = Σ_i x[token][i] · W[j][i] + bias[j], j = (which · H + head) · D + e.
                var qkv = [[Float]](repeating: [Float](repeating: 0, count: 3 * c), count: n)
                for t in 0..<n {
                    for j in 0..<3 * c {
                        var s = bq[j]
                        for i in 0..<c { s += xs[(batch * n + t) * c + i] * wq[j * c + i] }
                        qkv[t][j] = s
                    }
                }
                func q(_ t: Int, _ head: Int, _ e: Int) -> Float { qkv[t][(0 * h + head) * d + e] }
                func k(_ t: Int, _ head: Int, _ e: Int) -> Float { qkv[t][(1 * h + head) * d + e] }
                func v(_ t: Int, _ head: Int, _ e: Int) -> Float { qkv[t][(2 * h + head) * d + e] }
                var merged = [[Float]](repeating: [Float](repeating: 0, count: c), count: n)
                for head in 0..<h {
                    for query in 0..<n {
                        var scores = (0..<n).map { key in
                            (0..<d).reduce(Float(0)) { $0 + q(query, head, $1) * k(key, head, $1) }
                                / Float(d).squareRoot()
                                + (withBias ? biases[(head * n + query) * n + key] : 0)
                        }
                        let top = scores.max()!
                        scores = scores.map { Foundation.exp($0 - top) }
                        let total = scores.reduce(0, +)
                        for e in 0..<d {
                            merged[query][head * d + e] = (0..<n).reduce(Float(0)) {
                                $0 + scores[$1] / total * v($1, head, e)
                            }
                        }
                    }
                }
                for t in 0..<n {
                    for o in 0..<c {
                        var s = bp[o]
                        for i in 0..<c { s += merged[t][i] * wp[o * c + i] }
                        out[(batch * n + t) * c + o] = s
                    }
                }
            }
            return out
        }
        let plain = reference(withBias: false)
        let biased = reference(withBias: true)
        XCTAssertGreaterThan(zip(plain, biased).map { abs($0 - $1) }.max()!, 1e-2, "the bias must matter")
        for (actual, expected) in [
            (try attention(x).scalars, plain),
            (try withoutGrad { try attention(x) }.scalars, plain),
            (try attention(x, additive: [bias]).scalars, biased),
        ] {
            XCTAssertEqual(actual.count, expected.count)
            for (a, e) in zip(actual, expected) { XCTAssertEqual(a, e, accuracy: 1e-5 * max(1, abs(e))) }
        }
    }

    /// Every token attends to every other: changing the last token changes the first token's output.
    func testTokensMixAcrossTheSequenceButNotTheBatch() throws {
        var generator = RandomGenerator(seed: 3)
        let attention = try Initialization.using(&generator) { try MultiHeadAttention(dim: 4, heads: 2) }
        var rng = RandomGenerator(seed: 4)
        let x = try Tensor.normal([2, 3, 4], using: &rng)
        var changed = x.scalars
        changed[2 * 4] += 1  // batch 0, token 2
        let before = try attention(x).scalars
        let after = try attention(Tensor(shape: x.shape, scalars: changed)).scalars
        XCTAssertNotEqual(Array(before[0..<4]), Array(after[0..<4]), "token 0 of batch 0 sees token 2")
        XCTAssertEqual(Array(before[12...]), Array(after[12...]), "batch 1 is independent of batch 0")
    }
}
