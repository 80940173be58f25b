import Foundation
import XCTest

@testable import Tensors

/// Scaled dot-product attention: values against hand-computed softmax weights, gradients by finite differences.
final class AttentionTests: XCTestCase {
    /// One query, two keys with scores ln 3 and 0: softmax weights 3/4 and 1/4, so values 4 and 8 give 5.
    /// An additive term of [0, ln 3] evens the scores: 6. With the default scale 1/√D, D = 4 halves the scores.
    func testWeightsAreTheSoftmaxOfScaledScoresPlusTerms() throws {
        let ln3 = Float(log(3.0))
        let value = try Tensor(shape: [1, 1, 2, 1], scalars: [4, 8])
        let query = try Tensor(shape: [1, 1, 1, 1], scalars: [1])
        let key = try Tensor(shape: [1, 1, 2, 1], scalars: [ln3, 0])
        XCTAssertEqual(try Tensor.attention(query: query, key: key, value: value).item, 5, accuracy: 1e-5)
        let term = try Tensor(shape: [1, 1, 2], scalars: [0, ln3])
        XCTAssertEqual(
            try Tensor.attention(query: query, key: key, value: value, additive: [term]).item, 6, accuracy: 1e-5)
        // D = 4: q·k = 2 ln 3 for the first key, scaled by 1/2 to ln 3 again.
        let query4 = try Tensor(shape: [1, 1, 1, 4], scalars: [1, 1, 0, 0])
        let key4 = try Tensor(shape: [1, 1, 2, 4], scalars: [ln3, ln3, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(try Tensor.attention(query: query4, key: key4, value: value).item, 5, accuracy: 1e-5)
        XCTAssertThrowsError(try Tensor.attention(query: query4, key: key, value: value))
    }

    func testAttentionGradientsWithBiasAndMask() throws {
        let (b, h, n, d) = (4, 2, 5, 3)
        let mask = try randomTensor([2, 1, n, n], seed: 45)  // period 2 over the batch, shared by heads
        try checkGradients([
            randomTensor([b, h, n, d], seed: 42), randomTensor([b, h, n, d], seed: 43),
            randomTensor([b, h, n, d + 1], seed: 44), randomTensor([h, n, n], seed: 46),
        ]) {
            try Tensor.attention(query: $0[0], key: $0[1], value: $0[2], additive: [$0[3], mask])
        }
        // Cross attention: a different number of keys.
        try checkGradients([
            randomTensor([1, 2, 3, 4], seed: 47), randomTensor([1, 2, 6, 4], seed: 48),
            randomTensor([1, 2, 6, 4], seed: 49),
        ]) {
            try Tensor.attention(query: $0[0], key: $0[1], value: $0[2], scale: 0.3)
        }
    }

    /// Packed attention on a qkv projection equals splitting out the heads (timm's reshape + permute), `attention`,
    /// and merging back; its gradients (into the packed qkv and the bias) pass the finite-difference check.
    func testPackedAttentionMatchesSplitHeadsAndHasGradients() throws {
        let (b, n, h, d) = (3, 5, 2, 4)
        let qkv = try randomTensor([b, n, 3 * h * d], seed: 50)
        let bias = try randomTensor([h, n, n], seed: 51)
        let split = try qkv.reshaped([b, n, 3, h, d]).permuted([2, 0, 3, 1, 4])
        let part = { (i: Int) in try split.slice(axis: 0, i..<i + 1).reshaped([b, h, n, d]) }
        let reference = try Tensor.attention(query: part(0), key: part(1), value: part(2), additive: [bias])
            .permuted([0, 2, 1, 3]).reshaped([b, n, h * d])
        let packed = try Tensor.packedAttention(qkv, heads: h, additive: [bias])
        XCTAssertEqual(packed.shape, [b, n, h * d])
        for (x, y) in zip(packed.scalars, reference.scalars) { XCTAssertEqual(x, y, accuracy: 1e-6) }
        try checkGradients([randomTensor([2, n, 3 * h * d], seed: 52), randomTensor([h, n, n], seed: 53)]) {
            try Tensor.packedAttention($0[0], heads: h, additive: [$0[1]], scale: 0.4)
        }
        XCTAssertThrowsError(try Tensor.packedAttention(randomTensor([2, n, 10], seed: 54), heads: h))
    }

}
