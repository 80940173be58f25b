import CKernels
import COpenBLAS

/// `gemm` splits large products into one block of rows or columns per thread, except inside `parallelFor`
/// (or `withSingleThreadedGemm`), whose threads are already busy.
enum GemmThreading {
    static var splitting: Bool { zoo_gemm_stays_on_thread() == 0 }
    static let minimumFlopsToSplit = 1 << 22
    /// Operands this large are split whatever their work: a product of one row (a classifier at batch 1) is
    /// bound by reading its weights, and two cores read twice as fast as one.
    static let minimumFloatsToSplit = 1 << 18
    /// A thread's block of columns times the depth below which the product splits by rows instead, where
    /// the rows split as evenly (see `runGemm`).
    static let thinColumnBlock = 1 << 16
}

/// Runs `body` with the GEMMs it calls on this thread kept on it, unsplit: for callers that parallelise over
/// many small independent products themselves (the flag is per thread, so other threads' GEMMs still split).
@inline(__always)
public func withSingleThreadedGemm<T>(_ body: () -> T) -> T {
    let previous = zoo_gemm_stays_on_thread()
    zoo_set_gemm_stays_on_thread(1)
    defer { zoo_set_gemm_stays_on_thread(previous) }
    return body()
}

/// What the GEMM applies as it stores C, so no second pass over the output is needed:
/// C = activation((αAB + βC) · rowScale[i] + rowShift[i] + columnShift[j] + residual[i, j]).
public struct GemmEpilogue {
    /// M factors, one per row of C (a conv's folded batch-norm scale); nil for 1.
    public var rowScale: UnsafePointer<Float>?
    /// M offsets, one per row of C (a conv's bias); nil for 0.
    public var rowShift: UnsafePointer<Float>?
    /// N offsets, one per column of C (a Linear layer's bias); nil for 0.
    public var columnShift: UnsafePointer<Float>?
    /// An M × N matrix added before the activation (a residual branch); nil for none.
    public var residual: UnsafePointer<Float>?
    /// Elements from one row of `residual` to the next; must be set (usually to N) when there is a residual.
    public var residualStride: Int
    /// Applied last, to the sum.
    public var activation: Activation

    /// An epilogue; the defaults store C unchanged.
    ///
    /// - Parameters:
    ///   - rowScale: M per-row factors, or nil.
    ///   - rowShift: M per-row offsets, or nil.
    ///   - columnShift: N per-column offsets, or nil.
    ///   - residual: An M × N matrix to add, or nil.
    ///   - residualStride: The residual's row stride in elements.
    ///   - activation: The activation applied last.
    public init(
        rowScale: UnsafePointer<Float>? = nil, rowShift: UnsafePointer<Float>? = nil,
        columnShift: UnsafePointer<Float>? = nil, residual: UnsafePointer<Float>? = nil,
        residualStride: Int = 0, activation: Activation = .identity
    ) {
        self.rowScale = rowScale
        self.rowShift = rowShift
        self.columnShift = columnShift
        self.residual = residual
        self.residualStride = residualStride
        self.activation = activation
    }

    /// The same epilogue for the block of C that starts at (row, column).
    func offset(row: Int, column: Int) -> GemmEpilogue {
        var moved = self
        moved.rowScale = rowScale.map { $0 + row }
        moved.rowShift = rowShift.map { $0 + row }
        moved.columnShift = columnShift.map { $0 + column }
        moved.residual = residual.map { $0 + row * residualStride + column }
        return moved
    }

    var c: zoo_epilogue {
        zoo_epilogue(
            row_scale: rowScale, row_shift: rowShift, column_shift: columnShift, residual: residual,
            residual_stride: residualStride, activation: activation.c)
    }
}

/// A weight matrix packed once into the GEMM's panel layout (for inference: weights never change).
/// It is the left operand A (a conv's O × patch weights) or the right operand B (a Linear layer's Wᵀ).
public final class PackedMatrix: @unchecked Sendable {
    /// Which operand of the product the packed matrix is.
    public enum Side: Int32, Sendable {
        /// A, the M × K left operand.
        case left = 0
        /// B, the K × N right operand.
        case right = 1
    }
    let side: Side
    let storage: UnsafeMutablePointer<Float>
    let packed: zoo_packed_matrix
    /// Where element (o, d) of the matrix lay in its source, for `unpack`.
    private let outerStride: Int, depthStride: Int
    /// The matrix whose panels this one views (`depths`), kept alive by it; nil when the panels are this one's.
    private let whole: PackedMatrix?

