import CKernels

// 2-D convolution, NCHW input, OIHW weights (O × I/groups × KH × KW), as torch.nn.functional.conv2d.
// 1×1 stride-1 unpadded convs are a plain GEMM on the input; depthwise convs run a direct SIMD loop;
// everything else is im2col + GEMM per image and group, except that most stride-1 convs skip im2col and run
// as one GEMM per filter tap on the zero-padded input (shifted taps; backward still builds the im2col
// matrix), and at inference stride-1 3×3 convs run as Winograd F(4×4, 3×3) where it wins (Winograd.swift).

/// Sizes of one convolution; padding may be asymmetric (TF "same").
public struct Conv2dGeometry: Equatable, Sendable {
    /// The input's N, C, H and W.
    public var batch: Int, inChannels: Int, height: Int, width: Int
    /// The output channels O and the filter's KH × KW.
    public var outChannels: Int, kernelHeight: Int, kernelWidth: Int
    /// The step between output positions, in input pixels.
    public var strideH: Int, strideW: Int
    /// Zero rows and columns added on each side of the input.
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    /// The spacing between filter taps, in input pixels (1 for a dense filter).
    public var dilationH: Int, dilationW: Int
    /// Channel groups (torch's `groups`): C and O both divide by it; C for a depthwise conv.
    public var groups: Int

    /// The geometry of a convolution, with the defaults of torch.nn.functional.conv2d.
    ///
    /// - Parameters:
    ///   - batch: N, the number of images.
    ///   - inChannels: C, the input's channels.
    ///   - height: H, the input's height in pixels.
    ///   - width: W, the input's width in pixels.
    ///   - outChannels: O, the output's channels.
    ///   - kernel: (KH, KW), the filter's size.
    ///   - stride: (vertical, horizontal) stride.
    ///   - padding: Zeros added on each side; unequal sides give TF/timm "same" padding.
    ///   - dilation: (vertical, horizontal) spacing of the filter taps.
    ///   - groups: The number of channel groups.
    public init(
        batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int,
        kernel: (Int, Int), stride: (Int, Int) = (1, 1),
        padding: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0),
        dilation: (Int, Int) = (1, 1), groups: Int = 1
    ) {
        self.batch = batch
        self.inChannels = inChannels
        self.height = height
        self.width = width
        self.outChannels = outChannels
        kernelHeight = kernel.0
        kernelWidth = kernel.1
        strideH = stride.0
        strideW = stride.1
        padTop = padding.top
        padLeft = padding.left
        padBottom = padding.bottom
        padRight = padding.right
        dilationH = dilation.0
        dilationW = dilation.1
        self.groups = groups
    }

    /// OH, the output's height: ⌊(H + padding − dilation·(KH − 1) − 1) / stride⌋ + 1, as torch.
    public var outHeight: Int { (height + padTop + padBottom - dilationH * (kernelHeight - 1) - 1) / strideH + 1 }
    /// OW, the output's width, computed as `outHeight`.
    public var outWidth: Int { (width + padLeft + padRight - dilationW * (kernelWidth - 1) - 1) / strideW + 1 }
    /// The output's shape, N × O × OH × OW.
    public var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }
    var inPerGroup: Int { inChannels / groups }
    var outPerGroup: Int { outChannels / groups }
    /// Rows of the im2col matrix for one group: (I/groups)·KH·KW.
    var patchSize: Int { inPerGroup * kernelHeight * kernelWidth }
    /// A 1×1 conv that reads every input position once, unpadded: a GEMM on the input as it lies.
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideH == 1 && strideW == 1
            && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }
    /// One input and one output channel per group (groups = C = O > 1): run by the direct depthwise kernel.
    public var isDepthwise: Bool { groups == inChannels && groups == outChannels && groups > 1 }
    /// Floating-point operations of the forward pass, 2 per multiply-add (the bias not counted).
    public var flops: Double {
        2.0 * Double(batch * outChannels * outHeight * outWidth * patchSize)
    }
}

// MARK: - im2col / col2im

/// Unfolds one image into its patch matrix (torch.nn.functional.unfold), parallel over rows.
///
/// - Parameters:
///   - image: One image, C × H × W, of `channels` channels (a group's share of the input).
///   - channels: C, the channels to unfold; `g`'s own channel counts are not used.
///   - g: The convolution's spatial sizes, stride, padding and dilation.
///   - columns: Receives the (C·KH·KW × OH·OW) matrix, row c·KH·KW + i·KW + j for channel c and tap (i, j);
///     taps that fall outside the image are zero.
///   - rowStride: Elements from one row's start to the next (default: the positions unfolded); larger values
///     lay several images side by side in one wide matrix.
///   - outputRows: The output rows whose patches to unfold (default all): the matrix then has
///     `outputRows.count`·OW columns.
///   - patchRows: The rows of the matrix to write (default all: C·KH·KW), from `columns` on.
public func im2col(
    _ image: UnsafePointer<Float>, channels: Int, _ g: Conv2dGeometry,
    columns: UnsafeMutablePointer<Float>, rowStride: Int? = nil, outputRows: Range<Int>? = nil,
    patchRows: Range<Int>? = nil
) {
    let outputRows = outputRows ?? 0..<g.outHeight
    let ow = g.outWidth
    let rowStride = rowStride ?? outputRows.count * ow
    let kk = g.kernelHeight * g.kernelWidth
    let patchRows = patchRows ?? 0..<channels * kk
    // Split by the values to copy, not the rows: a stem has only 27 rows (3 channels × 3 × 3), each 12544 long.
    // From 4096 values a thread: a 3×3 conv at 7² (49 values a row) copied on one thread kept the other waiting
    // (ResNet-50's 512-channel ones 1.87 → 1.55 ms on two threads, Zen 4).
    parallelFor(patchRows.count, minimumPerThread: max(1, (1 << 12) / max(1, outputRows.count * ow))) { rows in
        for index in rows {
            let row = patchRows.lowerBound + index
            let c = row / kk
            let i = (row % kk) / g.kernelWidth
            let j = row % g.kernelWidth
            let plane = image + c * g.height * g.width
            let out = columns + index * rowStride
            // Output columns whose input column lies inside the image: [oxStart, oxEnd).
            let offsetX = j * g.dilationW - g.padLeft
            let oxStart = min(ow, max(0, (-offsetX + g.strideW - 1) / g.strideW))
            let oxEnd = max(oxStart, min(ow, (g.width - offsetX + g.strideW - 1) / g.strideW))
            for oy in outputRows {
                let iy = oy * g.strideH + i * g.dilationH - g.padTop
                let dst = out + (oy - outputRows.lowerBound) * ow
                guard iy >= 0 && iy < g.height else {
                    dst.initialize(repeating: 0, count: ow)
                    continue
                }
                let src = plane + iy * g.width + offsetX
                dst.initialize(repeating: 0, count: oxStart)
                if g.strideW == 1 {
                    (dst + oxStart).update(from: src + oxStart, count: oxEnd - oxStart)
                } else {
                    for ox in oxStart..<oxEnd { dst[ox] = src[ox * g.strideW] }
                }
                (dst + oxEnd).initialize(repeating: 0, count: ow - oxEnd)
            }
        }
    }
}

