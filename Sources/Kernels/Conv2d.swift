// 2-D convolution, NCHW input, OIHW weights (O × I/groups × KH × KW), as torch.nn.functional.conv2d.
// Three paths: 1×1 stride-1 unpadded convs are a plain GEMM on the input; depthwise convs run a
// direct SIMD loop; everything else is im2col + GEMM per image and group.

/// Sizes of one convolution; padding may be asymmetric (TF "same").
public struct Conv2dGeometry: Equatable, Sendable {
    public var batch: Int, inChannels: Int, height: Int, width: Int
    public var outChannels: Int, kernelHeight: Int, kernelWidth: Int
    public var strideH: Int, strideW: Int
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    public var dilationH: Int, dilationW: Int
    public var groups: Int

    public init(batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int,
                kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0),
                dilation: (Int, Int) = (1, 1), groups: Int = 1) {
        self.batch = batch; self.inChannels = inChannels; self.height = height; self.width = width
        self.outChannels = outChannels; kernelHeight = kernel.0; kernelWidth = kernel.1
        strideH = stride.0; strideW = stride.1
        padTop = padding.top; padLeft = padding.left; padBottom = padding.bottom; padRight = padding.right
        dilationH = dilation.0; dilationW = dilation.1; self.groups = groups
    }

    public var outHeight: Int { (height + padTop + padBottom - dilationH * (kernelHeight - 1) - 1) / strideH + 1 }
    public var outWidth: Int { (width + padLeft + padRight - dilationW * (kernelWidth - 1) - 1) / strideW + 1 }
    var inPerGroup: Int { inChannels / groups }
    var outPerGroup: Int { outChannels / groups }
    /// Rows of the im2col matrix for one group: (I/groups)·KH·KW.
    var patchSize: Int { inPerGroup * kernelHeight * kernelWidth }
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideH == 1 && strideW == 1
            && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }
    var isDepthwise: Bool { groups == inChannels && groups == outChannels && groups > 1 }
    public var flops: Double {
        2.0 * Double(batch * outChannels * outHeight * outWidth * patchSize)
    }
    /// Element count of the scratch buffer `conv2dForward`/`conv2dBackward` need.
    public var scratchCount: Int { isPointwise || isDepthwise ? 0 : patchSize * outHeight * outWidth }
}

// MARK: - im2col / col2im