    /// Packs op(source): for `.left`, an outer×depth matrix A; for `.right`, a depth×outer matrix B.
    /// `transposed` says the source is stored the other way round (B = Wᵀ for a row-major W is `transposed`).
    public convenience init(side: Side, outer: Int, depth: Int, source: UnsafePointer<Float>, transposed: Bool = false)
    {
        // Stored outer-major (A as is, or B as the transpose of a row-major W) or depth-major.
        let outerMajor = (side == .left) != transposed
        self.init(
            side: side, outer: outer, depth: depth, source: source,
            outerStride: outerMajor ? depth : 1, depthStride: outerMajor ? 1 : outer)
    }

    /// Packs the matrix whose element (o, d) is source[o · outerStride + d · depthStride]. `consumed` is told of each
    /// run of source floats the packing no longer reads, as it goes (when the source's rows are contiguous, in parts
    /// of about 64 KB): a caller whose values will live packed only can give those pages back at once, so that the
    /// values and their packed copy are never both held in full.
    public init(
        side: Side, outer: Int, depth: Int, source: UnsafePointer<Float>, outerStride: Int, depthStride: Int,
        consumed: ((UnsafePointer<Float>, Int) -> Void)? = nil
    ) {
        self.side = side
        self.outerStride = outerStride
        self.depthStride = depthStride
        whole = nil
        storage = .allocate(capacity: zoo_packed_count(side.rawValue, outer, depth))
        var part = outer
        if consumed != nil && outerStride == depth && depthStride == 1 {
            let tile = side == .left ? Self.tile.rows : Self.tile.columns
            part = max(1, (1 << 14) / max(1, depth) / tile) * tile
        }
        var packed = zoo_packed_matrix()
        for first in stride(from: 0, to: max(outer, 1), by: part) {
            let count = min(part, outer - first)
            packed = zoo_pack(side.rawValue, outer, depth, first, count, source, outerStride, depthStride, storage)
            if part < outer { consumed?(source + first * depth, count * depth) }
        }
        self.packed = packed
    }

    /// The active path's register tile: rows of A and columns of B per micro-kernel call.
    static var tile: (rows: Int, columns: Int) {
        var (rows, columns) = (0, 0)
        zoo_gemm_tile(&rows, &columns)
        return (rows, columns)
    }

    /// The active path's depth block: the GEMM packs and runs the depth in blocks of this many, one after another.
    static var depthBlock: Int { zoo_gemm_depth_block() }

    /// The depths `depths` of the matrix, as a matrix of their own without a copy: a range of whole depth blocks
    /// (the last may be short) is itself packed, and so, for A, is a range inside one block (its panels a block's
    /// depth apart). For a caller that sums a product block by block, C += A[:, block] · B[block, :], building B
    /// a block at a time, or that splits the sum between threads.
    func depths(_ depths: Range<Int>) -> PackedMatrix {
        PackedMatrix(depths: depths, of: whole ?? self)
    }

    private init(depths: Range<Int>, of whole: PackedMatrix) {
        let block = Self.depthBlock
        let depth = whole.packed.depth
        let wholeBlocks =
            depths.lowerBound % block == 0 && (depths.upperBound % block == 0 || depths.upperBound == depth)
        let first = depths.lowerBound / block * block  // the block the range starts in
        let insideOneBlock = whole.side == .left && !depths.isEmpty && depths.upperBound <= first + block
        precondition(
            depths.lowerBound >= 0 && depths.upperBound <= depth && (wholeBlocks || insideOneBlock),
            "PackedMatrix: depths \(depths) are neither whole blocks nor inside one block of A")
        self.whole = whole
        side = whole.side
        (outerStride, depthStride) = (0, 0)
        // Block by block, each block holding every (padded) outer index at its depths; inside a block, a panel
        // holds its rows depth by depth.
        let blockStart = whole.storage + zoo_packed_count(side.rawValue, whole.outer, 1) * first
        var packed = whole.packed
        if wholeBlocks {
            storage = blockStart
        } else {
            storage = blockStart + (depths.lowerBound - first) * Self.tile.rows
            packed.panel_depth = min(block, depth - first)
        }
        packed.data = UnsafePointer(storage)
        packed.depth = depths.count
        self.packed = packed
    }