/// The adjoint of `im2col` (torch.nn.functional.fold): adds each entry back into the image position it was
/// read from; entries of padding taps are dropped.
///
/// - Parameters:
///   - columns: A (C·KH·KW × OH·OW) matrix in `im2col`'s layout.
///   - channels: C, the image's channels.
///   - g: The convolution's spatial sizes, stride, padding and dilation.
///   - imageGrad: The C × H × W image the entries are added into.
///   - rowStride: Elements from one row of `columns` to the next (default OH·OW).
public func col2im(
    _ columns: UnsafePointer<Float>, channels: Int, _ g: Conv2dGeometry,
    imageGrad: UnsafeMutablePointer<Float>, rowStride: Int? = nil
) {
    let rowStride = rowStride ?? g.outHeight * g.outWidth
    let (oh, ow) = (g.outHeight, g.outWidth)
    let kk = g.kernelHeight * g.kernelWidth
    // Parallel over channels: rows of one channel touch only that channel's plane.
    parallelFor(channels, minimumPerThread: 2) { channelRange in
        for c in channelRange {
            let plane = imageGrad + c * g.height * g.width
            for r in 0..<kk {
                let i = r / g.kernelWidth
                let j = r % g.kernelWidth
                let src = columns + (c * kk + r) * rowStride
                let offsetX = j * g.dilationW - g.padLeft
                let oxStart = min(ow, max(0, (-offsetX + g.strideW - 1) / g.strideW))
                let oxEnd = max(oxStart, min(ow, (g.width - offsetX + g.strideW - 1) / g.strideW))
                for oy in 0..<oh {
                    let iy = oy * g.strideH + i * g.dilationH - g.padTop
                    guard iy >= 0 && iy < g.height else { continue }
                    let dst = plane + iy * g.width + offsetX
                    let row = src + oy * ow
                    for ox in oxStart..<oxEnd { dst[ox * g.strideW] += row[ox] }
                }
            }
        }
    }
}

// MARK: - Forward / backward

extension Conv2dGeometry {
    /// Rows of the im2col matrix of `images` images side by side built at a time: all of them up to 2 MB (3×3 convs
    /// at 7² and 14²: one GEMM, not one per depth block, 3–8 % faster on two threads on Zen 4; peak RSS of a
    /// ResNet-50 classify unchanged), else the GEMM's depth block, which it runs one after another anyway, so that
    /// larger matrices do not raise the memory high-water mark or leave the cache (ResNet-50's 512-channel 3×3 convs
    /// at 7², batch 8, built whole, wrote a 7 MB matrix, read it back to pack it and read that again).
    func im2colDepthRows(images: Int = 1) -> Int {
        patchSize * outHeight * outWidth * images <= 1 << 19 ? patchSize : min(patchSize, PackedMatrix.depthBlock)
    }

    /// Output rows whose patches one image's im2col matrix holds at a time: about 512 KB of a depth block, so
    /// that a 7×7 stem's (7 MB) does not raise the process's memory high-water mark, but at least 512 columns:
    /// narrower GEMMs read the weights once per band, which made 256- and 512-channel 3×3 convs at 14² and 7²
    /// 10–17 % slower (Zen 4, avx512; the stem in bands of 7 rows was no slower).
    var im2colBandRows: Int {
        let band = max((1 << 17) / max(1, im2colDepthRows() * outWidth), (512 + outWidth - 1) / outWidth)
        // Bands of equal height, so the last is not a sliver.
        let bands = (outHeight + band - 1) / band
        return (outHeight + bands - 1) / bands
    }

    /// Images whose columns share one GEMM: small feature maps make skinny per-image GEMMs that spend
    /// their time packing, so several images are laid side by side (bounded to ~16 MB of columns).
    var imagesPerGemm: Int {
        let spatial = outHeight * outWidth
        // A 1×1 conv reads its input in place; side by side it would first be copied, which only pays off
        // on the smallest maps (measured: ResNet-50 and DenseNet-121 at 224 px, ResNet-50 training at 64 px).
        guard batch > 1, spatial < (isPointwise ? 100 : 4096) else { return 1 }
        return max(1, min(batch, (1 << 22) / max(1, (patchSize + outPerGroup) * spatial)))
    }
}

/// output (N × O × OH × OW) = conv(input (N × I × H × W), weight (O × I/g × KH × KW)) + bias (O), as
/// torch.nn.functional.conv2d; the output is overwritten.
///
/// - Parameters:
///   - g: The convolution's sizes.
///   - input: The images, N × I × H × W.
///   - weight: The filters, O × I/groups × KH × KW.
///   - bias: O values added per output channel; nil for none.
///   - output: Receives N × O × OH × OW values.
public func conv2dForward(
    _ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
) {
    KernelProfile.measure(
        .convolution(g),
        shape: g.profileShape(
            g.isDepthwise ? "direct" : (g.runsAsShiftedTaps ? ConvAlgorithm.shiftedTaps : .gemm).rawValue)
    ) {
        if g.isDepthwise { return depthwiseConv2dForward(g, input: input, weight: weight, bias: bias, output: output) }
        if g.runsAsShiftedTaps {
            // Packing the taps costs one pass over the weights, far less than the im2col matrix it saves.
            let taps = PackedConvWeights(g, weight: weight, algorithm: .shiftedTaps).matrices
            return convolveByShiftedTaps(
                g, input: input, taps: taps, epilogue: ConvEpilogue(shift: bias), output: output)
        }
        convolveByGemm(
            g, input: input, weight: weight, packed: nil, epilogue: ConvEpilogue(shift: bias), output: output)
    }
}

