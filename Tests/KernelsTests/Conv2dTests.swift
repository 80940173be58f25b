import XCTest

@testable import Kernels

/// The convolution kernels (training, inference with packed weights and a fused epilogue) against the reference.
final class Conv2dTests: XCTestCase {
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
                // Depthwise rows several vectors wide (on every path), with ragged columns and an odd last row.
                Conv2dGeometry(
                    batch: 1, inChannels: 3, height: 37, width: 77, outChannels: 3, kernel: (3, 3),
                    padding: (1, 1, 1, 1), groups: 3),
                Conv2dGeometry(
                    batch: 1, inChannels: 2, height: 71, width: 140, outChannels: 2, kernel: (3, 3), stride: (2, 2),
                    padding: (0, 0, 1, 1), groups: 2),
                // Depthwise rows of one or two vectors, tiled several rows at a time, with a partial last tile.
                Conv2dGeometry(
                    batch: 2, inChannels: 3, height: 7, width: 7, outChannels: 3, kernel: (3, 3),
                    padding: (1, 1, 1, 1), groups: 3),
                Conv2dGeometry(
                    batch: 1, inChannels: 2, height: 13, width: 14, outChannels: 2, kernel: (3, 3),
                    padding: (1, 1, 1, 1), groups: 2),
                Conv2dGeometry(
                    batch: 1, inChannels: 2, height: 6, width: 5, outChannels: 2, kernel: (3, 3),
                    padding: (1, 1, 1, 1), groups: 2),
                Conv2dGeometry(
                    batch: 1, inChannels: 2, height: 11, width: 30, outChannels: 2, kernel: (5, 5),
                    padding: (2, 2, 2, 2), groups: 2),
                Conv2dGeometry(
                    batch: 1, inChannels: 3, height: 16, width: 16, outChannels: 5, kernel: (4, 4), stride: (4, 4)),
                // Several images per GEMM (small maps), pointwise and grouped.
                Conv2dGeometry(
                    batch: 5, inChannels: 6, height: 4, width: 3, outChannels: 4, kernel: (3, 3), padding: (1, 1, 1, 1),
                    groups: 2),
                Conv2dGeometry(batch: 3, inChannels: 5, height: 2, width: 2, outChannels: 7, kernel: (1, 1)),
                // Large enough to split across threads (by columns, then by rows), with K past one depth block:
                // an im2col matrix past 2 MB, built a depth block and a band of rows at a time.
                Conv2dGeometry(
                    batch: 1, inChannels: 64, height: 48, width: 46, outChannels: 20, kernel: (3, 3),
                    padding: (1, 1, 1, 1)),
                Conv2dGeometry(
                    batch: 3, inChannels: 72, height: 7, width: 7, outChannels: 100, kernel: (3, 3), stride: (2, 2),
                    padding: (1, 1, 1, 1)),
                Conv2dGeometry(
                    batch: 2, inChannels: 40, height: 9, width: 30, outChannels: 48, kernel: (1, 1), stride: (2, 2)),
                // Several images side by side whose matrix is built a depth block at a time (1152 rows: 512, 512, 128).
                Conv2dGeometry(
                    batch: 4, inChannels: 128, height: 24, width: 24, outChannels: 24, kernel: (3, 3), stride: (2, 2),
                    padding: (1, 1, 1, 1)),
                // Large maps at stride 1: shifted taps at inference (one with a 1×3 filter and one-sided padding).
                Conv2dGeometry(
                    batch: 2, inChannels: 24, height: 30, width: 28, outChannels: 20, kernel: (3, 3),
                    padding: (1, 1, 1, 1)),
                Conv2dGeometry(
                    batch: 1, inChannels: 7, height: 20, width: 30, outChannels: 150, kernel: (1, 3),
                    padding: (0, 2, 0, 0)),
                // One image's im2col matrix in bands of output rows (a stem: 7×7, stride 2), the last one shorter.
                Conv2dGeometry(
                    batch: 1, inChannels: 3, height: 150, width: 220, outChannels: 8, kernel: (7, 7), stride: (2, 2),
                    padding: (3, 3, 3, 3)),
                // A 1×1 conv as large: read in place, in one band.
                Conv2dGeometry(batch: 1, inChannels: 64, height: 64, width: 60, outChannels: 5, kernel: (1, 1)),
            ]
            for banded in cases.suffix(2) {
                XCTAssert(banded.im2colBandRows < banded.outHeight, "\(banded): \(banded.im2colBandRows) rows a band")
            }
            XCTAssertNotEqual(cases[cases.count - 2].outHeight % cases[cases.count - 2].im2colBandRows, 0)
            let sideBySide = try XCTUnwrap(cases.first { $0.batch == 4 && $0.inChannels == 128 })
            XCTAssertEqual(sideBySide.imagesPerGemm, 4)
            XCTAssertLessThan(sideBySide.im2colDepthRows(images: 4), sideBySide.patchSize)
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
                if g.inferenceAlgorithm == .winograd {
                    assertCloseAtScale(inferred, expected, "\(path) inference conv (Winograd) \(g)")
                } else {
                    assertClose(inferred, expected, "\(path) inference conv \(g)")
                }
            }
        }
    }

    /// Every depthwise kernel (a plane at a time, a vector of channels at a time, by rows and flat where they apply)
    /// forced on each geometry: channel counts that leave the last block part full, batches, strides, dilation, 5×5,
    /// asymmetric padding and padding wider than the filter, planes in several bands and bands of one row, with and
    /// without a residual.
    func testEveryDepthwiseKernelAgreesWithReference() throws {
        let cases: [Conv2dGeometry] = [
            Conv2dGeometry(
                batch: 2, inChannels: 21, height: 7, width: 7, outChannels: 21, kernel: (3, 3),
                padding: (1, 1, 1, 1), groups: 21),
            Conv2dGeometry(
                batch: 1, inChannels: 19, height: 14, width: 14, outChannels: 19, kernel: (3, 3), stride: (2, 2),
                padding: (0, 0, 1, 1), groups: 19),
            Conv2dGeometry(
                batch: 1, inChannels: 10, height: 12, width: 10, outChannels: 10, kernel: (5, 5),
                padding: (4, 4, 4, 4), dilation: (2, 2), groups: 10),
            Conv2dGeometry(
                batch: 1, inChannels: 6, height: 4, width: 5, outChannels: 6, kernel: (3, 3), stride: (2, 1),
                padding: (3, 4, 2, 3), groups: 6),
            Conv2dGeometry(
                batch: 1, inChannels: 9, height: 20, width: 203, outChannels: 9, kernel: (3, 3),
                padding: (1, 1, 1, 1), groups: 9),
            Conv2dGeometry(
                batch: 1, inChannels: 3, height: 5, width: 1030, outChannels: 3, kernel: (3, 3), stride: (2, 2),
                padding: (1, 1, 1, 1), groups: 3),
            // By rows: 5×5, odd widths split by phase, a last row tile and a last vector tile that overlap the ones
            // before, exactly four rows, no padding, padding on one side only.
            Conv2dGeometry(
                batch: 2, inChannels: 5, height: 9, width: 29, outChannels: 5, kernel: (5, 5),
                padding: (2, 2, 2, 2), groups: 5),
            Conv2dGeometry(
                batch: 1, inChannels: 4, height: 13, width: 31, outChannels: 4, kernel: (5, 5), stride: (2, 2),
                padding: (2, 2, 2, 2), groups: 4),
            Conv2dGeometry(
                batch: 2, inChannels: 3, height: 9, width: 57, outChannels: 3, kernel: (3, 3), stride: (2, 2),
                padding: (1, 1, 1, 1), groups: 3),
            Conv2dGeometry(
                batch: 1, inChannels: 2, height: 6, width: 40, outChannels: 2, kernel: (3, 3), groups: 2),
            Conv2dGeometry(
                batch: 1, inChannels: 3, height: 11, width: 70, outChannels: 3, kernel: (3, 3), stride: (2, 2),
                padding: (0, 0, 1, 1), groups: 3),
            // Stride 2 by rows, split into even and odd columns: 5×5 padded TensorFlow's way (one less on the left
            // and top) over three vectors; padding this path does not take (two on the left of a 3×3).
            Conv2dGeometry(
                batch: 1, inChannels: 3, height: 10, width: 84, outChannels: 3, kernel: (5, 5), stride: (2, 2),
                padding: (1, 1, 2, 2), groups: 3),
            Conv2dGeometry(
                batch: 1, inChannels: 2, height: 10, width: 36, outChannels: 2, kernel: (3, 3), stride: (2, 2),
                padding: (2, 2, 0, 0), groups: 2),
            // Flat (and the 7×7 and dilated 12×10 above): a plane of two vectors on AVX-512, and one of 7 (13 on
            // AVX2) whose last four overlap the ones before, padded at the top only.
            Conv2dGeometry(
                batch: 2, inChannels: 7, height: 5, width: 6, outChannels: 7, kernel: (3, 3),
                padding: (1, 1, 1, 1), groups: 7),
            Conv2dGeometry(
                batch: 1, inChannels: 4, height: 9, width: 11, outChannels: 4, kernel: (3, 3),
                padding: (2, 1, 0, 1), groups: 4),
        ]
        try onEveryPath { path in
            for g in cases {
                let input = random(g.batch * g.inChannels * g.height * g.width, seed: 8)
                let weight = random(g.outChannels * g.kernelHeight * g.kernelWidth, seed: 9)
                for kernel in DepthwiseKernel.allCases where kernel.takes(g) {
                    assertEpiloguesAgree(g, input: input, weight: weight, "\(path) depthwise by \(kernel), \(g)") {
                        depthwiseConv2d(g, input: input, weight: weight, epilogue: $0, output: $1, kernel: kernel)
                    }
                }
            }
        }
    }

    /// The direct conv forced on each geometry, with and without a residual: one to four input channels, output
    /// channels that leave the last weight panel part full (or fill it), strides 1 and 2, a non-square filter,
    /// asymmetric padding, rows shorter than a vector and rows that end a vector short, batches.
    func testDirectConvAgreesWithReference() throws {
        let cases: [Conv2dGeometry] = [
            Conv2dGeometry(
                batch: 2, inChannels: 3, height: 23, width: 37, outChannels: 32, kernel: (3, 3), stride: (2, 2),
                padding: (1, 1, 1, 1)),
            Conv2dGeometry(
                batch: 1, inChannels: 3, height: 30, width: 45, outChannels: 13, kernel: (7, 7), stride: (2, 2),
                padding: (3, 3, 3, 3)),
            Conv2dGeometry(
                batch: 1, inChannels: 1, height: 9, width: 5, outChannels: 24, kernel: (1, 3), padding: (0, 2, 0, 1)),
            Conv2dGeometry(
                batch: 2, inChannels: 4, height: 12, width: 40, outChannels: 5, kernel: (5, 5), stride: (2, 2),
                padding: (0, 1, 2, 0)),
            Conv2dGeometry(batch: 1, inChannels: 2, height: 7, width: 21, outChannels: 12, kernel: (3, 3)),
        ]
        try onEveryPath { path in
            for g in cases {
                XCTAssertTrue(ConvAlgorithm.direct.runs(g), "\(g)")
                let input = random(g.batch * g.inChannels * g.height * g.width, seed: 13)
                let weight = random(g.outChannels * g.patchSize, seed: 14)
                let packed = PackedConvWeights(g, weight: weight, algorithm: .direct)
                assertEpiloguesAgree(g, input: input, weight: weight, "\(path) direct conv \(g)") {
                    conv2dInference(g, input: input, weight: nil, packed: packed, epilogue: $0, output: $1)
                }
            }
        }
    }

    /// Checks `run` (a conv of `g` on `input` and `weight`, given its epilogue and output) against the reference
    /// conv under the epilogues the tests try: a random scale and shift, then ReLU6; or with a residual, then ReLU.
    private func assertEpiloguesAgree(
        _ g: Conv2dGeometry, input: [Float], weight: [Float], _ message: String,
        run: (ConvEpilogue, UnsafeMutablePointer<Float>) -> Void
    ) {
        let outCount = g.batch * g.outChannels * g.outHeight * g.outWidth
        let (scale, shift) = (random(g.outChannels, seed: 10), random(g.outChannels, seed: 11))
        let residual = random(outCount, seed: 12)
        var plain = [Float](repeating: .nan, count: outCount)
        conv2dReference(g, input: input, weight: weight, bias: nil, output: &plain)
        let spatial = g.outHeight * g.outWidth
        for withResidual in [false, true] {
            let activation: Activation = withResidual ? .relu : .relu6
            let expected = plain.indices.map { i in
                let o = i / spatial % g.outChannels
                return activation.apply(plain[i] * scale[o] + shift[o] + (withResidual ? residual[i] : 0))
            }
            var output = [Float](repeating: .nan, count: outCount)
            scale.withUnsafeBufferPointer { scale in
                shift.withUnsafeBufferPointer { shift in
                    residual.withUnsafeBufferPointer { residual in
                        let epilogue = ConvEpilogue(
                            scale: scale.baseAddress, shift: shift.baseAddress,
                            residual: withResidual ? residual.baseAddress : nil, activation: activation)
                        output.withUnsafeMutableBufferPointer { run(epilogue, $0.baseAddress!) }
                    }
                }
            }
            assertClose(output, expected, "\(message), residual \(withResidual)")
        }
    }

    /// The GEMM, direct and tap packings give the weights back exactly (they only reorder them); Winograd's
    /// transformed points cannot.
    func testPackedConvWeightsUnpackExactlyUnlessWinograd() throws {
        try onEveryPath { path in
            let cases: [(Conv2dGeometry, ConvAlgorithm)] = [
                (
                    Conv2dGeometry(
                        batch: 1, inChannels: 6, height: 9, width: 9, outChannels: 10, kernel: (3, 3), groups: 2), .gemm
                ),
                (Conv2dGeometry(batch: 1, inChannels: 7, height: 9, width: 9, outChannels: 13, kernel: (1, 1)), .gemm),
                (
                    Conv2dGeometry(
                        batch: 1, inChannels: 3, height: 9, width: 9, outChannels: 13, kernel: (3, 3), stride: (2, 2)),
                    .direct
                ),
                (
                    Conv2dGeometry(
                        batch: 1, inChannels: 5, height: 9, width: 9, outChannels: 11, kernel: (3, 3),
                        padding: (1, 1, 1, 1)), .shiftedTaps
                ),
                // Winograd past 64 × 64 channel pairs keeps the taps and combines its points from them.
                (
                    Conv2dGeometry(
                        batch: 1, inChannels: 65, height: 8, width: 8, outChannels: 64, kernel: (3, 3),
                        padding: (1, 1, 1, 1)), .winograd
                ),
            ]
            for (g, algorithm) in cases {
                let weight = random(g.outChannels * g.patchSize, seed: g.outChannels)
                let packed = PackedConvWeights(g, weight: weight, algorithm: algorithm)
                XCTAssertTrue(packed.isLossless)
                var back = [Float](repeating: .nan, count: weight.count)
                packed.unpack(into: &back)
                XCTAssertEqual(back, weight, "\(path) \(algorithm) \(g)")
            }
            let g = Conv2dGeometry(batch: 1, inChannels: 16, height: 8, width: 8, outChannels: 16, kernel: (3, 3))
            XCTAssertFalse(PackedConvWeights(g, weight: random(16 * 144, seed: 1), algorithm: .winograd).isLossless)
        }
    }
}