    /// Panels shaped as `layout`'s, for the caller to fill (`storage`): a matrix computed from packed ones.
    init(panelsLike layout: PackedMatrix) {
        whole = nil
        side = layout.side
        (outerStride, depthStride) = (0, 0)
        storage = .allocate(capacity: layout.panels.count)
        var packed = layout.packed
        packed.data = UnsafePointer(storage)
        self.packed = packed
    }

    deinit { if whole == nil { storage.deallocate() } }

    /// Writes the matrix back where it was packed from, exactly (packing only reorders): `source` as given to init.
    public func unpack(into source: UnsafeMutablePointer<Float>) {
        precondition(
            whole == nil && (outerStride, depthStride) != (0, 0),
            "PackedMatrix: a view or a computed matrix has no source")
        withUnsafePointer(to: packed) { zoo_unpack($0, source, outerStride, depthStride) }
    }

    /// The packed floats, panel after panel (padding included).
    var panels: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: storage, count: zoo_packed_count(side.rawValue, outer, packed.depth))
    }

    /// Rows of A or columns of B: the dimension the panels cut.
    private var outer: Int { side == .left ? packed.rows : packed.columns }

    /// Whether the panels fit the path kernels run on now (`KernelPath.select` changes the tile).
    var isCurrent: Bool { packed.isa == zoo_isa_active() }
}

/// C (M×N) = epilogue(alpha · op(A) · op(B) + beta · C), row-major, through the zoo's packed GEMM (BLAS's sgemm
/// with the epilogue fused into the store); large products are split across threads.
///
/// - Parameters:
///   - transposeA: Whether A is stored K×M, so that op(A) = Aᵀ.
///   - transposeB: Whether B is stored N×K, so that op(B) = Bᵀ.
///   - m: M, the rows of C and op(A).
///   - n: N, the columns of C and op(B).
///   - k: K, the depth of the product.
///   - alpha: The factor on op(A)·op(B).
///   - a: The left operand.
///   - lda: Elements between A's stored rows; nil for a contiguous A (K, or M when transposed).
///   - b: The right operand.
///   - ldb: Elements between B's stored rows; nil for a contiguous B (N, or K when transposed).
///   - beta: The factor on C's previous contents (0: C is overwritten, 1: the product is added).
///   - c: The M×N result.
///   - ldc: Elements between C's rows; nil for N.
///   - epilogue: Per-row or per-column terms, a residual and an activation applied as C is stored; nil for none.
@inline(__always)
public func gemm(
    transposeA: Bool = false, transposeB: Bool = false,
    m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
    b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
    epilogue: GemmEpilogue? = nil
) {
    let lda = lda ?? (transposeA ? m : k)
    let ldb = ldb ?? (transposeB ? k : n)
    let call = GemmOperands(
        a: a, aStrides: transposeA ? (1, lda) : (lda, 1), b: b, bStrides: transposeB ? (1, ldb) : (ldb, 1), packed: nil)
    runGemm(call, m: m, n: n, k: k, alpha: alpha, beta: beta, c: c, ldc: ldc ?? n, epilogue: epilogue)
}

/// C = epilogue(op(A) · B) with A packed once (`PackedMatrix(side: .left, …)`); B row-major K×N unless `transposeB`.
public func gemm(
    packedA: PackedMatrix, n: Int, b: UnsafePointer<Float>, ldb: Int? = nil, transposeB: Bool = false,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil, epilogue: GemmEpilogue? = nil
) {
    precondition(packedA.side == .left && packedA.isCurrent)
    let (m, k) = (packedA.packed.rows, packedA.packed.depth)
    let ldb = ldb ?? (transposeB ? k : n)
    let call = GemmOperands(a: nil, aStrides: (0, 0), b: b, bStrides: transposeB ? (1, ldb) : (ldb, 1), packed: packedA)
    runGemm(call, m: m, n: n, k: k, alpha: 1, beta: beta, c: c, ldc: ldc ?? n, epilogue: epilogue)
}