/// output = epilogue(conv(input)): im2col + one GEMM per image and group (a 1×1 conv reads the image in place);
/// small maps put several images side by side in one GEMM. The weights are `packed` once, or read from `weight`.
private func convolveByGemm(
    _ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>?,
    packed: PackedConvWeights?, epilogue e: ConvEpilogue, output: UnsafeMutablePointer<Float>
) {
    let spatial = g.outHeight * g.outWidth
    let inSize = g.inChannels * g.height * g.width
    let outSize = g.outChannels * spatial
    let chunk = g.imagesPerGemm
    // One image's matrix is built a band of output rows and a depth block at a time (a 1×1 conv reads the image
    // in place, whole); several images side by side a depth block at a time, all their columns.
    let inPlace = chunk == 1 && g.isPointwise
    let (band, depthBlock) =
        inPlace
        ? (g.outHeight, g.patchSize) : (chunk == 1 ? g.im2colBandRows : g.outHeight, g.im2colDepthRows(images: chunk))
    let columns =
        inPlace ? nil : UnsafeMutablePointer<Float>.allocate(capacity: depthBlock * band * g.outWidth * chunk)
    let wide = chunk > 1 ? UnsafeMutablePointer<Float>.allocate(capacity: g.outPerGroup * spatial * chunk) : nil
    defer {
        columns?.deallocate()
        wide?.deallocate()
    }
    for first in stride(from: 0, to: g.batch, by: chunk) {
        let count = min(chunk, g.batch - first)
        let width = count * spatial
        for group in 0..<g.groups {
            let groupInput = input + first * inSize + group * g.inPerGroup * g.height * g.width
            let channel = group * g.outPerGroup
            // C (O/g × n) = epilogue(W · B), a depth block at a time: `build` lays out B's rows `depths` and gives
            // them; the blocks are summed in C (the same sums in the same order as one GEMM over the whole depth),
            // the epilogue applied with the last. Through the weights packed once or as they are.
            func multiply(
                columns n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int, _ epilogue: GemmEpilogue,
                build: (Range<Int>) -> UnsafePointer<Float>
            ) {
                for depth in stride(from: 0, to: g.patchSize, by: depthBlock) {
                    let depths = depth..<min(g.patchSize, depth + depthBlock)
                    let b = build(depths)
                    let (beta, last): (Float, GemmEpilogue?) =
                        (depth == 0 ? 0 : 1, depths.upperBound == g.patchSize ? epilogue : nil)
                    if let packed {
                        let whole = packed.matrices[group]
                        gemm(
                            packedA: depths.count == g.patchSize ? whole : whole.depths(depths), n: n, b: b,
                            beta: beta, c: c, ldc: ldc, epilogue: last)
                    } else {
                        gemm(
                            m: g.outPerGroup, n: n, k: depths.count,
                            a: weight! + channel * g.patchSize + depths.lowerBound, lda: g.patchSize, b: b, beta: beta,
                            c: c, ldc: ldc, epilogue: last)
                    }
                }
            }
            if count == 1 {
                // One image: the GEMM writes straight into the output, a band of rows at a time.
                let at = first * outSize + channel * spatial
                for top in stride(from: 0, to: g.outHeight, by: band) {
                    let rows = top..<min(g.outHeight, top + band)
                    let offset = at + top * g.outWidth
                    multiply(
                        columns: rows.count * g.outWidth, into: output + offset, ldc: spatial,
                        e.gemm(
                            channel: channel, residualOffset: offset, residualStride: spatial, activation: e.activation)
                    ) { depths in
                        guard let columns else { return groupInput }
                        im2col(
                            groupInput, channels: g.inPerGroup, g, columns: columns, outputRows: rows,
                            patchRows: depths)
                        return UnsafePointer(columns)
                    }
                }
                continue
            }
            // Side by side (O/g × images·spatial), the residual's layout differs: it is added after the copy.
            multiply(
                columns: width, into: wide!, ldc: width,
                e.gemm(
                    channel: channel, residualOffset: nil, residualStride: 0,
                    activation: e.residual == nil ? e.activation : .identity)
            ) { depths in
                for i in 0..<count {
                    im2col(
                        groupInput + i * inSize, channels: g.inPerGroup, g, columns: columns! + i * spatial,
                        rowStride: width, patchRows: depths)
                }
                return UnsafePointer(columns!)
            }
            parallelFor(g.outPerGroup, minimumPerThread: max(1, (1 << 12) / width)) { channels in
                for o in channels {
                    for i in 0..<count {
                        let at = (first + i) * outSize + (channel + o) * spatial
                        (output + at).update(from: wide! + o * width + i * spatial, count: spatial)
                        if let residual = e.residual {
                            addResidual(residual + at, to: output + at, count: spatial, activation: e.activation)
                        }
                    }
                }
            }
        }
    }
}

