import XCTest

@testable import Kernels

/// Fast kernels against their plain reference versions.
final class KernelReferenceTests: XCTestCase {
    func random(_ count: Int, seed: Int) -> [Float] {
        var state = UInt64(seed) &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
    }

    func assertClose(
        _ a: [Float], _ b: [Float], tolerance: Float = 1e-4, _ message: String, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertEqual(a.count, b.count, message, file: file, line: line)
        let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(
            worst, tolerance, "\(message): max relative difference \(worst)", file: file, line: line)
    }

    /// Runs `body` on each instruction-set path this CPU supports.
    func onEveryPath(_ body: (KernelPath) throws -> Void) throws {
        for path in KernelPath.available { try KernelPath.with(path) { try body(path) } }
    }

    func testGemmAgreesWithReferenceForAllTransposes() throws {
        try onEveryPath { path in
            let (m, n, k) = (7, 5, 9)
            let a = random(m * k, seed: 1)
            let b = random(k * n, seed: 2)
            for ta in [false, true] {
                for tb in [false, true] {
                    var fast = [Float](repeating: 0, count: m * n)
                    var slow = fast
                    gemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: a, b: b, c: &fast)
                    gemmReference(transposeA: ta, transposeB: tb, m: m, n: n, k: k, a: a, b: b, c: &slow)
                    assertClose(fast, slow, "\(path) gemm ta=\(ta) tb=\(tb)")
                }
            }
        }
    }

    func testConvolutionPathsAgreeWithReference() throws {
        try onEveryPath { path in
            let cases: [Conv2dGeometry] = [
                Conv2dGeometry(
                    batch: 2, inChannels: 8, height: 11, width: 13, outChannels: 6, kernel: (3, 3),
                    padding: (1, 1, 1, 1)),
                Conv2dGeometry(
                    batch: 1, inChannels: 6, height: 9, width: 9, outChannels: 4, kernel: (3, 3), stride: (2, 2),
                    padding: (0, 0, 1, 1), groups: 2),
                Conv2dGeometry(batch: 2, inChannels: 5, height: 6, width: 7, outChannels: 3, kernel: (1, 1)),
                Conv2dGeometry(
                    batch: 1, inChannels: 4, height: 12, width: 10, outChannels: 4, kernel: (3, 3),
                    padding: (2, 2, 2, 2), dilation: (2, 2), groups: 4),
                Conv2dGeometry(
                    batch: 2, inChannels: 16, height: 19, width: 21, outChannels: 16, kernel: (3, 3),
                    padding: (1, 1, 1, 1), groups: 16),
                Conv2dGeometry(
                    batch: 1, inChannels: 8, height: 15, width: 15, outChannels: 8, kernel: (5, 5), stride: (2, 2),
                    padding: (1, 1, 2, 2), groups: 8),
                Conv2dGeometry(
                    batch: 1, inChannels: 3, height: 16, width: 16, outChannels: 5, kernel: (4, 4), stride: (4, 4)),
                // Several images per GEMM (small maps), pointwise and grouped.
                Conv2dGeometry(
                    batch: 5, inChannels: 6, height: 4, width: 3, outChannels: 4, kernel: (3, 3), padding: (1, 1, 1, 1),
                    groups: 2),
                Conv2dGeometry(batch: 3, inChannels: 5, height: 2, width: 2, outChannels: 7, kernel: (1, 1)),
                // Large enough to split across threads (by columns, then by rows), with K past one depth block.
                Conv2dGeometry(
                    batch: 1, inChannels: 64, height: 23, width: 21, outChannels: 20, kernel: (3, 3),
                    padding: (1, 1, 1, 1)),
                Conv2dGeometry(
                    batch: 3, inChannels: 72, height: 7, width: 7, outChannels: 100, kernel: (3, 3), stride: (2, 2),
                    padding: (1, 1, 1, 1)),
                Conv2dGeometry(
                    batch: 2, inChannels: 40, height: 9, width: 30, outChannels: 48, kernel: (1, 1), stride: (2, 2)),
                // Large maps at stride 1: shifted taps at inference (one with a 1×3 filter and one-sided padding).
                Conv2dGeometry(
                    batch: 2, inChannels: 24, height: 30, width: 28, outChannels: 20, kernel: (3, 3),
                    padding: (1, 1, 1, 1)),
                Conv2dGeometry(
                    batch: 1, inChannels: 7, height: 20, width: 30, outChannels: 150, kernel: (1, 3),
                    padding: (0, 2, 0, 0)),
            ]
            for g in cases {
                let input = random(g.batch * g.inChannels * g.height * g.width, seed: 3)
                let weight = random(g.outChannels * g.inPerGroup * g.kernelHeight * g.kernelWidth, seed: 4)
                let bias = random(g.outChannels, seed: 5)
                let outCount = g.batch * g.outChannels * g.outHeight * g.outWidth
                var fast = [Float](repeating: .nan, count: outCount)
                var slow = fast
                conv2dForward(g, input: input, weight: weight, bias: bias, output: &fast)
                conv2dReference(g, input: input, weight: weight, bias: bias, output: &slow)
                assertClose(fast, slow, "\(path) conv \(g)")
                // Inference: weights packed once; scale, shift, residual and ReLU fused into the GEMM's store.
                let scale = random(g.outChannels, seed: 6)
                let residual = random(outCount, seed: 7)
                var inferred = [Float](repeating: .nan, count: outCount)
                var plain = inferred
                conv2dReference(g, input: input, weight: weight, bias: nil, output: &plain)
                let spatial = g.outHeight * g.outWidth
                let expected = plain.indices.map { i in
                    let o = i / spatial % g.outChannels
                    return max(0, plain[i] * scale[o] + bias[o] + residual[i])
                }
                scale.withUnsafeBufferPointer { scale in
                    bias.withUnsafeBufferPointer { shift in
                        residual.withUnsafeBufferPointer { residual in
                            let packed = g.isDepthwise ? nil : PackedConvWeights(g, weight: weight)
                            let epilogue = ConvEpilogue(
                                scale: scale.baseAddress, shift: shift.baseAddress, residual: residual.baseAddress,
                                activation: .relu)
                            conv2dInference(
                                g, input: input, weight: weight, packed: packed, epilogue: epilogue, output: &inferred)
                        }
                    }
                }
                assertClose(inferred, expected, "\(path) inference conv \(g)")
            }
        }
    }

    /// The inference max pool (vector kernel on a padded copy) against the scalar loop that also records argmax,
    /// and the average pool against its definition.
    func testPoolingAgreesWithReference() throws {
        try onEveryPath { path in
            let cases = [
                Pool2dGeometry(planes: 3, height: 37, width: 41, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1)),
                Pool2dGeometry(planes: 2, height: 8, width: 9, kernel: (2, 2), stride: (2, 2), ceilMode: true),
                Pool2dGeometry(planes: 2, height: 20, width: 70, kernel: (3, 2), stride: (1, 1), padding: (1, 0, 1, 1)),
            ]
            for g in cases {
                var input = random(g.planes * g.height * g.width, seed: 11)
                input[5] = .nan
                let count = g.planes * g.outHeight * g.outWidth
                var fast = [Float](repeating: 0, count: count)
                var slow = fast
                var argmax = [Int32](repeating: 0, count: count)
                maxPool2dForward(g, input: input, output: &fast, argmax: nil)
                maxPool2dForward(g, input: input, output: &slow, argmax: &argmax)
                XCTAssertEqual(fast.map(\.bitPattern), slow.map(\.bitPattern), "\(path) max pool \(g)")
                // Average pooling as torch defines it: the window clipped to the padded input, divided by its
                // size (count_include_pad) or by the number of input values in it.
                input[5] = 0.5
                for includePad in [true, false] {
                    var average = [Float](repeating: .nan, count: count)
                    avgPool2dForward(g, countIncludePad: includePad, input: input, output: &average)
                    for p in 0..<g.planes {
                        for oy in 0..<g.outHeight {
                            for ox in 0..<g.outWidth {
                                let y0 = oy * g.strideH - g.padTop
                                let x0 = ox * g.strideW - g.padLeft
                                let y1 = min(y0 + g.kernelH, g.height + g.padBottom)
                                let x1 = min(x0 + g.kernelW, g.width + g.padRight)
                                var sum = 0.0
                                var inside = 0
                                for y in max(0, y0)..<min(g.height, y1) {
                                    for x in max(0, x0)..<min(g.width, x1) {
                                        sum += Double(input[(p * g.height + y) * g.width + x])
                                        inside += 1
                                    }
                                }
                                let expected = sum / Double(includePad ? (y1 - y0) * (x1 - x0) : inside)
                                XCTAssertEqual(
                                    Double(average[(p * g.outHeight + oy) * g.outWidth + ox]), expected, accuracy: 1e-5,
                                    "\(path) avg pool \(g) includePad=\(includePad) at \(p), \(oy), \(ox)")
                            }
                        }
                    }
                }
            }
        }
    }

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

