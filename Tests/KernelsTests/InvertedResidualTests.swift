import XCTest

@testable import Kernels

/// The inverted residual block at inference, fused (a band of rows at a time) and as three convs (the last split
/// over its depth where it pays), against three reference convolutions.
final class InvertedResidualTests: XCTestCase {
    /// (input channels, expanded channels or nil, output channels, the depthwise conv, adds the input).
    private typealias Block = (inChannels: Int, expand: Bool, outChannels: Int, depthwise: Conv2dGeometry, skip: Bool)

    func testFusedAndUnfusedBlocksAgreeWithReferenceConvs() throws {
        let blocks: [Block] = [
            // Several bands per image, the image split between threads, the input added.
            (
                16, true, 16,
                Conv2dGeometry(
                    batch: 1, inChannels: 64, height: 37, width: 40, outChannels: 64, kernel: (3, 3),
                    padding: (1, 1, 1, 1), groups: 64), true
            ),
            // Stride 2 with TF "same" padding (the odd row at the bottom), three images.
            (
                8, true, 12,
                Conv2dGeometry(
                    batch: 3, inChannels: 48, height: 31, width: 50, outChannels: 48, kernel: (3, 3), stride: (2, 2),
                    padding: (0, 0, 1, 1), groups: 48), false
            ),
            // 5×5 at stride 2, an odd height.
            (
                12, true, 20,
                Conv2dGeometry(
                    batch: 1, inChannels: 72, height: 45, width: 33, outChannels: 72, kernel: (5, 5), stride: (2, 2),
                    padding: (2, 2, 2, 2), groups: 72), false
            ),
            // Depthwise-separable (no expansion), dilated.
            (
                40, false, 40,
                Conv2dGeometry(
                    batch: 2, inChannels: 40, height: 29, width: 60, outChannels: 40, kernel: (3, 3),
                    padding: (2, 2, 2, 2), dilation: (2, 2), groups: 40), true
            ),
            // One image of 600 expanded channels: unfused, the project conv split over its depth between the
            // threads, a share crossing the GEMM's 512-deep blocks.
            (
                24, true, 24,
                Conv2dGeometry(
                    batch: 1, inChannels: 600, height: 9, width: 11, outChannels: 600, kernel: (3, 3),
                    padding: (1, 1, 1, 1), groups: 600), true
            ),
        ]
        XCTAssert(blocks.allSatisfy { $0.depthwise.fusedBandRows < $0.depthwise.outHeight })
        XCTAssertEqual(blocks.last!.depthwise.projectSplitsOverDepth, Threads.count > 1)
        try onEveryPath { path in
            for block in blocks {
                let g = block.depthwise
                let mid = g.inChannels
                let expandGeometry = Conv2dGeometry(
                    batch: g.batch, inChannels: block.inChannels, height: g.height, width: g.width, outChannels: mid,
                    kernel: (1, 1))
                let projectGeometry = Conv2dGeometry(
                    batch: g.batch, inChannels: mid, height: g.outHeight, width: g.outWidth,
                    outChannels: block.outChannels, kernel: (1, 1))
                let input = random(g.batch * block.inChannels * g.height * g.width, seed: 1)
                let expandWeight = random(mid * block.inChannels, seed: 2)
                let depthwiseWeight = random(mid * g.kernelHeight * g.kernelWidth, seed: 3)
                let projectWeight = random(block.outChannels * mid, seed: 4)
                let scales = [random(mid, seed: 5), random(mid, seed: 6), random(block.outChannels, seed: 7)]
                let shifts = [random(mid, seed: 8), random(mid, seed: 9), random(block.outChannels, seed: 10)]

                // The reference: three convs, each followed by its scale, shift (and residual) and activation.
                func reference(
                    _ g: Conv2dGeometry, _ x: [Float], _ w: [Float], _ stage: Int, residual: [Float]? = nil,
                    relu6: Bool
                ) -> [Float] {
                    var y = [Float](repeating: 0, count: g.outputShape.reduce(1, *))
                    conv2dReference(g, input: x, weight: w, bias: nil, output: &y)
                    let spatial = g.outHeight * g.outWidth
                    return y.indices.map { i in
                        let o = i / spatial % g.outChannels
                        let v = y[i] * scales[stage][o] + shifts[stage][o] + (residual?[i] ?? 0)
                        return relu6 ? min(6, max(0, v)) : v
                    }
                }
                var x = input
                if block.expand { x = reference(expandGeometry, x, expandWeight, 0, relu6: true) }
                x = reference(g, x, depthwiseWeight, 1, relu6: true)
                let expected = reference(
                    projectGeometry, x, projectWeight, 2, residual: block.skip ? input : nil, relu6: false)

                let expandPacked = PackedConvWeights(expandGeometry, weight: expandWeight)
                let projectPacked = PackedConvWeights(projectGeometry, weight: projectWeight)
                // The three stages' factors and offsets, one after another.
                let (allScales, allShifts) = (scales.flatMap { $0 }, shifts.flatMap { $0 })
                let starts = [0, mid, 2 * mid]
                for fused in [true, false] {
                    var output = [Float](repeating: .nan, count: expected.count)
                    input.withUnsafeBufferPointer { input in
                        allScales.withUnsafeBufferPointer { scale in
                            allShifts.withUnsafeBufferPointer { shift in
                                depthwiseWeight.withUnsafeBufferPointer { depthwiseWeight in
                                    func epilogue(_ stage: Int, residual: UnsafePointer<Float>? = nil) -> ConvEpilogue {
                                        ConvEpilogue(
                                            scale: scale.baseAddress! + starts[stage],
                                            shift: shift.baseAddress! + starts[stage], residual: residual,
                                            activation: stage < 2 ? .relu6 : .identity)
                                    }
                                    invertedResidualInference(
                                        expand: block.expand
                                            ? FusedConv(expandGeometry, packed: expandPacked, epilogue: epilogue(0))
                                            : nil,
                                        depthwise: FusedConv(
                                            g, weight: depthwiseWeight.baseAddress, epilogue: epilogue(1)),
                                        project: FusedConv(
                                            projectGeometry, packed: projectPacked,
                                            epilogue: epilogue(2, residual: block.skip ? input.baseAddress : nil)),
                                        input: input.baseAddress!, output: &output, fused: fused)
                                }
                            }
                        }
                    }
                    assertClose(output, expected, "\(path) \(fused ? "fused" : "unfused") block around \(g)")
                }
            }
        }
    }

    func testOnlyBlocksWhoseExpandedTensorLeavesTheCacheRunFused() {
        func depthwise(batch: Int, channels: Int, side: Int) -> Conv2dGeometry {
            Conv2dGeometry(
                batch: batch, inChannels: channels, height: side, width: side, outChannels: channels,
                kernel: (3, 3), padding: (1, 1, 1, 1), groups: channels)
        }
        // MobileNetV2 at 224 px, one image: 96 × 112² (4.8 MB) is the largest, and stays unfused.
        XCTAssertFalse(depthwise(batch: 1, channels: 96, side: 112).fusionPays)
        XCTAssertTrue(depthwise(batch: 1, channels: 96, side: 224).fusionPays)
        XCTAssertTrue(depthwise(batch: 8, channels: 144, side: 56).fusionPays)
    }
}