/// The gradients of `conv2dForward`, added into inputGrad, weightGrad and biasGrad.
///
/// - Parameters:
///   - g: The geometry of the forward call.
///   - input: The forward pass's input, N × I × H × W.
///   - weight: The forward pass's filters, O × I/groups × KH × KW.
///   - outputGrad: ∂loss/∂output, N × O × OH × OW.
///   - inputGrad: Accumulates ∂loss/∂input; nil to skip.
///   - weightGrad: Accumulates ∂loss/∂weight; nil to skip.
///   - biasGrad: Accumulates ∂loss/∂bias (O values); nil to skip.
public func conv2dBackward(
    _ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    outputGrad: UnsafePointer<Float>,
    inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?,
    biasGrad: UnsafeMutablePointer<Float>?
) {
    KernelProfile.measure(.convolution(g), shape: g.profileShape("backward")) {
        let spatial = g.outHeight * g.outWidth
        let inSize = g.inChannels * g.height * g.width
        if let biasGrad {
            for n in 0..<g.batch {
                for o in 0..<g.outChannels {
                    biasGrad[o] += vectorSum(outputGrad + (n * g.outChannels + o) * spatial, count: spatial)
                }
            }
        }
        if g.isDepthwise {
            return depthwiseConv2dBackward(
                g, input: input, weight: weight, outputGrad: outputGrad,
                inputGrad: inputGrad, weightGrad: weightGrad)
        }
        let chunk = g.imagesPerGemm
        // One image of a 1×1 conv: its columns are the image itself, and dX comes straight out of a GEMM.
        let direct = chunk == 1 && g.isPointwise
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: direct ? 1 : g.patchSize * spatial * chunk)
        let wide = chunk > 1 ? UnsafeMutablePointer<Float>.allocate(capacity: g.outPerGroup * spatial * chunk) : nil
        defer {
            columns.deallocate()
            wide?.deallocate()
        }
        for first in stride(from: 0, to: g.batch, by: chunk) {
            let count = min(chunk, g.batch - first)
            let width = count * spatial
            for group in 0..<g.groups {
                let w = weight + group * g.outPerGroup * g.patchSize
                let groupOffset = group * g.inPerGroup * g.height * g.width
                // dY for these images as one (O/g × images·spatial) matrix.
                let dOut: UnsafePointer<Float>
                if let wide {
                    for o in 0..<g.outPerGroup {
                        for i in 0..<count {
                            (wide + o * width + i * spatial).update(
                                from: outputGrad + ((first + i) * g.outChannels + group * g.outPerGroup + o) * spatial,
                                count: spatial)
                        }
                    }
                    dOut = UnsafePointer(wide)
                } else {
                    dOut = outputGrad + (first * g.outChannels + group * g.outPerGroup) * spatial
                }
                if let weightGrad {
                    var cols = UnsafePointer(columns)
                    if direct {
                        cols = input + first * inSize + groupOffset
                    } else {
                        for i in 0..<count {
                            im2col(
                                input + (first + i) * inSize + groupOffset, channels: g.inPerGroup, g,
                                columns: columns + i * spatial, rowStride: width)
                        }
                    }
                    // dW (O/g × patch) += dY · colsᵀ
                    gemm(
                        transposeB: true, m: g.outPerGroup, n: g.patchSize, k: width,
                        a: dOut, b: cols, beta: 1, c: weightGrad + group * g.outPerGroup * g.patchSize)
                }
                if let inputGrad, direct {
                    gemm(
                        transposeA: true, m: g.patchSize, n: width, k: g.outPerGroup, a: w, b: dOut, beta: 1,
                        c: inputGrad + first * inSize + groupOffset)
                } else if let inputGrad {
                    // dCols (patch × images·spatial) = Wᵀ · dY, then scattered back into each image.
                    gemm(transposeA: true, m: g.patchSize, n: width, k: g.outPerGroup, a: w, b: dOut, c: columns)
                    for i in 0..<count {
                        col2im(
                            columns + i * spatial, channels: g.inPerGroup, g,
                            imageGrad: inputGrad + (first + i) * inSize + groupOffset, rowStride: width)
                    }
                }
            }
        }
    }
}

/// Straightforward seven-loop convolution the tests check every fast path against.
public func conv2dReference(
    _ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
) {
    let (oh, ow) = (g.outHeight, g.outWidth)
    for n in 0..<g.batch {
        for o in 0..<g.outChannels {
            let group = o / g.outPerGroup
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var acc = Double(bias?[o] ?? 0)
                    for ci in 0..<g.inPerGroup {
                        let c = group * g.inPerGroup + ci
                        for i in 0..<g.kernelHeight {
                            let iy = oy * g.strideH + i * g.dilationH - g.padTop
                            guard iy >= 0 && iy < g.height else { continue }
                            for j in 0..<g.kernelWidth {
                                let ix = ox * g.strideW + j * g.dilationW - g.padLeft
                                guard ix >= 0 && ix < g.width else { continue }
                                let x = input[((n * g.inChannels + c) * g.height + iy) * g.width + ix]
                                let w = weight[((o * g.inPerGroup + ci) * g.kernelHeight + i) * g.kernelWidth + j]
                                acc += Double(x) * Double(w)
                            }
                        }
                    }
                    output[((n * g.outChannels + o) * oh + oy) * ow + ox] = Float(acc)
                }
            }
        }
    }
}

// MARK: - Depthwise

// One channel per group: each output plane reads one input plane through a KH×KW filter (C kernel).
func depthwiseConv2dForward(
    _ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>
) {
    depthwiseConv2d(g, input: input, weight: weight, epilogue: ConvEpilogue(shift: bias), output: output)
}

/// The direct kernels of a depthwise conv (see `Conv2dGeometry.depthwiseKernel`).
enum DepthwiseKernel: String, CaseIterable {
    /// A plane at a time, copied zero-padded, a vector of columns at a time (`zoo_depthwise_plane`).
    case planes
    /// A vector of channels at a time, transposed to a vector per pixel and back (`zoo_depthwise_channels`).
    case channelBlocks
    /// Four rows at a time read in place, the padding by masked loads (`zoo_depthwise_rows`; `runsByRows` only).
    case rows
    /// A small plane as one run of vectors, each tap a shifted masked load (`zoo_depthwise_flat`; `runsFlat` only).
    case flat

    /// Whether this kernel takes `g` (by planes and by channel blocks take every depthwise conv).
    func takes(_ g: Conv2dGeometry) -> Bool {
        switch self {
        case .rows: g.runsByRows
        case .flat: g.runsFlat
        case .planes, .channelBlocks: true
        }
    }
}

