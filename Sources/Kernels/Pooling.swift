import CKernels

// Max and average pooling over NCHW planes, as torch.nn.functional.max_pool2d / avg_pool2d,
// plus adaptive average pooling.

/// Output sizes with optional ceil_mode (a window may not start in the right/bottom padding).
public struct Pool2dGeometry: Equatable, Sendable {
    /// The number of planes (N·C, each pooled on its own) and each plane's height and width.
    public var planes: Int, height: Int, width: Int
    /// The window's size and the step between windows, in input pixels.
    public var kernelH: Int, kernelW: Int, strideH: Int, strideW: Int
    /// Padding on each side: −∞ for max pooling, zeros for average pooling.
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    /// torch's `ceil_mode`: round the output size up, keeping a last partial window.
    public var ceilMode: Bool

    /// The geometry of a pooling call, as torch.nn.functional.max_pool2d / avg_pool2d take it.
    ///
    /// - Parameters:
    ///   - planes: N·C, the planes pooled independently.
    ///   - height: The input's height.
    ///   - width: The input's width.
    ///   - kernel: (height, width) of the window.
    ///   - stride: (vertical, horizontal) step between windows.
    ///   - padding: Padding on each side; unequal sides give TF/timm "same" pooling.
    ///   - ceilMode: Whether to round the output size up (torch's `ceil_mode`).
    public init(
        planes: Int, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int),
        padding: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0), ceilMode: Bool = false
    ) {
        self.planes = planes
        self.height = height
        self.width = width
        kernelH = kernel.0
        kernelW = kernel.1
        strideH = stride.0
        strideW = stride.1
        padTop = padding.top
        padLeft = padding.left
        padBottom = padding.bottom
        padRight = padding.right
        self.ceilMode = ceilMode
    }

    private static func outSize(_ n: Int, _ k: Int, _ s: Int, _ p0: Int, _ p1: Int, _ ceil: Bool) -> Int {
        let span = n + p0 + p1 - k
        var out = (ceil ? (span + s - 1) / s : span / s) + 1
        if ceil && (out - 1) * s >= n + p0 { out -= 1 }
        return out
    }
    /// OH, the output's height, by torch's pooling formula.
    public var outHeight: Int { Self.outSize(height, kernelH, strideH, padTop, padBottom, ceilMode) }
    /// OW, the output's width, by torch's pooling formula.
    public var outWidth: Int { Self.outSize(width, kernelW, strideW, padLeft, padRight, ceilMode) }
}

/// Max pooling of each plane (torch.nn.functional.max_pool2d); a NaN in a window wins, as in torch.
///
/// - Parameters:
///   - g: The planes' and window's geometry.
///   - input: planes × H × W.
///   - output: Receives planes × OH × OW.
///   - argmax: Receives, per output, the flat index of its maximum within the input plane, for
///     `maxPool2dBackward`; nil in inference (a faster vector kernel runs).
public func maxPool2dForward(
    _ g: Pool2dGeometry, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
    argmax: UnsafeMutablePointer<Int32>?
) {
    KernelProfile.measure(.pooling) {
        let (oh, ow) = (g.outHeight, g.outWidth)
        guard let argmax else {
            // Inference: the vector kernel, over a padded copy of each plane (NaN wins, as in torch).
            return g.forEachPlane { plane, p, scratch in
                zoo_max_pool_plane(plane, input + p * g.height * g.width, output + p * oh * ow, scratch)
            }
        }
        parallelFor(g.planes, minimumPerThread: 4) { planes in
            for p in planes {
                let src = input + p * g.height * g.width
                for oy in 0..<oh {
                    let y0 = oy * g.strideH - g.padTop
                    let yStart = max(0, y0)
                    let yEnd = min(g.height, y0 + g.kernelH)
                    for ox in 0..<ow {
                        let x0 = ox * g.strideW - g.padLeft
                        let xStart = max(0, x0)
                        let xEnd = min(g.width, x0 + g.kernelW)
                        let o = (p * oh + oy) * ow + ox
                        var best = -Float.infinity
                        var bestIndex = yStart * g.width + xStart
                        for y in yStart..<yEnd {
                            for x in xStart..<xEnd {
                                let v = src[y * g.width + x]
                                if v > best || v.isNaN {
                                    best = v
                                    bestIndex = y * g.width + x
                                }
                            }
                        }
                        output[o] = best
                        argmax[o] = Int32(bestIndex)
                    }
                }
            }
        }
    }
}

/// Adds each output's gradient into inputGrad at the position `maxPool2dForward`'s argmax recorded.
public func maxPool2dBackward(
    _ g: Pool2dGeometry, argmax: UnsafePointer<Int32>, outputGrad: UnsafePointer<Float>,
    inputGrad: UnsafeMutablePointer<Float>
) {
    KernelProfile.measure(.pooling) {
        let spatial = g.outHeight * g.outWidth
        parallelFor(g.planes, minimumPerThread: 4) { planes in
            for p in planes {
                let dst = inputGrad + p * g.height * g.width
                for o in p * spatial..<(p + 1) * spatial { dst[Int(argmax[o])] += outputGrad[o] }
            }
        }
    }
}

// Divisor: the whole window (count_include_pad) or only its in-image taps; windows never count the
// part that ceil_mode lets run past the padding, as in PyTorch.
@inline(__always)
private func averageWindow(
    _ g: Pool2dGeometry, oy: Int, ox: Int, countIncludePad: Bool
)
    -> (ys: Range<Int>, xs: Range<Int>, divisor: Float)
{
    let y0 = oy * g.strideH - g.padTop
    let x0 = ox * g.strideW - g.padLeft
    let y1 = min(y0 + g.kernelH, g.height + g.padBottom)
    let x1 = min(x0 + g.kernelW, g.width + g.padRight)
    let ys = max(0, y0)..<min(g.height, y1)
    let xs = max(0, x0)..<min(g.width, x1)
    let count = countIncludePad ? (y1 - y0) * (x1 - x0) : ys.count * xs.count
    return (ys, xs, Float(max(1, count)))
}