/// C = epilogue(A · op(B)) with B packed once (`PackedMatrix(side: .right, …)`); A row-major M×K.
public func gemm(
    m: Int, a: UnsafePointer<Float>, lda: Int? = nil, packedB: PackedMatrix,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil, epilogue: GemmEpilogue? = nil
) {
    precondition(packedB.side == .right && packedB.isCurrent)
    let (k, n) = (packedB.packed.depth, packedB.packed.columns)
    let call = GemmOperands(a: a, aStrides: (lda ?? k, 1), b: nil, bStrides: (0, 0), packed: packedB)
    runGemm(call, m: m, n: n, k: k, alpha: 1, beta: beta, c: c, ldc: ldc ?? n, epilogue: epilogue)
}

private struct GemmOperands {
    var a: UnsafePointer<Float>?, aStrides: (row: Int, column: Int)
    var b: UnsafePointer<Float>?, bStrides: (row: Int, column: Int)
    var packed: PackedMatrix?
}

private func runGemm(
    _ operands: GemmOperands, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
    c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: GemmEpilogue?
) {
    KernelProfile.measure(.gemm, shape: "\(m)×\(n)×\(k)") {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            // An empty sum: C = epilogue(beta·C); with beta 0, C is not read (it may be uninitialised), as in BLAS.
            for row in 0..<m { for col in 0..<n { c[row * ldc + col] = beta == 0 ? 0 : c[row * ldc + col] * beta } }
            if let epilogue { applyEpilogue(epilogue, c: c, m: m, n: n, ldc: ldc) }
            return
        }
        // One block of rows or columns per thread, each a multiple of the micro-kernel's tile.
        let (tileRows, tileColumns) = PackedMatrix.tile
        let splits =
            GemmThreading.splitting
            && (2 * m * n * k >= GemmThreading.minimumFlopsToSplit
                || (m + n) * k >= GemmThreading.minimumFloatsToSplit)
        // A block of columns may end in a narrower tile, except in a packed B, whose panels are whole tiles.
        let columnTile = operands.packed?.side == .right ? tileColumns : zoo_vector_width()
        let byColumns = GemmSplit(extent: n, tile: columnTile, other: m, splits: splits)
        let byRows = GemmSplit(extent: m, tile: tileRows, other: n, splits: splits)
        // Along the longer side, unless the other clearly leaves the busiest thread less work (49 columns, a
        // 7×7 map, split 32 + 17, while 160 rows split 84 + 76); "clearly", since parts that split the rows
        // each pack all of B. But thin blocks of columns (a block times the depth under `thinColumnBlock`) go by rows
        // whenever the rows split as evenly: two threads writing the two ends of every C row meet on each row's
        // boundary lines (the prefetchers pull the neighbour's), which cost 192 × 784 × 32 (MobileNetV2's
        // 32→192 at 28²) 30 % on Zen 4; thicker blocks lose less to that than each thread reading all of B.
        let (longer, shorter) = n >= m ? (byColumns, byRows) : (byRows, byColumns)
        let rowsAsEven = byRows.parts > 1 && byRows.largestPart * 16 <= byColumns.largestPart * 17
        let splitColumns =
            (n >= m) != (shorter.largestPart * 16 < longer.largestPart * 15)
            && !(rowsAsEven && byColumns.block * k < GemmThreading.thinColumnBlock)
        let (extent, parts, block) =
            splitColumns ? (n, byColumns.parts, byColumns.block) : (m, byRows.parts, byRows.block)
        let run = { (part: Int) in
            let start = part * block
            let end = part == parts - 1 ? extent : min(extent, start + block)
            guard start < end else { return }
            let (row, column) = splitColumns ? (0, start) : (start, 0)
            let packedOffset = operands.packed?.side == (splitColumns ? .right : .left) ? start : 0
            var finish = epilogue.map { $0.offset(row: row, column: column).c }
            withUnsafePointer(to: &finish) { finishPointer in
                var call = zoo_gemm_call(
                    m: splitColumns ? m : end - start, n: splitColumns ? end - start : n, k: k, alpha: alpha,
                    beta: beta,
                    a: operands.a.map { $0 + row * operands.aStrides.row }, a_row: operands.aStrides.row,
                    a_col: operands.aStrides.column,
                    b: operands.b.map { $0 + column * operands.bStrides.column }, b_row: operands.bStrides.row,
                    b_col: operands.bStrides.column,
                    c: c + row * ldc + column, ldc: ldc, packed: nil, packed_offset: packedOffset,
                    epilogue: epilogue == nil
                        ? nil : UnsafeRawPointer(finishPointer).assumingMemoryBound(to: zoo_epilogue.self))
                if let packed = operands.packed {
                    withUnsafePointer(to: packed.packed) {
                        call.packed = $0
                        zoo_gemm(&call)
                    }
                } else {
                    zoo_gemm(&call)
                }
            }
        }
        if parts == 1 {
            run(0)
        } else {
            runParts(parts, run)  // the parts write disjoint blocks of C
        }
    }
}