/// output = activation(depthwise(input) · scale[c] + shift[c]); a residual is added in a second pass.
/// `kernel` picks the kernel (tests run each where it applies); nil leaves the choice to `depthwiseKernel`.
func depthwiseConv2d(
    _ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    epilogue e: ConvEpilogue, output: UnsafeMutablePointer<Float>,
    kernel: DepthwiseKernel? = nil
) {
    let plane = g.plane
    let taps = g.kernelHeight * g.kernelWidth
    let (inSize, outSize) = (g.height * g.width, g.outHeight * g.outWidth)
    // With a residual the activation must wait until the residual is in.
    let activation = e.residual == nil ? e.activation : .identity
    let chosen = kernel ?? g.depthwiseKernel
    switch chosen {
    case .rows, .flat:
        precondition(chosen.takes(g), "depthwiseConv2d: the \(chosen) kernel does not take \(g)")
        let run = chosen == .rows ? zoo_depthwise_rows : zoo_depthwise_flat
        // Planes in order across the batch: a thread's share of them in one call per image.
        parallelFor(g.batch * g.inChannels) { planes in
            var p = planes.lowerBound
            while p < planes.upperBound {
                let first = p % g.inChannels
                let channels = min(g.inChannels - first, planes.upperBound - p)
                withUnsafePointer(to: plane) { plane in
                    run(
                        plane, channels, input + p * inSize, inSize, weight + first * taps, e.scale.map { $0 + first },
                        e.shift.map { $0 + first }, activation.c, output + p * outSize, outSize)
                }
                if let residual = e.residual {
                    addResidual(
                        residual + p * outSize, to: output + p * outSize, count: channels * outSize,
                        activation: e.activation)
                }
                p += channels
            }
        }
    case .channelBlocks:
        let block = zoo_depthwise_channel_block()
        let blocks = (g.inChannels + block - 1) / block
        let scratchCount = withUnsafePointer(to: plane) { zoo_depthwise_channels_scratch_count($0) }
        parallelFor(g.batch * blocks) { items in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            for item in items {
                let (n, first) = (item / blocks, item % blocks * block)
                let channels = min(block, g.inChannels - first)
                let (at, outAt) = ((n * g.inChannels + first) * inSize, (n * g.inChannels + first) * outSize)
                withUnsafePointer(to: plane) { plane in
                    zoo_depthwise_channels(
                        plane, channels, input + at, weight + first * taps, e.scale.map { $0 + first },
                        e.shift.map { $0 + first }, activation.c, output + outAt, scratch)
                }
                if let residual = e.residual {
                    let count = channels * outSize
                    addResidual(residual + outAt, to: output + outAt, count: count, activation: e.activation)
                }
            }
        }
    case .planes:
        forEachPlane(plane, count: g.batch * g.inChannels) { plane, p, scratch in
            let c = p % g.inChannels
            let out = output + p * outSize
            zoo_depthwise_plane(
                plane, input + p * inSize, weight + c * taps, e.scale?[c] ?? 1, e.shift?[c] ?? 0, activation.c, out,
                scratch)
            if let residual = e.residual {
                addResidual(residual + p * outSize, to: out, count: outSize, activation: e.activation)
            }
        }
    }
}

extension Conv2dGeometry {
    /// One plane of this conv, as the C plane kernels take it.
    var plane: zoo_plane_geometry {
        zoo_plane_geometry(
            height: height, width: width, out_height: outHeight, out_width: outWidth,
            kernel_height: kernelHeight, kernel_width: kernelWidth, stride_h: strideH, stride_w: strideW,
            dilation_h: dilationH, dilation_w: dilationW, pad_top: padTop, pad_left: padLeft)
    }

    /// The faster depthwise kernel for this conv. Planes whose rows fill most of a vector (14 outputs and more) read
    /// their rows in place (Zen 4, one thread, in the models: on AVX-512 MobileNetV2's 1.2–2.4× faster than by planes
    /// or by channel blocks, MobileNetV3's 1.1–1.3×, EfficientNet-Lite0's 0.95–1.2×; on AVX2 3×3 filters 0.9–1.4×, but
    /// 5×5 ones at 28² 0.7×, which stay by channel blocks there). Smaller planes, whose rows leave lanes idle, run a
    /// vector of channels at a time (transposed to a vector per pixel and back; at 7² 1.1–1.6× faster than by rows),
    /// except 3×3 filters of stride 1 there, which take the plane as one run of vectors (960 channels at 7², one
    /// thread: 54 → 28 µs on AVX-512, 53 → 48 on AVX2; 5×5 filters gain nothing, 14² planes lose to rows); the other
    /// large ones a plane at a time, padded.
    var depthwiseKernel: DepthwiseKernel {
        if runsByRows && outWidth >= 14 && (kernelHeight == 3 || zoo_depthwise_channel_block() >= 16) { return .rows }
        if runsFlat && kernelHeight == 3 && kernelWidth == 3 { return .flat }
        return outWidth <= 32 ? .channelBlocks : .planes
    }

    /// Whether the flat kernel takes this conv: stride 1, rows as wide as the input's, a plane of up to 16 vectors, on
    /// a path of 8 lanes or more (whose masked loads are single instructions).
    var runsFlat: Bool {
        let lanes = zoo_vector_width()
        return strideH == 1 && strideW == 1 && outWidth == width && lanes >= 8 && outHeight * outWidth <= 16 * lanes
    }

    /// Whether the rows kernel takes this conv: 3×3 or 5×5, stride 1 or 2 both ways, no dilation, 4 rows or more.
    var runsByRows: Bool {
        kernelHeight == kernelWidth && [3, 5].contains(kernelHeight) && strideH == strideW && [1, 2].contains(strideH)
            && dilationH == 1 && dilationW == 1 && outHeight >= 4
    }
}

/// Runs `body(geometry, plane index, scratch)` for planes 0..<count across the threads, each thread with the
/// scratch the C plane kernels (depthwise conv, pooling) pad a plane into.
func forEachPlane(
    _ geometry: zoo_plane_geometry, count: Int, minimumPerThread: Int = 1,
    _ body: (UnsafePointer<zoo_plane_geometry>, Int, UnsafeMutablePointer<Float>) -> Void
) {
    let scratchCount = withUnsafePointer(to: geometry) { zoo_depthwise_scratch_count($0) }
    parallelFor(count, minimumPerThread: minimumPerThread) { range in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchCount)
        defer { scratch.deallocate() }
        withUnsafePointer(to: geometry) { geometry in
            for p in range { body(geometry, p, scratch) }
        }
    }
}

