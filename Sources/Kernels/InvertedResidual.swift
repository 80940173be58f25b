import CKernels
import Foundation

// MobileNet-V2's inverted residual at inference (1×1 expand → depthwise → 1×1 project, + the input), fused
// where its expanded tensor would leave the cache: the block runs a band of output rows at a time, so the
// expanded band and the depthwise band stay in cache instead of being written to memory whole and read back.

/// One convolution of a fused block: its geometry, its filters as the kernel reads them, and its epilogue.
public struct FusedConv {
    /// The convolution's sizes over the whole input it sees.
    public var geometry: Conv2dGeometry
    /// A pointwise conv's weights, packed for the GEMM (nil for a depthwise conv).
    public var packed: PackedConvWeights?
    /// A depthwise conv's filters, C × KH × KW (nil for a pointwise conv).
    public var weight: UnsafePointer<Float>?
    /// What the conv applies as it stores its output.
    public var epilogue: ConvEpilogue

    /// A stage of a fused block.
    ///
    /// - Parameters:
    ///   - geometry: The convolution's sizes.
    ///   - packed: Packed weights of a pointwise conv, or nil.
    ///   - weight: Filters of a depthwise conv, or nil.
    ///   - epilogue: Folded batch norm, bias, residual and activation applied on store.
    public init(
        _ geometry: Conv2dGeometry, packed: PackedConvWeights? = nil, weight: UnsafePointer<Float>? = nil,
        epilogue: ConvEpilogue
    ) {
        self.geometry = geometry
        self.packed = packed
        self.weight = weight
        self.epilogue = epilogue
    }
}

/// output = project(depthwise(expand(input))), each conv with its epilogue (the project's may add the input as
/// its residual); without `expand` the depthwise conv reads the input (a depthwise-separable block). Where the
/// expanded tensor would not stay in cache (`fusionPays`), fused: a band of output rows at a time, input rows
/// that two bands share expanded once (the next band keeps them), images and, when there are fewer images than
/// threads, parts of an image on separate threads.
///
/// - Parameters:
///   - expand: A pointwise conv from the input's channels to the depthwise conv's, or nil.
///   - depthwise: The depthwise conv (any kernel, stride, padding and dilation).
///   - project: A pointwise conv from the depthwise conv's channels to the output's.
///   - input: N × C × H × W.
///   - output: Receives N × O × OH × OW.
public func invertedResidualInference(
    expand: FusedConv?, depthwise: FusedConv, project: FusedConv, input: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>
) {
    invertedResidualInference(
        expand: expand, depthwise: depthwise, project: project, input: input, output: output,
        fused: depthwise.geometry.fusionPays)
}