// columns (C·KH·KW × OH·OW) from one image (C × H × W); out-of-image taps are zero.
public func im2col(_ image: UnsafePointer<Float>, channels: Int, _ g: Conv2dGeometry,
                   columns: UnsafeMutablePointer<Float>) {
    let (oh, ow) = (g.outHeight, g.outWidth), kk = g.kernelHeight * g.kernelWidth
    parallelFor(channels * kk, minimumPerThread: 16) { rows in
        for row in rows {
            let c = row / kk, i = (row % kk) / g.kernelWidth, j = row % g.kernelWidth
            let plane = image + c * g.height * g.width
            let out = columns + row * oh * ow
            // Output columns whose input column lies inside the image: [oxStart, oxEnd).
            let offsetX = j * g.dilationW - g.padLeft
            let oxStart = min(ow, max(0, (-offsetX + g.strideW - 1) / g.strideW))
            let oxEnd = max(oxStart, min(ow, (g.width - offsetX + g.strideW - 1) / g.strideW))
            for oy in 0..<oh {
                let iy = oy * g.strideH + i * g.dilationH - g.padTop
                let dst = out + oy * ow
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

// Adjoint of im2col: adds each column entry back into the image position it was read from.
public func col2im(_ columns: UnsafePointer<Float>, channels: Int, _ g: Conv2dGeometry,
                   imageGrad: UnsafeMutablePointer<Float>) {
    let (oh, ow) = (g.outHeight, g.outWidth), kk = g.kernelHeight * g.kernelWidth
    // Parallel over channels: rows of one channel touch only that channel's plane.
    parallelFor(channels, minimumPerThread: 2) { channelRange in
        for c in channelRange {
            let plane = imageGrad + c * g.height * g.width
            for r in 0..<kk {
                let i = r / g.kernelWidth, j = r % g.kernelWidth
                let src = columns + (c * kk + r) * oh * ow
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

// output (N × O × OH × OW) = conv(input (N × I × H × W), weight (O × I/g × KH × KW)) + bias (O).
// `scratch` holds `g.scratchCount` floats.
public func conv2dForward(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                          scratch: UnsafeMutablePointer<Float>?) {
    if g.isDepthwise { return depthwiseConv2dForward(g, input: input, weight: weight, bias: bias, output: output) }
    let spatial = g.outHeight * g.outWidth, inSize = g.inChannels * g.height * g.width
    for n in 0..<g.batch {
        for group in 0..<g.groups {
            let image = input + n * inSize + group * g.inPerGroup * g.height * g.width
            let columns: UnsafePointer<Float>
            if g.isPointwise {
                columns = image
            } else {
                im2col(image, channels: g.inPerGroup, g, columns: scratch!)
                columns = UnsafePointer(scratch!)
            }
            let out = output + (n * g.outChannels + group * g.outPerGroup) * spatial
            gemm(m: g.outPerGroup, n: spatial, k: g.patchSize,
                 a: weight + group * g.outPerGroup * g.patchSize, b: columns, c: out)
        }
        if let bias { addChannelBias(output + n * g.outChannels * spatial, bias: bias, channels: g.outChannels, spatial: spatial) }
    }
}

// Adds into inputGrad, weightGrad and biasGrad (each optional).
public func conv2dBackward(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           outputGrad: UnsafePointer<Float>,
                           inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?,
                           biasGrad: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>?) {
    let spatial = g.outHeight * g.outWidth, inSize = g.inChannels * g.height * g.width
    if let biasGrad {
        for n in 0..<g.batch {
            for o in 0..<g.outChannels { biasGrad[o] += vectorSum(outputGrad + (n * g.outChannels + o) * spatial, count: spatial) }
        }
    }
    if g.isDepthwise {
        return depthwiseConv2dBackward(g, input: input, weight: weight, outputGrad: outputGrad,
                                       inputGrad: inputGrad, weightGrad: weightGrad)
    }
    for n in 0..<g.batch {
        for group in 0..<g.groups {
            let imageOffset = n * inSize + group * g.inPerGroup * g.height * g.width
            let dOut = outputGrad + (n * g.outChannels + group * g.outPerGroup) * spatial
            let w = weight + group * g.outPerGroup * g.patchSize
            if let weightGrad {
                let columns: UnsafePointer<Float>
                if g.isPointwise {
                    columns = input + imageOffset
                } else {
                    im2col(input + imageOffset, channels: g.inPerGroup, g, columns: scratch!)
                    columns = UnsafePointer(scratch!)
                }
                // dW (O/g × patch) += dY (O/g × spatial) · colsᵀ
                gemm(transposeB: true, m: g.outPerGroup, n: g.patchSize, k: spatial,
                     a: dOut, b: columns, beta: 1, c: weightGrad + group * g.outPerGroup * g.patchSize)
            }
            if let inputGrad {
                if g.isPointwise {
                    gemm(transposeA: true, m: g.patchSize, n: spatial, k: g.outPerGroup,
                         a: w, b: dOut, beta: 1, c: inputGrad + imageOffset)
                } else {
                    // dCols (patch × spatial) = Wᵀ · dY, then scattered back into the image.
                    gemm(transposeA: true, m: g.patchSize, n: spatial, k: g.outPerGroup, a: w, b: dOut, c: scratch!)
                    col2im(scratch!, channels: g.inPerGroup, g, imageGrad: inputGrad + imageOffset)
                }
            }
        }
    }
}

/// Straightforward seven-loop convolution the tests check every fast path against.
public func conv2dReference(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
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

// One channel per group: each output plane reads one input plane through a KH×KW filter.
// The input plane is copied into a zero-padded buffer so the inner loop has no bounds checks.
func depthwiseConv2dForward(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
    let (oh, ow) = (g.outHeight, g.outWidth), (kh, kw) = (g.kernelHeight, g.kernelWidth)
    let paddedH = (oh - 1) * g.strideH + (kh - 1) * g.dilationH + 1
    let paddedW = (ow - 1) * g.strideW + (kw - 1) * g.dilationW + 1 + 8  // +8: room for SIMD overreads
    parallelFor(g.batch * g.inChannels) { planes in
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedH * paddedW)
        defer { padded.deallocate() }
        for plane in planes {
            let c = plane % g.inChannels
            fillPadded(padded, paddedH: paddedH, paddedW: paddedW, from: input + plane * g.height * g.width, g)
            let w = weight + c * kh * kw
            let out = output + plane * oh * ow
            let b = bias?[c] ?? 0
            for oy in 0..<oh {
                let row = out + oy * ow
                row.initialize(repeating: b, count: ow)
                for i in 0..<kh {
                    let src = padded + (oy * g.strideH + i * g.dilationH) * paddedW
                    for j in 0..<kw {
                        accumulateScaledRow(row, count: ow, weight: w[i * kw + j],
                                            source: src + j * g.dilationW, stride: g.strideW)
                    }
                }
            }
        }
    }
}

func depthwiseConv2dBackward(_ g: Conv2dGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                             outputGrad: UnsafePointer<Float>,
                             inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?) {
    let (oh, ow) = (g.outHeight, g.outWidth), (kh, kw) = (g.kernelHeight, g.kernelWidth)
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
                                acc += dotStrided(dOut + oy * ow, padded + (oy * g.strideH + i * g.dilationH) * paddedW + j * g.dilationW,
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
                                let wv = w[i * kw + j], base = dst + j * g.dilationW, row = dOut + oy * ow
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
private func fillPadded(_ padded: UnsafeMutablePointer<Float>, paddedH: Int, paddedW: Int,
                        from plane: UnsafePointer<Float>, _ g: Conv2dGeometry) {
    padded.initialize(repeating: 0, count: paddedH * paddedW)
    for y in 0..<g.height {
        let py = y + g.padTop
        guard py < paddedH else { break }
        let count = min(g.width, paddedW - 8 - g.padLeft)
        if count > 0 { (padded + py * paddedW + g.padLeft).update(from: plane + y * g.width, count: count) }
    }
}

// row[x] += weight · source[x·stride] for x in 0..<count.
@inline(__always)
private func accumulateScaledRow(_ row: UnsafeMutablePointer<Float>, count: Int, weight: Float,
                                 source: UnsafePointer<Float>, stride: Int) {
    if stride == 1 {
        let w = SIMD8<Float>(repeating: weight)
        var x = 0
        while x + 8 <= count {
            let r = UnsafeMutableRawPointer(row + x), s = UnsafeRawPointer(source + x)
            let acc = r.loadUnaligned(as: SIMD8<Float>.self).addingProduct(s.loadUnaligned(as: SIMD8<Float>.self), w)
            r.storeBytes(of: acc, as: SIMD8<Float>.self)
            x += 8
        }
        while x < count { row[x] += weight * source[x]; x += 1 }
    } else {
        for x in 0..<count { row[x] += weight * source[x * stride] }
    }
}

@inline(__always)
private func dotStrided(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, stride: Int) -> Float {
    var acc: Float = 0
    for x in 0..<count { acc += a[x] * b[x * stride] }
    return acc
}

// MARK: - Small shared helpers

@inline(__always)
func addChannelBias(_ output: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, channels: Int, spatial: Int) {
    for c in 0..<channels {
        let b = bias[c], row = output + c * spatial
        for i in 0..<spatial { row[i] += b }
    }
}

@inline(__always)
public func vectorSum(_ values: UnsafePointer<Float>, count: Int) -> Float {
    var acc = SIMD8<Float>(), i = 0
    while i + 8 <= count {
        acc += UnsafeRawPointer(values + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var total = acc.sum()
    while i < count { total += values[i]; i += 1 }
    return total
}