/// The pointwise and row kernels against their scalar definitions, on every path this CPU runs.
final class VectorMathTests: XCTestCase {
    func testSoftmaxMatchesDoublePrecisionIncludingExtremes() throws {
        for path in KernelPath.available {
            try KernelPath.with(path) {
                for count in [1, 7, 16, 33, 197] {
                    let row = (0..<count).map { Float(($0 * 37) % 61) * 0.7 - 21 }
                    var fast = [Float](repeating: 0, count: count)
                    softmaxForward(rows: 1, dim: count, input: row, output: &fast)
                    let top = row.max()!
                    let total = row.reduce(0.0) { $0 + exp(Double($1 - top)) }
                    for (x, y) in zip(row, fast) {
                        XCTAssertEqual(Double(y), exp(Double(x - top)) / total, accuracy: 3e-7, "\(path) n=\(count)")
                    }
                }
                // exp must neither overflow to NaN nor underflow to garbage far outside its range.
                var extreme = [Float](repeating: 0, count: 3)
                softmaxForward(rows: 1, dim: 3, input: [-200, 200, 0], output: &extreme)
                XCTAssertEqual(extreme[0], 0, accuracy: 1e-30, "\(path)")
                XCTAssertEqual(extreme[1], 1, "\(path)")
                XCTAssertEqual(extreme[2], 0, accuracy: 1e-30, "\(path)")
            }
        }
    }