/// A product cut along one dimension into one block per thread: blocks of `block`, a multiple of the tile, and
/// the last whatever is left.
private struct GemmSplit {
    let parts: Int, block: Int
    /// Elements of C the busiest part computes.
    let largestPart: Int

    init(extent: Int, tile: Int, other: Int, splits: Bool) {
        parts = splits ? min(Threads.count, max(1, extent / tile)) : 1
        // The share rounded up to tiles, or down with the rest in the last block where that one is smaller
        // (196 columns in vectors of 16: 96 + 100, not 112 + 84).
        let up = ((extent + parts - 1) / parts + tile - 1) / tile * tile
        let down = extent / parts / tile * tile
        let lastOfDown = extent - (parts - 1) * down
        (block, largestPart) = parts > 1 && lastOfDown < up ? (down, lastOfDown * other) : (up, min(up, extent) * other)
    }
}

/// The epilogue as a separate pass (for the K = 0 corner).
private func applyEpilogue(_ e: GemmEpilogue, c: UnsafeMutablePointer<Float>, m: Int, n: Int, ldc: Int) {
    for i in 0..<m {
        let row = c + i * ldc
        for j in 0..<n {
            var v = row[j] * (e.rowScale?[i] ?? 1) + (e.rowShift?[i] ?? 0) + (e.columnShift?[j] ?? 0)
            v += e.residual?[i * e.residualStride + j] ?? 0
            row[j] = e.activation.apply(v)
        }
    }
}

/// OpenBLAS's SGEMM on one thread, for `zoo bench kernels` to compare against.
public func openBLASGemm(
    m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
) {
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, c,
        Int32(n))
}

/// The kernel OpenBLAS picked for this CPU ("Haswell", "SkylakeX", "Prescott", …).
public var openBLASCoreName: String { String(cString: openblas_get_corename()) }

/// Gradients of C = A·B (row-major, no transposes), accumulated: dA += dC·Bᵀ, dB += Aᵀ·dC.
///
/// - Parameters:
///   - m: M, the rows of A and C.
///   - n: N, the columns of B and C.
///   - k: K, the columns of A and rows of B.
///   - a: The forward pass's A, M×K.
///   - b: The forward pass's B, K×N.
///   - outputGrad: dC, M×N.
///   - aGrad: Accumulates dA (M×K); nil to skip.
///   - bGrad: Accumulates dB (K×N); nil to skip.
public func gemmBackward(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
    aGrad: UnsafeMutablePointer<Float>?, bGrad: UnsafeMutablePointer<Float>?
) {
    if let aGrad { gemm(transposeB: true, m: m, n: k, k: n, a: outputGrad, b: b, beta: 1, c: aGrad) }
    if let bGrad { gemm(transposeA: true, m: k, n: n, k: m, a: a, b: outputGrad, beta: 1, c: bGrad) }
}

/// Reference triple loop (Double accumulation) that the tests compare `gemm` against.
public func gemmReference(
    transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
) {
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let av = transposeA ? a[p * m + i] : a[i * k + p]
                let bv = transposeB ? b[j * k + p] : b[p * n + j]
                sum += Double(av) * Double(bv)
            }
            c[i * n + j] = Float(sum)
        }
    }
}