// MARK: - Inference

/// What an inference convolution applies as it stores its output (a folded batch norm, the bias, a residual
/// branch, the activation): output = activation(conv(input) · scale[o] + shift[o] + residual).
public struct ConvEpilogue {
    /// O per-channel factors and O per-channel offsets (a folded batch norm, the bias); nil for 1 and 0.
    public var scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?
    /// A tensor in the output's layout (N × O × OH × OW) added before the activation; nil for none.
    public var residual: UnsafePointer<Float>?
    /// Applied last, after the residual.
    public var activation: Activation

    /// An epilogue; the defaults leave the convolution's output as it is.
    ///
    /// - Parameters:
    ///   - scale: O per-channel factors, or nil.
    ///   - shift: O per-channel offsets, or nil.
    ///   - residual: A tensor of the output's shape to add, or nil.
    ///   - activation: The activation applied last.
    public init(
        scale: UnsafePointer<Float>? = nil, shift: UnsafePointer<Float>? = nil, residual: UnsafePointer<Float>? = nil,
        activation: Activation = .identity
    ) {
        self.scale = scale
        self.shift = shift
        self.residual = residual
        self.activation = activation
    }

    /// The GEMM epilogue for output channels starting at `channel`, the residual read from `residualOffset`.
    func gemm(channel: Int, residualOffset: Int?, residualStride: Int, activation: Activation) -> GemmEpilogue {
        GemmEpilogue(
            rowScale: scale.map { $0 + channel }, rowShift: shift.map { $0 + channel },
            residual: residualOffset.flatMap { offset in residual.map { $0 + offset } },
            residualStride: residualStride, activation: activation)
    }
}

/// How an inference convolution runs; `Conv2dGeometry.inferenceAlgorithm` picks one per geometry.
enum ConvAlgorithm: String, CaseIterable {
    /// im2col (a 1×1 conv reads the input in place) and one GEMM per group.
    case gemm
    /// One GEMM per filter tap on the zero-padded input.
    case shiftedTaps
    /// Winograd F(4×4, 3×3): 36 GEMMs between transformed tiles.
    case winograd
    /// Directly, a panel of output channels per loaded input vector (`zoo_conv_direct`): no im2col matrix.
    case direct

    /// Whether the algorithm computes `g` (the GEMM path computes every conv).
    func runs(_ g: Conv2dGeometry) -> Bool {
        switch self {
        case .gemm: true
        case .shiftedTaps: g.strideH == 1 && g.strideW == 1 && g.groups == 1 && g.kernelHeight * g.kernelWidth > 1
        case .winograd:
            g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1
                && g.dilationW == 1 && g.groups == 1
        case .direct:
            g.groups == 1 && g.strideH == g.strideW && [1, 2].contains(g.strideH) && g.dilationH == 1
                && g.dilationW == 1 && g.patchSize <= zoo_gemm_depth_block()
        }
    }
}

/// A convolution's weights packed once into GEMM panels for its algorithm: one left operand per group
/// (O/g × I/g·KH·KW), per filter tap (tap (i, j) is the O × I matrix W[:, :, i, j]; shifted taps, and Winograd
/// convs that combine their points from the taps), or per Winograd point.
public final class PackedConvWeights {
    let algorithm: ConvAlgorithm
    let matrices: [PackedMatrix]
    /// Where each matrix starts in the weights (nil when they cannot be recovered: Winograd's transformed points).
    private let sourceOffsets: [Int]?

    /// Packs `weight` (O × I/groups × KH × KW) for `g` on the active kernel path; `consumed` is told of the weights
    /// a lossless packing no longer reads, as it goes (see `PackedMatrix`).
    public convenience init(
        _ g: Conv2dGeometry, weight: UnsafePointer<Float>, consumed: ((UnsafePointer<Float>, Int) -> Void)? = nil
    ) {
        self.init(g, weight: weight, algorithm: g.inferenceAlgorithm, consumed: consumed)
    }

    init(
        _ g: Conv2dGeometry, weight: UnsafePointer<Float>, algorithm: ConvAlgorithm,
        consumed: ((UnsafePointer<Float>, Int) -> Void)? = nil
    ) {
        precondition(algorithm.runs(g) && !g.isDepthwise, "PackedConvWeights: \(algorithm) cannot run \(g)")
        self.algorithm = algorithm
        let kk = g.kernelHeight * g.kernelWidth
        switch algorithm {
        case .gemm, .direct:
            sourceOffsets = (0..<g.groups).map { $0 * g.outPerGroup * g.patchSize }
            matrices = sourceOffsets!.map { offset in
                PackedMatrix(
                    side: .left, outer: g.outPerGroup, depth: g.patchSize, source: weight + offset,
                    outerStride: g.patchSize, depthStride: 1, consumed: consumed)
            }
        case .shiftedTaps,
            .winograd where g.winogradCombinesTaps:
            sourceOffsets = Array(0..<kk)
            matrices = sourceOffsets!.map { tap in
                PackedMatrix(
                    side: .left, outer: g.outChannels, depth: g.inChannels, source: weight + tap,
                    outerStride: g.inChannels * kk, depthStride: kk)
            }
        case .winograd:
            sourceOffsets = nil
            matrices = winogradFilters(g, weight: weight)
        }
    }

    /// Whether `unpack` can give the weights back (the GEMM and tap packings only reorder them).
    public var isLossless: Bool { sourceOffsets != nil }

    /// Writes the weights back exactly as they were packed from; requires `isLossless`.
    public func unpack(into weight: UnsafeMutablePointer<Float>) {
        precondition(isLossless, "PackedConvWeights: Winograd's transformed points cannot give the weights back")
        for (matrix, offset) in zip(matrices, sourceOffsets!) { matrix.unpack(into: weight + offset) }
    }