    /// Layer norm rows (vector lanes and a tail, with and without the affine) against the definition in Double.
    func testLayerNormMatchesItsDefinition() throws {
        for path in KernelPath.available {
            try KernelPath.with(path) {
                let (rows, dim) = (3, 37)
                let x = (0..<rows * dim).map { Float(($0 * 31) % 23) * 0.4 - 3 }
                let weight = (0..<dim).map { Float($0 % 5) * 0.5 - 1 }
                let bias = (0..<dim).map { Float($0 % 3) - 1 }
                for affine in [true, false] {
                    var y = [Float](repeating: .nan, count: rows * dim)
                    var mean = [Float](repeating: 0, count: rows)
                    var invStd = mean
                    layerNormForward(
                        rows: rows, dim: dim, input: x, weight: affine ? weight : nil, bias: affine ? bias : nil,
                        epsilon: 1e-5, output: &y, savedMean: &mean, savedInvStd: &invStd)
                    for r in 0..<rows {
                        let row = x[r * dim..<(r + 1) * dim].map(Double.init)
                        let m = row.reduce(0, +) / Double(dim)
                        let variance = row.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(dim)
                        XCTAssertEqual(Double(mean[r]), m, accuracy: 1e-5, "\(path)")
                        for i in 0..<dim {
                            let expected =
                                (row[i] - m) / (variance + 1e-5).squareRoot() * (affine ? Double(weight[i]) : 1)
                                + (affine ? Double(bias[i]) : 0)
                            XCTAssertEqual(
                                Double(y[r * dim + i]), expected, accuracy: 1e-5,
                                "\(path) affine=\(affine) [\(r), \(i)]")
                        }
                    }
                }
            }
        }
    }

