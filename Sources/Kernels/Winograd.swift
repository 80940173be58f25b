import CKernels

// Winograd F(4×4, 3×3) (Lavin & Gray 2015) for stride-1 3×3 convs at inference. The output is cut into 4×4
// tiles, each computed from a 6×6 input tile d as Aᵀ[Σ_c (G g Gᵀ) ⊙ (Bᵀ d B)]A: the sum over input channels
// is, for each of the 36 points ξ of the transformed tile, one GEMM (O × C filters times C × tiles inputs), so
// a tile costs 36 multiply-adds per channel pair instead of 16 · 9 = 144. The transforms are the C kernels'
// `zoo_winograd_input` and `zoo_winograd_output` (which also applies the conv's epilogue). The filters are
// transformed and packed once, at plan time, or, for larger convs, combined from their packed taps as they run.

extension Conv2dGeometry {
    /// Whether Winograd beats the direct paths: with at least 16 input and output channels, so that the
    /// transforms cost little beside the products, and 16 tiles, one GEMM panel (measured on Zen 3 on
    /// ResNet-50's and DenseNet-121's 3×3 convs: 2–3× faster from 14×14 maps up, no faster on 7×7 at batch 1).
    /// Convs past 256 × 256 channels stay direct: combining their points from the taps (`winogradCombinesTaps`)
    /// costs more than it saves (512 × 512 at 7×7, batch 8: 35 ms against 12 on Zen 4), where 256 × 256 at 14×14
    /// gains 1.7 → 1.1 ms at batch 1 and 12.7 → 6.2 ms at batch 8.
    var winogradWins: Bool {
        inChannels >= 16 && outChannels >= 16 && inChannels * outChannels <= 256 * 256
            && batch * winogradTilesPerImage >= 16
    }

    /// Whether the conv keeps its filters as 9 packed taps (the weights, reordered: they can be given back) and
    /// combines each of the 36 points from them as it runs, instead of keeping the points (4× the weights: 9.4 MB
    /// for ResNet-50's four 128 × 128 convs, 38 MB more for its 256 × 256 ones). Combining costs
    /// 0.1 ms a call at batch 1 (0.67 → 0.77 ms on Zen 4), 4 % at batch 8; past 64 × 64 pairs only, since
    /// DenseNet-121 runs 58 convs of 128 × 32 and would pay it 58 times a forward.
    var winogradCombinesTaps: Bool { inChannels * outChannels > 64 * 64 }

    /// Tiles of 4×4 outputs along each side.
    var winogradTiles: (rows: Int, columns: Int) { ((outHeight + 3) / 4, (outWidth + 3) / 4) }
    var winogradTilesPerImage: Int { winogradTiles.rows * winogradTiles.columns }

    var winogradGeometry: zoo_winograd_geometry {
        zoo_winograd_geometry(
            height: height, width: width, out_height: outHeight, out_width: outWidth, pad_top: padTop,
            pad_left: padLeft, tiles_h: winogradTiles.rows, tiles_w: winogradTiles.columns)
    }
}

/// G, the filter transform of F(4×4, 3×3): a 3-tap filter becomes 6 values.
private let filterTransform: [[Double]] = [
    [1.0 / 4, 0, 0],
    [-1.0 / 6, -1.0 / 6, -1.0 / 6],
    [-1.0 / 6, 1.0 / 6, -1.0 / 6],
    [1.0 / 24, 1.0 / 12, 1.0 / 6],
    [1.0 / 24, -1.0 / 12, 1.0 / 6],
    [0, 0, 1],
]

/// The filters of a Winograd conv as it runs them.
enum WinogradFilters {
    /// The 36 points of the transformed filters, packed (`winogradFilters`).
    case points([PackedMatrix])
    /// The 9 taps of the filters, packed alike (tap (i, j) is W[:, :, i, j]): each point is combined from them.
    case taps([PackedMatrix])

