import XCTest

@testable import Kernels

/// The packed GEMM against a Double-precision triple loop, on every instruction-set path this CPU runs:
/// edge tiles, several K blocks, transposes, strides, weights packed once, the fused epilogue and the thread split.
final class GemmTests: XCTestCase {
    func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float((($0 + 1) * (seed * 7919 + 104_729)) % 2001 - 1000) / 1000 }
    }

    /// op(A)·op(B) in Double, with A stored (transposeA ? K×lda : M×lda) and B likewise.
    func reference(
        _ transposeA: Bool, _ transposeB: Bool, m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int
    ) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    sum +=
                        Double(transposeA ? a[p * lda + i] : a[i * lda + p])
                        * Double(transposeB ? b[j * ldb + p] : b[p * ldb + j])
                }
                c[i * n + j] = sum
            }
        }
        return c
    }

    func assertClose(
        _ fast: [Float], _ expected: [Double], ldc: Int, n: Int, _ message: String, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        var worst = 0.0
        for (index, value) in expected.enumerated() {
            let got = Double(fast[index / n * ldc + index % n])
            worst = max(worst, abs(got - value) / max(1, abs(value)))
        }
        XCTAssertLessThan(worst, 2e-5, message, file: file, line: line)
    }

    func testShapesTransposesAndStridesOnEveryPath() throws {
        // Edges of every tile (1, 5, 12, 33 rows; 17, 31, 65 columns; last row panels of 4 and 8 rows, which have
        // tiles of their own: 64 = 5·12 + 4, 128 = 10·12 + 8 on AVX-512), K past one 512-deep block, and products
        // split across threads by rows (64 × 31) and columns (128 × 196: 96 + 100, blocks of vectors, the last larger);
        // a shallow product past one row block whose row panels run along chunks of B panels, the last ragged;
        // a shallow one wider than tall that splits by rows (thin blocks of columns would share C's lines); last
        // panels of a vector and a few columns, which one tile takes together (17, 25 and 21 columns: 16 + 1 on
        // AVX-512, 16 + 8 + 1 on AVX2, 16 + 4 + 1 on the baseline path).
        let shapes = [
            (1, 1, 1), (5, 17, 3), (12, 32, 64), (33, 65, 700), (64, 31, 1100), (70, 3, 9), (128, 196, 100),
            (40, 400, 150), (200, 1501, 40), (192, 784, 32), (30, 25, 70), (6, 21, 30),
        ]
        for path in KernelPath.available {
            try KernelPath.with(path) {
                for (m, n, k) in shapes {
                    for transposeA in [false, true] {
                        for transposeB in [false, true] {
                            let lda = (transposeA ? m : k) + 3
                            let ldb = (transposeB ? k : n) + 2
                            let ldc = n + 5
                            let a = values((transposeA ? k : m) * lda, seed: 1)
                            let b = values((transposeB ? n : k) * ldb, seed: 2)
                            let old = values(m * ldc, seed: 3)
                            var c = old
                            gemm(
                                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5, a: a,
                                lda: lda,
                                b: b, ldb: ldb, beta: 2, c: &c, ldc: ldc)
                            var expected = reference(
                                transposeA, transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb)
                            for i in 0..<m {
                                for j in 0..<n {
                                    expected[i * n + j] = 0.5 * expected[i * n + j] + 2 * Double(old[i * ldc + j])
                                }
                            }
                            assertClose(
                                c, expected, ldc: ldc, n: n, "\(path) \(m)×\(n)×\(k) tA=\(transposeA) tB=\(transposeB)")
                            // Padding between rows of C is never written.
                            for i in 0..<m { for j in n..<ldc { XCTAssertEqual(c[i * ldc + j], old[i * ldc + j]) } }
                        }
                    }
                }
            }
        }
    }

    func testBetaZeroIgnoresWhatCHeld() throws {
        for path in KernelPath.available {
            try KernelPath.with(path) {
                let (m, n, k) = (13, 40, 20)
                let a = values(m * k, seed: 4)
                let b = values(k * n, seed: 5)
                var c = [Float](repeating: .nan, count: m * n)
                gemm(m: m, n: n, k: k, a: a, b: b, beta: 0, c: &c)
                assertClose(
                    c, reference(false, false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n), ldc: n, n: n, "\(path)")
            }
        }
    }

    func testPackedOperandsAndFusedEpilogueMatchSeparatePasses() throws {
        // Large enough for the thread split, with K in two blocks and ragged edges (386 columns: two past a vector).
        let (m, n, k) = (75, 386, 600)
        let a = values(m * k, seed: 6)
        let b = values(k * n, seed: 7)
        let weightT = values(n * k, seed: 8)
        let rowScale = values(m, seed: 9)
        let rowShift = values(m, seed: 10)
        let columnShift = values(n, seed: 11)
        let residual = values(m * (n + 4), seed: 12)
        for path in KernelPath.available {
            try KernelPath.with(path) {
                for activation in [Activation.identity, .relu, .relu6, .gelu, .silu, .hardSwish] {
                    let product = reference(false, false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n)
                    var expected = product
                    for i in 0..<m {
                        for j in 0..<n {
                            let v =
                                product[i * n + j] * Double(rowScale[i]) + Double(rowShift[i]) + Double(columnShift[j])
                                + Double(residual[i * (n + 4) + j])
                            expected[i * n + j] = Double(activation.apply(Float(v)))
                        }
                    }
                    let packedA = PackedMatrix(side: .left, outer: m, depth: k, source: a)
                    var c = [Float](repeating: .nan, count: m * n)
                    rowScale.withUnsafeBufferPointer { scale in
                        rowShift.withUnsafeBufferPointer { shift in
                            columnShift.withUnsafeBufferPointer { columns in
                                residual.withUnsafeBufferPointer { res in
                                    let epilogue = GemmEpilogue(
                                        rowScale: scale.baseAddress, rowShift: shift.baseAddress,
                                        columnShift: columns.baseAddress, residual: res.baseAddress,
                                        residualStride: n + 4, activation: activation)
                                    gemm(packedA: packedA, n: n, b: b, c: &c, epilogue: epilogue)
                                }
                            }
                        }
                    }
                    assertClose(c, expected, ldc: n, n: n, "\(path) packed A, epilogue \(activation)")
                }
                // A Linear layer's shape: y = x · Wᵀ with W packed once as the right operand.
                let packedB = PackedMatrix(side: .right, outer: n, depth: k, source: weightT, transposed: true)
                var y = [Float](repeating: .nan, count: m * n)
                columnShift.withUnsafeBufferPointer { bias in
                    gemm(m: m, a: a, packedB: packedB, c: &y, epilogue: GemmEpilogue(columnShift: bias.baseAddress))
                }
                var expected = reference(false, true, m: m, n: n, k: k, a: a, lda: k, b: weightT, ldb: k)
                for i in 0..<m { for j in 0..<n { expected[i * n + j] += Double(columnShift[j]) } }
                assertClose(y, expected, ldc: n, n: n, "\(path) packed B + column bias")
            }
        }
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

    /// Packing only reorders: unpacking gives every source value back bit for bit, on each path's panel shape,
    /// for both sides, strided sources, ragged edges and a depth over one K block.
    func testUnpackGivesBackTheExactSource() throws {
        try onEveryPath { path in
            for (outer, depth) in [(1, 1), (7, 5), (75, 600), (33, 17)] {
                let source = random(outer * depth * 2, seed: outer + depth)
                for side in [PackedMatrix.Side.left, .right] {
                    for (outerStride, depthStride) in [(depth, 1), (1, outer), (2 * depth, 2)] {
                        let packed = PackedMatrix(
                            side: side, outer: outer, depth: depth, source: source, outerStride: outerStride,
                            depthStride: depthStride)
                        var back = [Float](repeating: .nan, count: source.count)
                        packed.unpack(into: &back)
                        let positions = (0..<outer).flatMap { o in
                            (0..<depth).map { o * outerStride + $0 * depthStride }
                        }
                        XCTAssertEqual(
                            positions.map { back[$0] }, positions.map { source[$0] },
                            "\(path) \(side) \(outer)×\(depth), strides (\(outerStride), \(depthStride))")
                    }
                }
            }
        }
    }

    /// A matrix packed in parts, reporting the source it has copied as it goes, packs exactly as in one go, and the
    /// runs it reports cover the source once, in order (what lets a tensor give them back early).
    func testPackingInPartsReportsTheSourceOnceAndPacksTheSame() throws {
        try onEveryPath { path in
            let (outer, depth) = (100, 700)  // parts of a few tiles of rows, K past one depth block
            let source = random(outer * depth, seed: 9)
            for side in [PackedMatrix.Side.left, .right] {
                var reported: [Range<Int>] = []
                let parts = source.withUnsafeBufferPointer { source in
                    PackedMatrix(
                        side: side, outer: outer, depth: depth, source: source.baseAddress!, outerStride: depth,
                        depthStride: 1
                    ) { start, count in
                        let offset = start - source.baseAddress!
                        reported.append(offset..<offset + count)
                    }
                }
                let whole = PackedMatrix(
                    side: side, outer: outer, depth: depth, source: source, outerStride: depth, depthStride: 1)
                XCTAssertEqual(Array(parts.panels), Array(whole.panels), "\(path) \(side)")
                XCTAssertGreaterThan(reported.count, 1, "\(path) \(side)")
                XCTAssertEqual(reported.first?.lowerBound, 0)
                XCTAssertEqual(reported.last?.upperBound, outer * depth)
                XCTAssertTrue(zip(reported, reported.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
            }
        }
    }

    /// Ranges of depths inside one block of a packed A (its panels then a block's depth apart), and whole blocks,
    /// multiplied in turn into C, give the product over the whole depth (summed in other pieces, so to rounding).
    func testDepthsInsideABlockOfAPackedMatrixSumToTheWholeProduct() throws {
        try onEveryPath { path in
            let (m, n, k) = (30, 45, 1300)
            let block = PackedMatrix.depthBlock
            // Pieces inside the first two blocks, then the short last block whole.
            let cuts = [0, 100, block, block + 7, 2 * block, k]
            let (a, b) = (random(m * k, seed: 34), random(k * n, seed: 35))
            let packed = PackedMatrix(side: .left, outer: m, depth: k, source: a)
            var expected = [Float](repeating: 0, count: m * n)
            gemmReference(m: m, n: n, k: k, a: a, b: b, c: &expected)
            var summed = [Float](repeating: .nan, count: m * n)
            for (first, end) in zip(cuts, cuts.dropFirst()) {
                b.withUnsafeBufferPointer { b in
                    gemm(
                        packedA: packed.depths(first..<end), n: n, b: b.baseAddress! + first * n,
                        beta: first == 0 ? 0 : 1, c: &summed)
                }
            }
            assertClose(summed, expected, "\(path)")
        }
    }

    /// A packed A's depth blocks, each multiplied in turn into C (beta 1 after the first, the epilogue on the last),
    /// give the product over the whole depth bit for bit: the GEMM sums the same blocks in the same order.
    func testDepthBlocksOfAPackedMatrixSumToTheWholeProduct() throws {
        try onEveryPath { path in
            let (m, n, k) = (30, 45, 1300)  // three depth blocks, the last one short
            let block = PackedMatrix.depthBlock
            XCTAssertGreaterThan(k, 2 * block)
            let (a, b, shift) = (random(m * k, seed: 31), random(k * n, seed: 32), random(m, seed: 33))
            let packed = PackedMatrix(side: .left, outer: m, depth: k, source: a)
            var whole = [Float](repeating: .nan, count: m * n)
            var summed = whole
            shift.withUnsafeBufferPointer { shift in
                let epilogue = GemmEpilogue(rowShift: shift.baseAddress, activation: .relu)
                gemm(packedA: packed, n: n, b: b, c: &whole, epilogue: epilogue)
                for first in stride(from: 0, to: k, by: block) {
                    let depths = first..<min(k, first + block)
                    b.withUnsafeBufferPointer { b in
                        gemm(
                            packedA: packed.depths(depths), n: n, b: b.baseAddress! + first * n,
                            beta: first == 0 ? 0 : 1, c: &summed, epilogue: depths.upperBound == k ? epilogue : nil)
                    }
                }
            }
            XCTAssertEqual(summed, whole, "\(path)")
        }
    }
}