    /// The vector AdamW update against torch.optim.AdamW's formula in Double, over vector lanes and a tail.
    func testAdamWUpdateMatchesItsDefinition() throws {
        for path in KernelPath.available {
            try KernelPath.with(path) {
                let count = 37
                let gradient = (0..<count).map { Float(($0 * 29) % 17) * 0.3 - 2.4 }
                var w = (0..<count).map { Float(($0 * 13) % 11) * 0.2 - 1 }
                var m = w.map { $0 * 0.1 }
                var v = gradient.map { $0 * $0 * 0.5 }
                let (w0, m0, v0) = (w, m, v)
                let step = AdamWStep(
                    decay: 0.995, beta1: 0.9, beta2: 0.95, stepSize: 0.1 / (1 - 0.81),
                    rootCorrection2: (1 - 0.9025).squareRoot(), epsilon: 1e-8)
                step.apply(weights: &w, firstMoment: &m, secondMoment: &v, gradient: gradient, count: count)
                for k in 0..<count {
                    let g = Double(gradient[k])
                    let mk = 0.9 * Double(m0[k]) + 0.1 * g
                    let vk = 0.95 * Double(v0[k]) + 0.05 * g * g
                    let wk =
                        Double(w0[k]) * 0.995 - 0.1 / (1 - 0.81) * mk
                        / (vk.squareRoot() / (1 - 0.9025).squareRoot() + 1e-8)
                    XCTAssertEqual(Double(m[k]), mk, accuracy: 1e-6, "\(path) m[\(k)]")
                    XCTAssertEqual(Double(v[k]), vk, accuracy: 1e-6 * max(1, vk), "\(path) v[\(k)]")
                    XCTAssertEqual(Double(w[k]), wk, accuracy: 1e-5 * max(1, abs(wk)), "\(path) w[\(k)]")
                }
            }
        }
    }

    func testVectorisedActivationsMatchScalarDefinitions() throws {
        let input = (0..<1001).map { Float($0) * 0.02 - 10 }
        for path in KernelPath.available {
            try KernelPath.with(path) {
                for activation in Activation.allCases {
                    var output = [Float](repeating: 0, count: input.count)
                    activationForward(activation, input: input, output: &output, count: input.count)
                    for (x, y) in zip(input, output) {
                        XCTAssertEqual(
                            y, activation.apply(x), accuracy: 2e-6 * max(1, abs(x)), "\(path) \(activation) at \(x)")
                    }
                }
                // PyTorch propagates NaN through every activation.
                for activation in Activation.allCases where activation != .identity {
                    var output: [Float] = [0]
                    activationForward(activation, input: [.nan], output: &output, count: 1)
                    XCTAssertTrue(output[0].isNaN, "\(path) \(activation)(NaN)")
                }
            }
        }
    }

    /// The vectorised backward against the scalar derivative.
    func testVectorisedActivationBackwardMatchesScalarDerivatives() throws {
        let input = (0..<1001).map { Float($0) * 0.02 - 10.001 }
        let outputGrad = input.indices.map { Float($0 % 7) - 3 }
        for path in KernelPath.available {
            try KernelPath.with(path) {
                for activation in Activation.allCases {
                    var inputGrad = [Float](repeating: 1, count: input.count)
                    activationBackward(
                        activation, input: input, outputGrad: outputGrad, inputGrad: &inputGrad, count: input.count)
                    for i in input.indices {
                        let expected = 1 + outputGrad[i] * activation.derivative(input[i])
                        XCTAssertEqual(
                            inputGrad[i], expected, accuracy: 1e-5 * max(1, abs(expected)),
                            "\(path) \(activation) at \(input[i])")
                    }
                }
            }
        }
    }

    func testReductionsMatchDoublePrecision() throws {
        for path in KernelPath.available {
            try KernelPath.with(path) {
                for count in [0, 1, 5, 16, 63, 64, 65, 1000] {
                    let a = (0..<count).map { Float(($0 * 29) % 17) - 8.5 }
                    let b = (0..<count).map { Float(($0 * 13) % 11) * 0.25 }
                    let sum = a.reduce(0.0) { $0 + Double($1) }
                    let mean = count == 0 ? 0 : sum / Double(count)
                    XCTAssertEqual(Double(vectorSum(a, count: count)), sum, accuracy: 1e-3, "\(path)")
                    XCTAssertEqual(
                        Double(vectorDot(a, b, count: count)),
                        zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }, accuracy: 1e-3)
                    XCTAssertEqual(
                        Double(vectorSquaredDeviations(a, count: count, mean: Float(mean))),
                        a.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }, accuracy: 1e-2)
                    XCTAssertEqual(
                        Double(vectorCenteredDot(b, a, count: count, mean: Float(mean))),
                        zip(b, a).reduce(0.0) { $0 + Double($1.0) * (Double($1.1) - Double(Float(mean))) },
                        accuracy: 1e-2, "\(path)")
                    XCTAssertEqual(vectorMax(a, count: count), a.max() ?? -.infinity, "\(path)")
                }
            }
        }
    }
}