    /// Row r of the transformed filters, points ξ = (r, c) for c in 0..<6: U[ξ] = Σ_ij G[r][i] · G[c][j] · tap(i, j),
    /// combined from the taps as Σ_j G[c][j] · (Σ_i G[r][i] · tap(i, j)), so that each tap is read once per row
    /// rather than once per point (the taps of 256 × 256 channels, 2.4 MB, do not stay in a core's cache).
    func row(_ r: Int) -> [PackedMatrix] {
        switch self {
        case .points(let points): return Array(points[6 * r..<6 * r + 6])
        case .taps(let taps):
            let row = (0..<6).map { _ in PackedMatrix(panelsLike: taps[0]) }
            zoo_winograd_filter_row(
                taps.map { $0.packed.data }, filterTransform[r].map(Float.init),
                filterTransform.joined().map(Float.init), taps[0].panels.count, row.map { $0.storage })
            return row
        }
    }

    /// All 36 points, combined once, for a call that runs them on several blocks of tiles (held for the call only:
    /// 9.7 MB for 256 × 256 channels).
    var allPoints: WinogradFilters {
        if case .taps = self { return .points((0..<6).flatMap(row)) }
        return self
    }
}

/// What each filter tap (i, j), at index 3i + j, weighs in point ξ = (r, c) of the transformed filter: G[r][i] · G[c][j].
private func winogradTapWeights(_ xi: Int) -> [Double] {
    (0..<9).map { t in filterTransform[xi / 6][t / 3] * filterTransform[xi % 6][t % 3] }
}

/// The filters in the transformed domain, U = G g Gᵀ for each (output, input) channel pair, packed as 36
/// O × C left operands, one per point ξ = (r, c) of the 6×6 tile: U[ξ] = Σ_ij G[r][i] · g[i][j] · G[c][j],
/// computed in Double and rounded once, one point at a time (a temporary of O × C, not 36 of them).
func winogradFilters(_ g: Conv2dGeometry, weight: UnsafePointer<Float>) -> [PackedMatrix] {
    let pairs = g.outChannels * g.inChannels
    let point = UnsafeMutablePointer<Float>.allocate(capacity: pairs)
    defer { point.deallocate() }
    return (0..<36).map { xi in
        let tapWeights = winogradTapWeights(xi)
        for pair in 0..<pairs {
            let filter = weight + pair * 9
            var sum = 0.0
            for t in 0..<9 { sum += tapWeights[t] * Double(filter[t]) }
            point[pair] = Float(sum)
        }
        return PackedMatrix(side: .left, outer: g.outChannels, depth: g.inChannels, source: point)
    }
}

/// output = epilogue(conv(input)) for a stride-1 3×3 conv, with `filters` from `winogradFilters`. The tiles of
/// all images, one after another, are cut into blocks small enough that a block's transformed inputs and
/// products stay in cache between the three steps (input transform, 36 GEMMs, output transform). With
/// enough blocks each thread runs whole blocks; otherwise the threads share each step of the one block.
func convolveByWinograd(
    _ g: Conv2dGeometry, input: UnsafePointer<Float>, filters: WinogradFilters, epilogue e: ConvEpilogue,
    output: UnsafeMutablePointer<Float>
) {
    let tiles = g.batch * g.winogradTilesPerImage
    let block = g.winogradBlock
    let blocks = (tiles + block - 1) / block
    // Points combined from taps: once for the call when several blocks use them, else as each GEMM needs it.
    let filters = blocks > 1 ? filters.allPoints : filters
    var geometry = g.winogradGeometry
    withUnsafePointer(to: &geometry) { geometry in
        let run = { (first: Int, scratch: UnsafeMutablePointer<Float>, parallel: Bool) in
            winogradBlock(
                g, geometry, tiles: first..<min(tiles, first + block), input: input, filters: filters, epilogue: e,
                output: output, scratch: scratch, parallel: parallel)
        }
        if blocks >= Threads.count {
            parallelFor(blocks) { range in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: g.winogradScratch)
                defer { scratch.deallocate() }
                for b in range { run(b * block, scratch, false) }
            }
        } else {
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: g.winogradScratch)
            defer { scratch.deallocate() }
            run(0, scratch, true)
        }
    }
}

