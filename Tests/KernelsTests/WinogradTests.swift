import XCTest

@testable import Kernels

/// Winograd F(4×4, 3×3) against the reference convolution and against the direct inference paths. Its error
/// is measured against the output's largest value: in Float it is a few 1e-6 of that (the transforms scale
/// values by up to 100 before the sums), where a direct sum is within 1e-7.
final class WinogradTests: XCTestCase {
    /// Maps that are and are not multiples of the 4×4 tile, every padding a 3×3 conv takes (none, "same", one
    /// side only, wider than the filter's reach), several images, more tiles than one vector holds.
    let geometries = [
        Conv2dGeometry(
            batch: 1, inChannels: 16, height: 8, width: 8, outChannels: 8, kernel: (3, 3), padding: (1, 1, 1, 1)),
        Conv2dGeometry(
            batch: 2, inChannels: 7, height: 13, width: 11, outChannels: 5, kernel: (3, 3), padding: (1, 1, 1, 1)),
        Conv2dGeometry(batch: 1, inChannels: 9, height: 10, width: 15, outChannels: 6, kernel: (3, 3)),
        Conv2dGeometry(
            batch: 3, inChannels: 4, height: 9, width: 6, outChannels: 3, kernel: (3, 3), padding: (0, 0, 1, 1)),
        Conv2dGeometry(
            batch: 1, inChannels: 5, height: 7, width: 9, outChannels: 4, kernel: (3, 3), padding: (2, 3, 2, 1)),
        Conv2dGeometry(
            batch: 2, inChannels: 70, height: 30, width: 29, outChannels: 33, kernel: (3, 3), padding: (1, 1, 1, 1)),
        // 128 tiles in two blocks of 64 (a block holds at most 107 tiles of 256 + 16 channels).
        Conv2dGeometry(
            batch: 2, inChannels: 256, height: 32, width: 30, outChannels: 16, kernel: (3, 3), padding: (1, 1, 1, 1)),
        // More than 64 × 64 channel pairs: points combined from the packed taps as each GEMM needs one (one block)
        // and once for the call (242 tiles, two blocks).
        Conv2dGeometry(
            batch: 1, inChannels: 65, height: 12, width: 13, outChannels: 64, kernel: (3, 3), padding: (1, 1, 1, 1)),
        Conv2dGeometry(
            batch: 2, inChannels: 65, height: 44, width: 44, outChannels: 64, kernel: (3, 3), padding: (1, 1, 1, 1)),
    ]

    /// The last two geometries cover both ways of combining points from taps.
    func testGeometriesCombineTapsInOneBlockAndInSeveral() {
        let (oneBlock, twoBlocks) = (geometries[geometries.count - 2], geometries[geometries.count - 1])
        XCTAssert(oneBlock.winogradCombinesTaps && twoBlocks.winogradCombinesTaps)
        XCTAssertFalse(geometries[geometries.count - 3].winogradCombinesTaps)
        XCTAssertEqual(oneBlock.winogradBlock, oneBlock.winogradTilesPerImage)
        XCTAssertLessThan(twoBlocks.winogradBlock, twoBlocks.batch * twoBlocks.winogradTilesPerImage)
    }

    /// Blocks come in a multiple of the thread count and of equal size to a vector (worked out by hand from the
    /// 4 MB budget: 2²⁰ / (36 · (C + O)) tiles).
    func testBlocksShareTheTilesEvenlyAmongThreads() {
        let previous = Threads.count
        defer { Threads.set(previous) }
        Threads.set(2)
        func block(batch: Int, _ c: Int, _ o: Int, size: Int) -> Int {
            Conv2dGeometry(
                batch: batch, inChannels: c, height: size, width: size, outChannels: o, kernel: (3, 3),
                padding: (1, 1, 1, 1)
            ).winogradBlock
        }
        XCTAssertEqual(block(batch: 1, 128, 32, size: 56), 104)  // 196 tiles, 182 fit: 104 + 92, not 176 + 20
        XCTAssertEqual(block(batch: 8, 64, 64, size: 56), 200)  // 1568 tiles, 227 fit: 8 blocks, not 7
        XCTAssertEqual(block(batch: 1, 64, 64, size: 56), 196)  // all fit: one block, shared step by step
        Threads.set(3)
        XCTAssertEqual(block(batch: 1, 128, 32, size: 56), 72)  // 3 blocks: 72 + 72 + 52
    }

    func testWinogradMatchesTheReferenceWithEveryEpilogueTerm() throws {
        try onEveryPath { path in
            for g in geometries {
                let input = random(g.batch * g.inChannels * g.height * g.width, seed: 11)
                let weight = random(g.outChannels * g.inChannels * 9, seed: 12)
                let (scale, shift) = (random(g.outChannels, seed: 13), random(g.outChannels, seed: 14))
                let outCount = g.batch * g.outChannels * g.outHeight * g.outWidth
                let residual = random(outCount, seed: 15)
                var plain = [Float](repeating: .nan, count: outCount)
                conv2dReference(g, input: input, weight: weight, bias: nil, output: &plain)
                let spatial = g.outHeight * g.outWidth
                let expected = plain.indices.map { i in
                    let o = i / spatial % g.outChannels
                    return max(0, plain[i] * scale[o] + shift[o] + residual[i])
                }
                let packed = PackedConvWeights(g, weight: weight, algorithm: .winograd)
                var output = [Float](repeating: .nan, count: outCount)
                scale.withUnsafeBufferPointer { scale in
                    shift.withUnsafeBufferPointer { shift in
                        residual.withUnsafeBufferPointer { residual in
                            let epilogue = ConvEpilogue(
                                scale: scale.baseAddress, shift: shift.baseAddress, residual: residual.baseAddress,
                                activation: .relu)
                            conv2dInference(
                                g, input: input, weight: weight, packed: packed, epilogue: epilogue, output: &output)
                        }
                    }
                }
                assertCloseAtScale(output, expected, "\(path) winograd \(g)")
            }
        }
    }

    /// The same conv through every algorithm that runs it gives the same output (no epilogue: the raw sums).
    func testWinogradAgreesWithTheDirectPaths() throws {
        let g = Conv2dGeometry(
            batch: 2, inChannels: 64, height: 28, width: 28, outChannels: 64, kernel: (3, 3), padding: (1, 1, 1, 1))
        let input = random(g.batch * g.inChannels * g.height * g.width, seed: 21)
        let weight = random(g.outChannels * g.inChannels * 9, seed: 22)
        let algorithms = ConvAlgorithm.allCases.filter { $0.runs(g) }
        let outputs = algorithms.map { algorithm in
            var output = [Float](repeating: .nan, count: g.batch * g.outChannels * g.outHeight * g.outWidth)
            let packed = PackedConvWeights(g, weight: weight, algorithm: algorithm)
            conv2dInference(g, input: input, weight: weight, packed: packed, epilogue: ConvEpilogue(), output: &output)
            return output
        }
        for (algorithm, output) in zip(algorithms, outputs).dropFirst() {
            assertCloseAtScale(output, outputs[0], "\(algorithm) against \(ConvAlgorithm.gemm)")
        }
        XCTAssertEqual(g.inferenceAlgorithm, .winograd, "a 28×28 map with 64 channels runs as Winograd")
    }
}