/// `invertedResidualInference`, `fused` or as three convs.
func invertedResidualInference(
    expand: FusedConv?, depthwise: FusedConv, project: FusedConv, input: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>, fused: Bool
) {
    let g = depthwise.geometry
    precondition(
        g.isDepthwise && depthwise.weight != nil && project.geometry.isPointwise && project.packed != nil
            && project.geometry.inChannels == g.outChannels && project.geometry.height == g.outHeight
            && project.geometry.width == g.outWidth
            && expand.map {
                $0.geometry.isPointwise && $0.packed != nil && $0.geometry.outChannels == g.inChannels
                    && $0.geometry.height == g.height && $0.geometry.width == g.width
            } ?? true && depthwise.epilogue.residual == nil && expand?.epilogue.residual == nil,
        "invertedResidualInference: the convs do not chain")
    guard fused else {
        // The whole tensors stay in cache: one conv after another, each split across the threads at full width.
        let expanded = expand.map {
            UnsafeMutablePointer<Float>.allocate(capacity: $0.geometry.outputShape.reduce(1, *))
        }
        let filtered = UnsafeMutablePointer<Float>.allocate(capacity: g.outputShape.reduce(1, *))
        defer {
            expanded?.deallocate()
            filtered.deallocate()
        }
        if let expand, let expanded {
            conv2dInference(
                expand.geometry, input: input, weight: nil, packed: expand.packed, epilogue: expand.epilogue,
                output: expanded)
        }
        conv2dInference(
            g, input: expanded.map { UnsafePointer($0) } ?? input, weight: depthwise.weight, packed: nil,
            epilogue: depthwise.epilogue, output: filtered)
        if g.projectSplitsOverDepth {
            return projectOverDepth(project, input: filtered, output: output)
        }
        return conv2dInference(
            project.geometry, input: filtered, weight: nil, packed: project.packed, epilogue: project.epilogue,
            output: output)
    }
    KernelProfile.measure(
        .fusedBlock,
        shape: g.profileShape(
            "fused", channels: [expand?.geometry.inChannels, g.inChannels, project.geometry.outChannels])
    ) {
        let inChannels = expand?.geometry.inChannels ?? g.inChannels
        let (mid, outChannels) = (g.inChannels, project.geometry.outChannels)
        let (inPlane, outPlane) = (g.height * g.width, g.outHeight * g.outWidth)
        let band = g.fusedBandRows
        let heldRows = min(g.height, g.bandInputRows(band))
        let runs = min(g.outHeight, (Threads.count + g.batch - 1) / g.batch)
        let expandMatrix = expand?.packed!.matrices[0]
        let projectMatrix = project.packed!.matrices[0]
        let taps = g.kernelHeight * g.kernelWidth
        parallelFor(g.batch * runs) { items in
            let expanded =
                expand == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: mid * heldRows * g.width)
            let filtered = UnsafeMutablePointer<Float>.allocate(capacity: mid * band * g.outWidth)
            let scratch = UnsafeMutablePointer<Float>.allocate(
                capacity: withUnsafePointer(to: g.bandPlane(outputRows: 0..<band)) { zoo_depthwise_scratch_count($0) })
            defer {
                expanded?.deallocate()
                filtered.deallocate()
                scratch.deallocate()
            }
            for item in items {
                let (n, run) = item.quotientAndRemainder(dividingBy: runs)
                let image = input + n * inChannels * inPlane
                let outRows = g.outHeight * run / runs..<g.outHeight * (run + 1) / runs
                var held = 0..<0  // the input rows `expanded` holds
                for top in stride(from: outRows.lowerBound, to: outRows.upperBound, by: band) {
                    let rows = top..<min(outRows.upperBound, top + band)
                    let needed = g.inputRows(for: rows)
                    // The depthwise conv reads channel c's rows from source + c · sourceStride.
                    var source = image + needed.lowerBound * g.width
                    var sourceStride = inPlane
                    if let expand, let expanded, let expandMatrix {
                        // Rows the last band expanded and this one reads move to the front; the rest are expanded.
                        let kept = needed.lowerBound < held.upperBound ? needed.lowerBound..<held.upperBound : 0..<0
                        if !kept.isEmpty, kept.lowerBound > held.lowerBound {
                            for c in 0..<mid {
                                let slab = expanded + c * heldRows * g.width
                                memmove(
                                    slab, slab + (kept.lowerBound - held.lowerBound) * g.width,
                                    kept.count * g.width * MemoryLayout<Float>.size)
                            }
                        }
                        let fresh = needed.lowerBound + kept.count..<needed.upperBound
                        gemm(
                            packedA: expandMatrix, n: fresh.count * g.width, b: image + fresh.lowerBound * g.width,
                            ldb: inPlane, c: expanded + kept.count * g.width, ldc: heldRows * g.width,
                            epilogue: expand.epilogue.gemm(
                                channel: 0, residualOffset: nil, residualStride: 0,
                                activation: expand.epilogue.activation))
                        held = needed
                        source = UnsafePointer(expanded)
                        sourceStride = heldRows * g.width
                    }
                    var plane = g.bandPlane(outputRows: rows)
                    let e = depthwise.epilogue
                    for c in 0..<mid {
                        zoo_depthwise_plane(
                            &plane, source + c * sourceStride, depthwise.weight! + c * taps, e.scale?[c] ?? 1,
                            e.shift?[c] ?? 0, e.activation.c, filtered + c * rows.count * g.outWidth, scratch)
                    }
                    let at = n * outChannels * outPlane + rows.lowerBound * g.outWidth
                    gemm(
                        packedA: projectMatrix, n: rows.count * g.outWidth, b: filtered, c: output + at, ldc: outPlane,
                        epilogue: project.epilogue.gemm(
                            channel: 0, residualOffset: at, residualStride: outPlane,
                            activation: project.epilogue.activation))
                }
            }
        }
    }
}

