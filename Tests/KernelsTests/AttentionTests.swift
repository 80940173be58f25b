import XCTest

@testable import Kernels

/// The fused attention kernel against its reference.
final class AttentionTests: XCTestCase {
    func testFusedAttentionAgreesWithReference() throws {
        try onEveryPath { path in
            let g = AttentionGeometry(batch: 4, heads: 3, queries: 7, keys: 9, headDim: 5, valueDim: 6)
            let q = random(4 * 3 * 7 * 5, seed: 6)
            let k = random(4 * 3 * 9 * 5, seed: 7)
            let v = random(4 * 3 * 9 * 6, seed: 8)
            let bias = random(3 * 7 * 9, seed: 9)
            let mask = random(2 * 7 * 9, seed: 10)
            var fast = [Float](repeating: 0, count: 4 * 3 * 7 * 6)
            var slow = fast
            bias.withUnsafeBufferPointer { b in
                mask.withUnsafeBufferPointer { m in
                    let terms = [
                        AttentionBias(values: b.baseAddress!, heads: 3),
                        AttentionBias(values: m.baseAddress!, period: 2, heads: 1),
                    ]
                    attentionForward(g, q: q, k: k, v: v, biases: terms, output: &fast, probabilities: nil)
                    attentionReference(g, q: q, k: k, v: v, biases: terms, output: &slow)
                }
            }
            assertClose(fast, slow, "\(path) attention")
        }
    }

}