/// The three steps for one block of tiles (numbered across the batch: image n's tile t is n · per image + t),
/// in `scratch` (`winogradScratch` floats): transformed inputs (36 × C × count), then products (36 × O × count).
private func winogradBlock(
    _ g: Conv2dGeometry, _ geometry: UnsafePointer<zoo_winograd_geometry>, tiles: Range<Int>,
    input: UnsafePointer<Float>, filters: WinogradFilters, epilogue e: ConvEpilogue,
    output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, parallel: Bool
) {
    let perImage = g.winogradTilesPerImage
    let images = tiles.lowerBound / perImage..<(tiles.upperBound + perImage - 1) / perImage
    let count = tiles.count
    let (transformed, products) = (scratch, scratch + 36 * g.inChannels * count)
    // Image n's share of the block: its tiles, and where they sit in the block.
    func share(_ n: Int) -> (first: Int, count: Int, offset: Int) {
        let first = max(tiles.lowerBound, n * perImage)
        let end = min(tiles.upperBound, (n + 1) * perImage)
        return (first - n * perImage, end - first, first - tiles.lowerBound)
    }
    func forEach(_ items: Int, _ body: (Int) -> Void) {
        if parallel { parallelFor(items) { $0.forEach(body) } } else { (0..<items).forEach(body) }
    }
    let (inPlane, outPlane) = (g.height * g.width, g.outHeight * g.outWidth)
    forEach(g.inChannels * images.count) { item in
        let (c, n) = (item / images.count, images.lowerBound + item % images.count)
        let (first, tileCount, offset) = share(n)
        zoo_winograd_input(
            geometry, input + (n * g.inChannels + c) * inPlane, first, tileCount,
            transformed + c * count + offset, g.inChannels * count)
    }
    func multiply(_ point: Int, by filter: PackedMatrix) {
        gemm(
            packedA: filter, n: count, b: transformed + point * g.inChannels * count,
            c: products + point * g.outChannels * count)
    }
    switch filters {
    case .points(let points): forEach(36) { multiply($0, by: points[$0]) }
    // Points combined from taps a row at a time (see `row`): each thread runs rows of six.
    case .taps: forEach(6) { r in for (c, filter) in filters.row(r).enumerated() { multiply(6 * r + c, by: filter) } }
    }
    forEach(g.outChannels * images.count) { item in
        let (o, n) = (item / images.count, images.lowerBound + item % images.count)
        let (first, tileCount, offset) = share(n)
        let plane = (n * g.outChannels + o) * outPlane
        zoo_winograd_output(
            geometry, products + o * count + offset, first, tileCount, g.outChannels * count, e.scale?[o] ?? 1,
            e.shift?[o] ?? 0, e.residual.map { $0 + plane }, e.activation.c, output + plane)
    }
}

extension Conv2dGeometry {
    /// Tiles per block: a block's transformed inputs and products, 36 · (C + O) floats a tile, take at most
    /// about 4 MB (measured on Zen 3: larger blocks fall out of cache at batch 8), and at least one GEMM panel.
    /// Several blocks come in a multiple of the thread count and of equal size (to a vector), so that every
    /// thread gets the same work: DenseNet's 196 tiles at 56² once made blocks of 176 and 20.
    var winogradBlock: Int {
        let tiles = batch * winogradTilesPerImage
        let fitting = max(16, (1 << 20) / (36 * (inChannels + outChannels)))
        guard tiles > fitting else { return tiles }
        let threads = Threads.count
        let blocks = ((tiles + fitting - 1) / fitting + threads - 1) / threads * threads
        return ((tiles + blocks - 1) / blocks + 7) / 8 * 8
    }

    /// Floats of scratch one block needs.
    var winogradScratch: Int { 36 * (inChannels + outChannels) * winogradBlock }
}