/// The project conv of an unfused block of one image, each thread summing over the channels its share of the
/// depthwise conv wrote (`parallelFor`'s share of the planes), then the partial sums added up with the epilogue,
/// a share of the output channels per thread. Split by columns, each thread read half the planes the other wrote,
/// and the next block's depthwise conv, given the same memory by malloc, then wrote to lines the other core held:
/// MobileNetV2's 384@14², two threads, Zen 4, 37–40 → 24 µs, the project itself no slower.
private func projectOverDepth(_ project: FusedConv, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
    let p = project.geometry
    let (m, depth, n) = (p.outChannels, p.inChannels, p.height * p.width)
    let (parts, block) = (min(Threads.count, depth), PackedMatrix.depthBlock)
    let matrix = project.packed!.matrices[0]
    let partials = UnsafeMutablePointer<Float>.allocate(capacity: (parts - 1) * m * n)
    defer { partials.deallocate() }
    let e = project.epilogue
    KernelProfile.measure(.convolution(p), shape: p.profileShape("gemm by depth")) {
        parallelFor(parts) { range in
            for part in range {
                // The share's depths a GEMM depth block at a time (a view of packed A lies inside one).
                let share = depth * part / parts..<depth * (part + 1) / parts
                var start = share.lowerBound
                while start < share.upperBound {
                    let depths = start..<min(share.upperBound, (start / block + 1) * block)
                    gemm(
                        packedA: matrix.depths(depths), n: n, b: input + start * n,
                        beta: start == share.lowerBound ? 0 : 1,
                        c: part == 0 ? output : partials + (part - 1) * m * n)
                    start = depths.upperBound
                }
            }
        }
        parallelFor(m) { channels in
            for o in channels {
                let row = output + o * n
                for part in 1..<parts {
                    addResidual(partials + ((part - 1) * m + o) * n, to: row, count: n, activation: .identity)
                }
                zoo_scale_shift_activation(
                    row, row, n, e.scale?[o] ?? 1, e.shift?[o] ?? 0,
                    (e.residual == nil ? e.activation : .identity).c)
                if let residual = e.residual {
                    addResidual(residual + o * n, to: row, count: n, activation: e.activation)
                }
            }
        }
    }
}

extension Conv2dGeometry {
    /// Whether the project conv after this depthwise conv, unfused, runs split over its depth (`projectOverDepth`):
    /// one image, several threads, and 256 channels or more, since the partial sums cost a pass over the output
    /// (MobileNetV2, two threads, Zen 4: 192→32 at 28² and 32→16 at 112² 10 % and 60 % slower that way).
    var projectSplitsOverDepth: Bool {
        batch == 1 && Threads.count > 1 && inChannels >= 256
    }

    /// Whether a block around this depthwise conv runs fused: when its input (the expanded tensor) is 6 MB or
    /// more, which unfused would be written out to memory and read back. Below, the convs run one after another,
    /// which splits each across the threads with no rows computed twice (Zen 4, 2 threads, MobileNetV2's blocks
    /// one by one: at 448 px fused 1.3–1.9× faster at 6–19 MB (even for one of stride 2), 1.3–1.7× slower at
    /// 1–2.4 MB; at 224 px even at 4.8 MB; at batch 8, 224 px, 1.2–2.9× faster at 13–38 MB).
    var fusionPays: Bool { batch * inChannels * height * width >= 3 << 19 }

    /// Output rows a fused block computes at a time: the expanded and depthwise bands of about 256 KB together,
    /// so that they stay in a core's L2 cache.
    var fusedBandRows: Int {
        let budget = 1 << 16  // floats
        var rows = 1
        while rows < outHeight
            && inChannels * (bandInputRows(rows + 1) * width + (rows + 1) * outWidth) <= budget
        {
            rows += 1
        }
        return rows
    }

    /// The input rows, padding included, that `rows` consecutive output rows read.
    func bandInputRows(_ rows: Int) -> Int { (rows - 1) * strideH + (kernelHeight - 1) * dilationH + 1 }

    /// The input rows that output rows `rows` read (padding rows left out).
    func inputRows(for rows: Range<Int>) -> Range<Int> {
        let first = rows.lowerBound * strideH - padTop
        let last = (rows.upperBound - 1) * strideH - padTop + (kernelHeight - 1) * dilationH
        return max(0, first)..<max(0, first, min(height, last + 1))
    }

    /// One channel of output rows `rows` as a plane of its own: the rows they read, padded as the whole plane is.
    func bandPlane(outputRows rows: Range<Int>) -> zoo_plane_geometry {
        let read = inputRows(for: rows)
        var band = plane
        (band.height, band.out_height) = (read.count, rows.count)
        band.pad_top = padTop + read.lowerBound - rows.lowerBound * strideH
        return band
    }
}