/// Average pooling of each plane (torch.nn.functional.avg_pool2d), planes × H × W into planes × OH × OW.
///
/// - Parameters:
///   - g: The planes' and window's geometry.
///   - countIncludePad: torch's `count_include_pad`: divide by the window including its padding, or only by
///     its in-image taps.
///   - input: planes × H × W.
///   - output: Receives planes × OH × OW.
public func avgPool2dForward(
    _ g: Pool2dGeometry, countIncludePad: Bool, input: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>
) {
    KernelProfile.measure(.pooling) {
        let (oh, ow) = (g.outHeight, g.outWidth)
        // Window sums from the depthwise kernel with a filter of ones (padding adds zeros), then each position's divisor.
        let divisors = (0..<oh * ow).map {
            averageWindow(g, oy: $0 / ow, ox: $0 % ow, countIncludePad: countIncludePad).divisor
        }
        let ones = [Float](repeating: 1, count: g.kernelH * g.kernelW)
        g.forEachPlane { plane, p, scratch in
            let out = output + p * oh * ow
            zoo_depthwise_plane(plane, input + p * g.height * g.width, ones, 1, 0, Activation.identity.c, out, scratch)
            for i in 0..<oh * ow { out[i] /= divisors[i] }
        }
    }
}

extension Pool2dGeometry {
    /// Every plane through a C plane kernel (`forEachPlane`), with this window as the kernel's geometry.
    func forEachPlane(_ body: (UnsafePointer<zoo_plane_geometry>, Int, UnsafeMutablePointer<Float>) -> Void) {
        let plane = zoo_plane_geometry(
            height: height, width: width, out_height: outHeight, out_width: outWidth, kernel_height: kernelH,
            kernel_width: kernelW,
            stride_h: strideH, stride_w: strideW, dilation_h: 1, dilation_w: 1, pad_top: padTop, pad_left: padLeft)
        Kernels.forEachPlane(plane, count: planes, minimumPerThread: 4, body)
    }
}

/// Adds each output's gradient, divided as in the forward pass, into the in-image taps of its window.
public func avgPool2dBackward(
    _ g: Pool2dGeometry, countIncludePad: Bool, outputGrad: UnsafePointer<Float>,
    inputGrad: UnsafeMutablePointer<Float>
) {
    KernelProfile.measure(.pooling) {
        let (oh, ow) = (g.outHeight, g.outWidth)
        parallelFor(g.planes, minimumPerThread: 4) { planes in
            for p in planes {
                let dst = inputGrad + p * g.height * g.width
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let w = averageWindow(g, oy: oy, ox: ox, countIncludePad: countIncludePad)
                        let share = outputGrad[(p * oh + oy) * ow + ox] / w.divisor
                        for y in w.ys { for x in w.xs { dst[y * g.width + x] += share } }
                    }
                }
            }
        }
    }
}

/// Adaptive average pooling (torch.nn.functional.adaptive_avg_pool2d): output cell (i, j) averages rows
/// floor(i·H/OH)..<ceil((i+1)·H/OH), same for columns.
///
/// - Parameters:
///   - planes: N·C, the planes pooled independently.
///   - height: H.
///   - width: W.
///   - outHeight: OH.
///   - outWidth: OW.
///   - input: planes × H × W.
///   - output: Receives planes × OH × OW.
public func adaptiveAvgPool2dForward(
    planes: Int, height: Int, width: Int, outHeight: Int, outWidth: Int,
    input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
) {
    KernelProfile.measure(.pooling) {
        parallelFor(planes, minimumPerThread: 16) { range in
            for p in range {
                let src = input + p * height * width
                for i in 0..<outHeight {
                    let rows = adaptiveCell(i, of: outHeight, over: height)
                    for j in 0..<outWidth {
                        let columns = adaptiveCell(j, of: outWidth, over: width)
                        var acc: Float = 0
                        for y in rows { for x in columns { acc += src[y * width + x] } }
                        output[(p * outHeight + i) * outWidth + j] = acc / Float(rows.count * columns.count)
                    }
                }
            }
        }
    }
}

/// Adds each output cell's gradient, divided by its cell's size, into every input value the cell averaged.
public func adaptiveAvgPool2dBackward(
    planes: Int, height: Int, width: Int, outHeight: Int, outWidth: Int,
    outputGrad: UnsafePointer<Float>, inputGrad: UnsafeMutablePointer<Float>
) {
    KernelProfile.measure(.pooling) {
        parallelFor(planes, minimumPerThread: 16) { range in
            for p in range {
                let dst = inputGrad + p * height * width
                for i in 0..<outHeight {
                    let rows = adaptiveCell(i, of: outHeight, over: height)
                    for j in 0..<outWidth {
                        let columns = adaptiveCell(j, of: outWidth, over: width)
                        let share = outputGrad[(p * outHeight + i) * outWidth + j] / Float(rows.count * columns.count)
                        for y in rows { for x in columns { dst[y * width + x] += share } }
                    }
                }
            }
        }
    }
}

/// torch's adaptive pooling cell `index` of `cells` over `size` inputs: floor(i·size/cells) up to ceil((i+1)·size/cells).
@inline(__always)
private func adaptiveCell(_ index: Int, of cells: Int, over size: Int) -> Range<Int> {
    (index * size / cells)..<(((index + 1) * size + cells - 1) / cells)
}