    /// What the packing depends on besides the weights and the path (a cache key).
    public static func variant(_ g: Conv2dGeometry) -> String {
        let algorithm = g.inferenceAlgorithm
        return algorithm == .gemm ? "groups\(g.groups)" : algorithm.rawValue
    }
}

/// Inference convolution: weights packed once, the epilogue fused into the GEMM's store (depthwise convs
/// run their direct kernel on `weight` instead and need no packing: pass `packed` nil; the others need no `weight`).
public func conv2dInference(
    _ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>?,
    packed: PackedConvWeights?, epilogue e: ConvEpilogue, output: UnsafeMutablePointer<Float>
) {
    KernelProfile.measure(
        .convolution(g),
        shape: g.profileShape(packed?.algorithm.rawValue ?? g.depthwiseKernel.rawValue)
    ) {
        guard let packed, !g.isDepthwise else {
            precondition(
                g.isDepthwise && weight != nil, "conv2dInference: a depthwise conv's weights, or packed weights")
            return depthwiseConv2d(g, input: input, weight: weight!, epilogue: e, output: output)
        }
        switch packed.algorithm {
        case .gemm: convolveByGemm(g, input: input, weight: nil, packed: packed, epilogue: e, output: output)
        case .shiftedTaps: convolveByShiftedTaps(g, input: input, taps: packed.matrices, epilogue: e, output: output)
        case .direct: convolveDirectly(g, input: input, weights: packed.matrices[0], epilogue: e, output: output)
        case .winograd:
            convolveByWinograd(
                g, input: input, filters: g.winogradCombinesTaps ? .taps(packed.matrices) : .points(packed.matrices),
                epilogue: e, output: output)
        }
    }
}

extension Conv2dGeometry {
    /// Stride-1, ungrouped convs with a real filter run as shifted taps when the extra work on the padded grid
    /// costs less than the im2col matrix it saves: the matrix costs a write and a read per element, about as
    /// much as 1/32 of an output channel's multiply-adds, so the grid may exceed the output by 32/O
    /// (measured on DenseNet-121 and ResNet-50: 28×28 maps and up with 128 channels, 14×14 with 32).
    var runsAsShiftedTaps: Bool {
        let grid = (height + padTop + padBottom) * (width + padLeft + padRight)
        let positions = outHeight * outWidth
        return ConvAlgorithm.shiftedTaps.runs(self) && (grid - positions) * outChannels <= 32 * positions
    }

    /// The algorithm an inference convolution of this geometry runs.
    var inferenceAlgorithm: ConvAlgorithm {
        if runsDirectly { return .direct }
        return ConvAlgorithm.winograd.runs(self) && winogradWins ? .winograd : runsAsShiftedTaps ? .shiftedTaps : .gemm
    }

    /// Convs of up to four input channels (RGB stems) run directly: their im2col matrix is K² times the input and
    /// too shallow for the GEMM to make up for writing it (Zen 4, AVX-512, one thread: MobileNetV2's 3×3 stem
    /// 0.61 → 0.38 ms, ResNet-50's 7×7 3.7 → 3.0 ms; two threads 0.40 → 0.22 and 2.2 → 1.5).
    var runsDirectly: Bool { ConvAlgorithm.direct.runs(self) && inChannels <= 4 }
}

/// output = epilogue(conv(input)) by `zoo_conv_direct`, the output rows of the batch split across the threads (a
/// residual is added in a second pass).
private func convolveDirectly(
    _ g: Conv2dGeometry, input: UnsafePointer<Float>, weights: PackedMatrix, epilogue e: ConvEpilogue,
    output: UnsafeMutablePointer<Float>
) {
    let plane = g.plane
    let (inSize, outSize) = (g.inChannels * g.height * g.width, g.outChannels * g.outHeight * g.outWidth)
    let activation = e.residual == nil ? e.activation : .identity
    parallelFor(g.batch * g.outHeight) { rows in
        var row = rows.lowerBound
        while row < rows.upperBound {
            let (n, y) = row.quotientAndRemainder(dividingBy: g.outHeight)
            let count = min(g.outHeight - y, rows.upperBound - row)
            withUnsafePointer(to: plane) { plane in
                withUnsafePointer(to: weights.packed) { weights in
                    zoo_conv_direct(
                        plane, g.inChannels, input + n * inSize, weights, g.outChannels, e.scale, e.shift,
                        activation.c, y, count, output + n * outSize)
                }
            }
            row += count
        }
    }
    if let residual = e.residual {
        addResidual(residual, to: output, count: g.batch * outSize, activation: e.activation)
    }
}

/// A stride-1 convolution as a sum of shifted GEMMs, with no im2col matrix (9× the input for a 3×3 conv).
/// The input is zero-padded once, channel-major with the images side by side, so that for filter tap (i, j)
/// the B operand is that padded input itself read from offset i·dh·Wp + j·dw: output = Σ_taps W[:, :, i, j] · B_tap.
/// Outputs are computed on the whole padded grid (positions past the output's edge are dropped when it is
/// copied out); each thread runs every tap over one block of grid columns at a time, so the sum stays in cache.
private func convolveByShiftedTaps(
    _ g: Conv2dGeometry, input: UnsafePointer<Float>, taps: [PackedMatrix],
    epilogue e: ConvEpilogue, output: UnsafeMutablePointer<Float>
) {
    let (paddedHeight, paddedWidth) = (g.height + g.padTop + g.padBottom, g.width + g.padLeft + g.padRight)
    let plane = paddedHeight * paddedWidth
    let columns = g.batch * plane
    let reach = (g.kernelHeight - 1) * g.dilationH * paddedWidth + (g.kernelWidth - 1) * g.dilationW
    let padded = UnsafeMutablePointer<Float>.allocate(capacity: g.inChannels * columns + reach)
    let grid = UnsafeMutablePointer<Float>.allocate(capacity: g.outChannels * columns)
    defer {
        padded.deallocate()
        grid.deallocate()
    }
    parallelFor(g.inChannels * g.batch) { items in
        for item in items {
            let (c, n) = item.quotientAndRemainder(dividingBy: g.batch)
            let source = input + (n * g.inChannels + c) * g.height * g.width
            let target = padded + c * columns + n * plane
            target.initialize(repeating: 0, count: g.padTop * paddedWidth + g.padLeft)
            for y in 0..<g.height {
                let row = target + (g.padTop + y) * paddedWidth + g.padLeft
                row.update(from: source + y * g.width, count: g.width)
                (row + g.width).initialize(repeating: 0, count: y + 1 < g.height ? g.padLeft + g.padRight : g.padRight)
            }
            (target + (g.padTop + g.height) * paddedWidth).initialize(repeating: 0, count: g.padBottom * paddedWidth)
        }
    }
    (padded + g.inChannels * columns).initialize(repeating: 0, count: reach)  // read only for dropped positions
    // A residual lies in the output's layout, not the grid's: it is added after the copy.
    let finish = e.gemm(
        channel: 0, residualOffset: nil, residualStride: 0, activation: e.residual == nil ? e.activation : .identity)
    let tileColumns = PackedMatrix.tile.columns
    // Each thread takes an equal run of whole tiles, and walks it 16 tiles at a time.
    let tiles = (columns + tileColumns - 1) / tileColumns
    parallelFor(tiles) { range in
        for tile in stride(from: range.lowerBound, to: range.upperBound, by: 16) {
            let start = tile * tileColumns
            let count = min(min(tile + 16, range.upperBound) * tileColumns, columns) - start
            for (t, tap) in taps.enumerated() {
                let offset = t / g.kernelWidth * g.dilationH * paddedWidth + t % g.kernelWidth * g.dilationW
                gemm(
                    packedA: tap, n: count, b: padded + offset + start, ldb: columns, beta: t == 0 ? 0 : 1,
                    c: grid + start, ldc: columns, epilogue: t == taps.count - 1 ? finish : nil)
            }
        }
    }
    let (outHeight, outWidth) = (g.outHeight, g.outWidth)
    let outPlane = outHeight * outWidth
    parallelFor(g.batch * g.outChannels) { planes in
        for p in planes {
            let (n, o) = p.quotientAndRemainder(dividingBy: g.outChannels)
            let source = grid + o * columns + n * plane
            let target = output + p * outPlane
            for y in 0..<outHeight { (target + y * outWidth).update(from: source + y * paddedWidth, count: outWidth) }
            if let residual = e.residual {
                addResidual(residual + p * outPlane, to: target, count: outPlane, activation: e.activation)
            }
        }
    }
}

func depthwiseConv2dBackward(
    _ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    outputGrad: UnsafePointer<Float>,
    inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?
) {
    let (oh, ow) = (g.outHeight, g.outWidth)
    let (kh, kw) = (g.kernelHeight, g.kernelWidth)
    let paddedH = (oh - 1) * g.strideH + (kh - 1) * g.dilationH + 1
    let paddedW = (ow - 1) * g.strideW + (kw - 1) * g.dilationW + 1 + 8
    // Parallel over channels so each thread owns its filter's gradient.
    parallelFor(g.inChannels) { channels in
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedH * paddedW)
        defer { padded.deallocate() }
        for c in channels {
            let w = weight + c * kh * kw
            for n in 0..<g.batch {
                let plane = n * g.inChannels + c
                let dOut = outputGrad + plane * oh * ow
                if let weightGrad {
                    fillPadded(padded, paddedH: paddedH, paddedW: paddedW, from: input + plane * g.height * g.width, g)
                    for i in 0..<kh {
                        for j in 0..<kw {
                            var acc: Float = 0
                            for oy in 0..<oh {
                                acc += dotStrided(
                                    dOut + oy * ow,
                                    padded + (oy * g.strideH + i * g.dilationH) * paddedW + j * g.dilationW,
                                    count: ow, stride: g.strideW)
                            }
                            weightGrad[c * kh * kw + i * kw + j] += acc
                        }
                    }
                }
                if let inputGrad {
                    padded.initialize(repeating: 0, count: paddedH * paddedW)
                    for oy in 0..<oh {
                        for i in 0..<kh {
                            let dst = padded + (oy * g.strideH + i * g.dilationH) * paddedW
                            for j in 0..<kw {
                                let wv = w[i * kw + j]
                                let base = dst + j * g.dilationW
                                let row = dOut + oy * ow
                                for ox in 0..<ow { base[ox * g.strideW] += wv * row[ox] }
                            }
                        }
                    }
                    // Crop the padded gradient back onto the image.
                    let dIn = inputGrad + plane * g.height * g.width
                    for y in 0..<g.height {
                        let py = y + g.padTop
                        guard py < paddedH else { break }
                        for x in 0..<g.width where x + g.padLeft < paddedW - 8 {
                            dIn[y * g.width + x] += padded[py * paddedW + x + g.padLeft]
                        }
                    }
                }
            }
        }
    }
}

@inline(__always)
private func fillPadded(
    _ padded: UnsafeMutablePointer<Float>, paddedH: Int, paddedW: Int,
    from plane: UnsafePointer<Float>, _ g: Conv2dGeometry
) {
    padded.initialize(repeating: 0, count: paddedH * paddedW)
    for y in 0..<g.height {
        let py = y + g.padTop
        guard py < paddedH else { break }
        let count = min(g.width, paddedW - 8 - g.padLeft)
        if count > 0 { (padded + py * paddedW + g.padLeft).update(from: plane + y * g.width, count: count) }
    }
}

@inline(__always)
private func dotStrided(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, stride: Int) -> Float {
    var acc: Float = 0
    for x in 0..<count { acc += a[x] * b[x * stride] }
    return acc
}

/// output += residual, then the activation that had to wait for it (convs whose output is not written in
/// the residual's layout add it in a second pass, and products split over their depth their partial sums).
func addResidual(
    _ residual: UnsafePointer<Float>, to output: UnsafeMutablePointer<Float>, count: Int, activation: Activation
) {
    for i in 0..<count { output[i] += residual[i] }
    applyActivation(activation, input: output, output: output, count: count)
}
