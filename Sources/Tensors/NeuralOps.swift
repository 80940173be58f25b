import Kernels
import Randomness

/// Padding of the two spatial axes; `same(...)` resolves TF "same" padding for an input size.
public struct Padding2d: Equatable, Sendable {
    /// Pixels added above, left of, below and right of the input.
    public var top: Int, left: Int, bottom: Int, right: Int

    /// Padding that may differ on each side (TF "same" puts the odd pixel at the bottom and right).
    public init(top: Int, left: Int, bottom: Int, right: Int) {
        self.top = top
        self.left = left
        self.bottom = bottom
        self.right = right
    }
    /// `p` pixels on every side (torch's `padding=p`).
    public init(_ p: Int) { self.init(top: p, left: p, bottom: p, right: p) }
    /// `h` pixels above and below, `w` left and right (torch's `padding=(h, w)`).
    public init(_ h: Int, _ w: Int) { self.init(top: h, left: w, bottom: h, right: w) }
    /// No padding.
    public static let zero = Padding2d(0)

    /// TensorFlow "same": total = max((⌈n/s⌉ − 1)·s + (k − 1)·d + 1 − n, 0), the extra pixel at the end.
    public static func same(
        height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int) = (1, 1)
    ) -> Padding2d {
        func total(_ n: Int, _ k: Int, _ s: Int, _ d: Int) -> Int {
            max(((n + s - 1) / s - 1) * s + (k - 1) * d + 1 - n, 0)
        }
        let th = total(height, kernel.0, stride.0, dilation.0)
        let tw = total(width, kernel.1, stride.1, dilation.1)
        return Padding2d(top: th / 2, left: tw / 2, bottom: th - th / 2, right: tw - tw / 2)
    }
    var tuple: (top: Int, left: Int, bottom: Int, right: Int) { (top, left, bottom, right) }
}

/// One convolution of an inference pass with its batch norm folded in: activation(conv(x) · scale[o] + shift[o]).
public struct InferenceConv {
    /// The filters, O × I/groups × KH × KW.
    public var weight: Tensor
    /// O per-channel factors and offsets (a folded batch norm, the bias); nil for 1 and 0.
    public var scale: [Float]?, shift: [Float]?
    /// Applied last.
    public var activation: Activation
    /// As torch.nn.functional.conv2d's.
    public var stride: (Int, Int), padding: Padding2d, dilation: (Int, Int), groups: Int

    /// A convolution with its epilogue; the defaults are torch's.
    ///
    /// - Parameters:
    ///   - weight: The filters, O × I/groups × KH × KW.
    ///   - scale: O per-channel factors, or nil.
    ///   - shift: O per-channel offsets, or nil.
    ///   - activation: Applied last.
    ///   - stride: (vertical, horizontal) step.
    ///   - padding: Zeros added on each side.
    ///   - dilation: (vertical, horizontal) spacing of the taps.
    ///   - groups: Channel groups.
    public init(
        weight: Tensor, scale: [Float]? = nil, shift: [Float]? = nil, activation: Activation = .identity,
        stride: (Int, Int) = (1, 1), padding: Padding2d = .zero, dilation: (Int, Int) = (1, 1), groups: Int = 1
    ) {
        self.weight = weight
        self.scale = scale
        self.shift = shift
        self.activation = activation
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
    }

    /// Runs `body` with this conv as the kernels take it for geometry `g`: weights packed once (a depthwise
    /// conv's read as they are; packed weights are all the others read, the values themselves may be released).
    func withKernelConv<R>(
        _ g: Conv2dGeometry, residual: UnsafePointer<Float>?, _ body: (FusedConv) -> R
    ) -> R {
        let packed = g.isDepthwise ? nil : weight.packedConvWeights(g)
        return (scale ?? []).withUnsafeBufferPointer { scale in
            (shift ?? []).withUnsafeBufferPointer { shift in
                body(
                    FusedConv(
                        g, packed: packed, weight: packed == nil ? UnsafePointer(weight.pointer) : nil,
                        epilogue: ConvEpilogue(
                            scale: scale.isEmpty ? nil : scale.baseAddress,
                            shift: shift.isEmpty ? nil : shift.baseAddress, residual: residual, activation: activation))
                )
            }
        }
    }
}

extension Tensor {
    /// This conv weight packed for geometry `g` on the active kernel path, once per weight version.
    func packedConvWeights(_ g: Conv2dGeometry) -> PackedConvWeights {
        derived("conv2d.\(PackedConvWeights.variant(g)).\(KernelPath.active.name)") {
            PackedConvWeights(g, weight: $0, consumed: $1)
        }
    }
}

extension Tensor {
    func requireRank(_ r: Int, _ op: String) throws {
        guard rank == r else {
            throw TensorError.invalidArgument(op: op, reason: "expects a rank-\(r) tensor, got shape \(shape)")
        }
    }

    // MARK: Convolution

    /// torch.nn.functional.conv2d on NCHW input with OIHW weight.
    public func conv2d(
        weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: Padding2d = .zero,
        dilation: (Int, Int) = (1, 1), groups: Int = 1
    ) throws -> Tensor {
        let g = try Tensor.convolutionGeometry(
            input: shape, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
            groups: groups)
        let x = pointer
        let w = weight.pointer
        let b = bias?.pointer
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        return try Tensor.result(
            shape: g.outputShape, inputs: inputs,
            compute: { out in
                conv2dForward(g, input: x, weight: w, bias: b, output: out)
            },
            backward: { grad in
                let dx = self.requiresGrad ? try self.gradPointer() : nil
                let dw = weight.requiresGrad ? try weight.gradPointer() : nil
                let db = (bias?.requiresGrad ?? false) ? try bias!.gradPointer() : nil
                conv2dBackward(
                    g, input: x, weight: w, outputGrad: grad.pointer, inputGrad: dx, weightGrad: dw, biasGrad: db)
            })
    }

    /// Inference only (no autograd record): activation(conv2d(self) · scale[o] + shift[o] + residual) in one
    /// pass, the weights packed for the GEMM once per weight version and instruction-set path.
    public func conv2dInference(
        weight: Tensor, scale: [Float]? = nil, shift: [Float]? = nil, residual: Tensor? = nil,
        activation: Activation = .identity, stride: (Int, Int) = (1, 1), padding: Padding2d = .zero,
        dilation: (Int, Int) = (1, 1), groups: Int = 1
    ) throws -> Tensor {
        try conv2dInference(
            InferenceConv(
                weight: weight, scale: scale, shift: shift, activation: activation, stride: stride, padding: padding,
                dilation: dilation, groups: groups),
            residual: residual)
    }

    /// `conv2dInference` of one conv with its epilogue, `residual` (of the output's shape) added before the
    /// activation.
    public func conv2dInference(_ conv: InferenceConv, residual: Tensor? = nil) throws -> Tensor {
        let g = try Tensor.convolutionGeometry(input: shape, conv)
        guard residual.map({ $0.shape == g.outputShape }) ?? true else {
            throw TensorError.shapeMismatch(op: "conv2dInference", shapes: [g.outputShape, residual!.shape])
        }
        let output = try Tensor(uninitializedShape: g.outputShape)
        withExtendedLifetime(residual) {
            conv.withKernelConv(g, residual: residual.map { UnsafePointer($0.pointer) }) { conv in
                Kernels.conv2dInference(
                    g, input: pointer, weight: conv.weight, packed: conv.packed, epilogue: conv.epilogue,
                    output: output.pointer)
            }
        }
        return output
    }

    /// The inverted residual block of MobileNet-V2 and EfficientNet at inference, fused (no autograd record):
    /// project(depthwise(expand(self))) [+ self], each conv with its folded batch norm and activation, computed a
    /// band of rows at a time so that the expanded tensors are never written out whole.
    ///
    /// - Parameters:
    ///   - expand: A 1×1 conv from this tensor's channels to the depthwise conv's, or nil (a depthwise-separable
    ///     block: the depthwise conv reads this tensor).
    ///   - depthwise: A depthwise conv (groups = channels).
    ///   - project: A 1×1 conv to the output's channels.
    ///   - addsInput: Whether this tensor is added to the output (before the project's activation).
    /// - Returns: The block's output, N × O × OH × OW.
    /// - Throws: `TensorError.shapeMismatch` when the convs do not chain into such a block.
    public func invertedResidualInference(
        expand: InferenceConv?, depthwise: InferenceConv, project: InferenceConv, addsInput: Bool
    ) throws -> Tensor {
        let expandGeometry = try expand.map { try Tensor.convolutionGeometry(input: shape, $0) }
        let g = try Tensor.convolutionGeometry(input: expandGeometry?.outputShape ?? shape, depthwise)
        let projectGeometry = try Tensor.convolutionGeometry(input: g.outputShape, project)
        guard g.isDepthwise, projectGeometry.isPointwise, expandGeometry?.isPointwise ?? true,
            !addsInput || projectGeometry.outputShape == shape
        else {
            throw TensorError.shapeMismatch(
                op: "invertedResidualInference",
                shapes: [shape] + [expand, depthwise, project].compactMap { $0?.weight.shape })
        }
        let output = try Tensor(uninitializedShape: projectGeometry.outputShape)
        func withExpand(_ body: (FusedConv?) -> Void) {
            guard let expand, let expandGeometry else { return body(nil) }
            expand.withKernelConv(expandGeometry, residual: nil, body)
        }
        withExpand { expand in
            depthwise.withKernelConv(g, residual: nil) { depthwise in
                project.withKernelConv(projectGeometry, residual: addsInput ? UnsafePointer(pointer) : nil) { project in
                    Kernels.invertedResidualInference(
                        expand: expand, depthwise: depthwise, project: project, input: pointer, output: output.pointer)
                }
            }
        }
        return output
    }

    /// The geometry of `conv` applied to an input of `shape`.
    private static func convolutionGeometry(input shape: [Int], _ conv: InferenceConv) throws -> Conv2dGeometry {
        let g = try convolutionGeometry(
            input: shape, weight: conv.weight, bias: nil, stride: conv.stride, padding: conv.padding,
            dilation: conv.dilation, groups: conv.groups)
        guard conv.scale.map({ $0.count == g.outChannels }) ?? true,
            conv.shift.map({ $0.count == g.outChannels }) ?? true
        else {
            throw TensorError.shapeMismatch(
                op: "conv2dInference", shapes: [conv.weight.shape, [conv.scale?.count ?? 0], [conv.shift?.count ?? 0]])
        }
        return g
    }

    private static func convolutionGeometry(
        input shape: [Int], weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: Padding2d,
        dilation: (Int, Int), groups: Int
    ) throws -> Conv2dGeometry {
        guard shape.count == 4 else {
            throw TensorError.invalidArgument(op: "conv2d", reason: "expects a rank-4 tensor, got shape \(shape)")
        }
        guard weight.rank == 4, groups > 0, shape[1] % groups == 0, weight.shape[0] % groups == 0,
            weight.shape[1] * groups == shape[1], bias.map({ $0.shape == [weight.shape[0]] }) ?? true
        else {
            throw TensorError.shapeMismatch(
                op: "conv2d", shapes: [shape, weight.shape] + (bias.map { [$0.shape] } ?? []))
        }
        let g = Conv2dGeometry(
            batch: shape[0], inChannels: shape[1], height: shape[2], width: shape[3],
            outChannels: weight.shape[0], kernel: (weight.shape[2], weight.shape[3]), stride: stride,
            padding: padding.tuple, dilation: dilation, groups: groups)
        guard g.outHeight > 0, g.outWidth > 0, stride.0 > 0, stride.1 > 0 else {
            throw TensorError.invalidArgument(
                op: "conv2d", reason: "input \(shape) is too small for kernel \(weight.shape) with padding \(padding)")
        }
        return g
    }

    /// The gradient buffer, created as zeros when absent.
    func gradPointer() throws -> UnsafeMutablePointer<Float> {
        if grad == nil { grad = try Tensor(zeros: shape) }
        return grad!.pointer
    }

    /// torch.nn.functional.unfold: (N, C, H, W) → (N, C·kh·kw, L) sliding-window columns.
    public func unfold(
        kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: Padding2d = .zero, dilation: (Int, Int) = (1, 1)
    ) throws -> Tensor {
        try requireRank(4, "unfold")
        let g = Conv2dGeometry(
            batch: shape[0], inChannels: shape[1], height: shape[2], width: shape[3], outChannels: shape[1],
            kernel: kernel, stride: stride, padding: padding.tuple, dilation: dilation)
        guard g.outHeight > 0, g.outWidth > 0 else {
            throw TensorError.invalidArgument(op: "unfold", reason: "input \(shape) is too small for kernel \(kernel)")
        }
        let c = shape[1]
        let rows = c * kernel.0 * kernel.1
        let l = g.outHeight * g.outWidth
        let plane = c * shape[2] * shape[3]
        let x = pointer
        return try Tensor.result(
            shape: [g.batch, rows, l], inputs: [self],
            compute: { out in
                for n in 0..<g.batch { im2col(x + n * plane, channels: c, g, columns: out + n * rows * l) }
            },
            backward: { grad in
                try self.accumulateGrad { d in
                    for n in 0..<g.batch {
                        col2im(grad.pointer + n * rows * l, channels: c, g, imageGrad: d + n * plane)
                    }
                }
            })
    }

    /// torch.nn.functional.fold: (N, C·kh·kw, L) → (N, C, H, W), summing overlapping windows (unfold's adjoint).
    public func fold(
        outputSize: (Int, Int), kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: Padding2d = .zero,
        dilation: (Int, Int) = (1, 1)
    ) throws -> Tensor {
        try requireRank(3, "fold")
        let kk = kernel.0 * kernel.1
        guard kk > 0, shape[1] % kk == 0 else {
            throw TensorError.invalidArgument(op: "fold", reason: "\(shape[1]) rows are not a multiple of \(kk)")
        }
        let c = shape[1] / kk
        let g = Conv2dGeometry(
            batch: shape[0], inChannels: c, height: outputSize.0, width: outputSize.1, outChannels: c,
            kernel: kernel, stride: stride, padding: padding.tuple, dilation: dilation)
        guard g.outHeight * g.outWidth == shape[2] else {
            throw TensorError.invalidArgument(
                op: "fold",
                reason: "\(shape[2]) columns do not match \(g.outHeight)×\(g.outWidth) windows of output \(outputSize)")
        }
        let rows = shape[1]
        let l = shape[2]
        let plane = c * outputSize.0 * outputSize.1
        let x = pointer
        return try Tensor.result(
            shape: [g.batch, c, outputSize.0, outputSize.1], zeroed: true, inputs: [self],
            compute: { out in
                for n in 0..<g.batch { col2im(x + n * rows * l, channels: c, g, imageGrad: out + n * plane) }
            },
            backward: { grad in
                try withScratch(rows * l) { scratch in
                    try self.accumulateGrad { d in
                        for n in 0..<g.batch {
                            im2col(grad.pointer + n * plane, channels: c, g, columns: scratch!)
                            for i in 0..<rows * l { d[n * rows * l + i] += scratch![i] }
                        }
                    }
                }
            })
    }

    // MARK: Pooling

    /// torch.nn.functional.max_pool2d on NCHW input; the argmax is kept for backward only when a graph is recorded.
    ///
    /// - Parameters:
    ///   - kernel: (height, width) of the window.
    ///   - stride: (vertical, horizontal) step between windows.
    ///   - padding: −∞ padding on each side.
    ///   - ceilMode: torch's `ceil_mode`: round the output size up.
    /// - Returns: (N, C, OH, OW).
    /// - Throws: `TensorError.invalidArgument` for input that is not rank 4 or is smaller than the window.
    public func maxPool2d(
        kernel: (Int, Int), stride: (Int, Int), padding: Padding2d = .zero, ceilMode: Bool = false
    ) throws -> Tensor {
        try requireRank(4, "maxPool2d")
        let g = Pool2dGeometry(
            planes: shape[0] * shape[1], height: shape[2], width: shape[3], kernel: kernel, stride: stride,
            padding: padding.tuple, ceilMode: ceilMode)
        guard g.outHeight > 0, g.outWidth > 0 else {
            throw TensorError.invalidArgument(op: "maxPool2d", reason: "input \(shape) is smaller than the window")
        }
        let keepArgmax = Tensor.needsGraph(self)
        let argmax =
            keepArgmax ? UnsafeMutablePointer<Int32>.allocate(capacity: g.planes * g.outHeight * g.outWidth) : nil
        let owner = argmax.map { IndexBuffer($0) }
        let x = pointer
        return try Tensor.result(
            shape: [shape[0], shape[1], g.outHeight, g.outWidth], inputs: [self],
            compute: { out in
                maxPool2dForward(g, input: x, output: out, argmax: argmax)
            },
            backward: { grad in
                guard let owner else { return }
                try self.accumulateGrad { d in
                    maxPool2dBackward(g, argmax: owner.pointer, outputGrad: grad.pointer, inputGrad: d)
                }
            })
    }

    /// torch.nn.functional.avg_pool2d on NCHW input.
    ///
    /// - Parameters:
    ///   - kernel: (height, width) of the window.
    ///   - stride: (vertical, horizontal) step between windows.
    ///   - padding: Zero padding on each side.
    ///   - ceilMode: torch's `ceil_mode`: round the output size up.
    ///   - countIncludePad: torch's `count_include_pad`: whether the padding counts in each window's divisor.
    /// - Returns: (N, C, OH, OW).
    /// - Throws: `TensorError.invalidArgument` for input that is not rank 4 or is smaller than the window.
    public func avgPool2d(
        kernel: (Int, Int), stride: (Int, Int), padding: Padding2d = .zero, ceilMode: Bool = false,
        countIncludePad: Bool = true
    ) throws -> Tensor {
        try requireRank(4, "avgPool2d")
        let g = Pool2dGeometry(
            planes: shape[0] * shape[1], height: shape[2], width: shape[3], kernel: kernel, stride: stride,
            padding: padding.tuple, ceilMode: ceilMode)
        guard g.outHeight > 0, g.outWidth > 0 else {
            throw TensorError.invalidArgument(op: "avgPool2d", reason: "input \(shape) is smaller than the window")
        }
        let x = pointer
        return try Tensor.result(
            shape: [shape[0], shape[1], g.outHeight, g.outWidth], inputs: [self],
            compute: { out in
                avgPool2dForward(g, countIncludePad: countIncludePad, input: x, output: out)
            },
            backward: { grad in
                try self.accumulateGrad { d in
                    avgPool2dBackward(g, countIncludePad: countIncludePad, outputGrad: grad.pointer, inputGrad: d)
                }
            })
    }

    /// torch.nn.functional.adaptive_avg_pool2d: (N, C, H, W) → (N, C, size.0, size.1), each cell the mean of
    /// rows ⌊i·H/OH⌋..<⌈(i+1)·H/OH⌉ and the columns likewise.
    public func adaptiveAvgPool2d(_ size: (Int, Int)) throws -> Tensor {
        try requireRank(4, "adaptiveAvgPool2d")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let x = pointer
        return try Tensor.result(
            shape: [n, c, size.0, size.1], inputs: [self],
            compute: { out in
                adaptiveAvgPool2dForward(
                    planes: n * c, height: h, width: w, outHeight: size.0, outWidth: size.1, input: x, output: out)
            },
            backward: { grad in
                try self.accumulateGrad { d in
                    adaptiveAvgPool2dBackward(
                        planes: n * c, height: h, width: w, outHeight: size.0, outWidth: size.1,
                        outputGrad: grad.pointer, inputGrad: d)
                }
            })
    }

    /// Mean over H and W: (N, C, H, W) → (N, C).
    public func globalAvgPool2d() throws -> Tensor {
        try requireRank(4, "globalAvgPool2d")
        return try reshaped([shape[0], shape[1], shape[2] * shape[3]]).mean(axes: [2])
    }

    // MARK: Normalization

    /// torch.nn.functional.batch_norm on (N, C, …). In training mode the running statistics are updated in place;
    /// with `replicaSum` the statistics (and their gradients) cover the batches of all replicas
    /// (torch.nn.SyncBatchNorm).
    public func batchNorm(
        weight: Tensor?, bias: Tensor?, runningMean: Tensor, runningVar: Tensor, training: Bool,
        momentum: Float = 0.1, epsilon: Float = 1e-5, replicaSum: ReplicaSum? = nil
    ) throws -> Tensor {
        guard rank >= 2, runningMean.shape == [shape[1]], runningVar.shape == [shape[1]],
            weight.map({ $0.shape == [shape[1]] }) ?? true, bias.map({ $0.shape == [shape[1]] }) ?? true
        else {
            throw TensorError.shapeMismatch(op: "batchNorm", shapes: [shape, runningMean.shape])
        }
        let (n, c) = (shape[0], shape[1])
        let spatial = count / max(1, n * c)
        let x = pointer
        let w = weight?.pointer
        let b = bias?.pointer
        let mean = try Tensor(uninitializedShape: [c])
        let invStd = try Tensor(uninitializedShape: [c])
        let inputs = [self] + [weight, bias].compactMap { $0 }
        return try Tensor.result(
            shape: shape, inputs: inputs,
            compute: { out in
                if training {
                    batchNormTrainForward(
                        batch: n, channels: c, spatial: spatial, input: x, weight: w, bias: b, epsilon: epsilon,
                        momentum: momentum, runningMean: runningMean.pointer, runningVar: runningVar.pointer,
                        output: out, savedMean: mean.pointer, savedInvStd: invStd.pointer, replicaSum: replicaSum)
                } else {
                    batchNormEvalForward(
                        batch: n, channels: c, spatial: spatial, input: x, weight: w, bias: b, epsilon: epsilon,
                        runningMean: runningMean.pointer, runningVar: runningVar.pointer, output: out)
                    for i in 0..<c {
                        mean.pointer[i] = runningMean.pointer[i]
                        invStd.pointer[i] = 1 / (runningVar.pointer[i] + epsilon).squareRoot()
                    }
                }
            },
            backward: { grad in
                batchNormBackward(
                    batch: n, channels: c, spatial: spatial, training: training, input: x, weight: w,
                    mean: mean.pointer, invStd: invStd.pointer, outputGrad: grad.pointer,
                    inputGrad: self.requiresGrad ? try self.gradPointer() : nil,
                    weightGrad: (weight?.requiresGrad ?? false) ? try weight!.gradPointer() : nil,
                    biasGrad: (bias?.requiresGrad ?? false) ? try bias!.gradPointer() : nil, replicaSum: replicaSum)
            })
    }

    /// Inference only: batch norm with running statistics, then `activation`, in one pass and with no
    /// autograd record; `inPlace` overwrites this tensor (a conv output nobody else holds).
    public func batchNormInference(
        weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor,
        epsilon: Float, activation: Activation, inPlace: Bool
    ) throws -> Tensor {
        guard rank >= 2, [weight, bias, runningMean, runningVar].allSatisfy({ $0.shape == [shape[1]] }) else {
            throw TensorError.shapeMismatch(op: "batchNorm", shapes: [shape, runningMean.shape])
        }
        precondition(!inPlace || !requiresGrad && gradNode == nil, "an in-place batch norm is for inference")
        let (n, c) = (shape[0], shape[1])
        let output = inPlace ? self : try Tensor(uninitializedShape: shape)
        batchNormEvalForward(
            batch: n, channels: c, spatial: count / max(1, n * c), input: pointer,
            weight: weight.pointer, bias: bias.pointer, epsilon: epsilon,
            runningMean: runningMean.pointer, runningVar: runningVar.pointer,
            activation: activation, output: output.pointer)
        return output
    }

    /// Inference only: `batchNormInference` of the channel concatenation of `parts` (each (N, Cᵢ, …) with the
    /// same N and trailing sizes), read from the parts in place instead of concatenated first. No autograd record.
    public static func concatenatedBatchNormInference(
        _ parts: [Tensor], weight: Tensor, bias: Tensor, runningMean: Tensor,
        runningVar: Tensor, epsilon: Float, activation: Activation
    ) throws -> Tensor {
        guard let first = parts.first, first.rank >= 2,
            parts.allSatisfy({
                $0.rank == first.rank && $0.shape[0] == first.shape[0]
                    && $0.shape.dropFirst(2) == first.shape.dropFirst(2)
            })
        else {
            throw TensorError.shapeMismatch(op: "concatenatedBatchNorm", shapes: parts.map(\.shape))
        }
        let n = first.shape[0]
        let spatial = first.shape.dropFirst(2).reduce(1, *)
        var planeStart: [UnsafePointer<Float>] = []  // per output channel: its plane in image 0
        var imageStride: [Int] = []  // per output channel: elements between images of its part
        for part in parts {
            for c in 0..<part.shape[1] {
                planeStart.append(UnsafePointer(part.pointer) + c * spatial)
                imageStride.append(part.shape[1] * spatial)
            }
        }
        let channels = planeStart.count
        guard [weight, bias, runningMean, runningVar].allSatisfy({ $0.shape == [channels] }) else {
            throw TensorError.shapeMismatch(op: "concatenatedBatchNorm", shapes: [[channels], runningMean.shape])
        }
        let output = try Tensor(uninitializedShape: [n, channels] + Array(first.shape.dropFirst(2)))
        batchNormEvalForward(
            batch: n, channels: channels, spatial: spatial,
            planes: { planeStart[$0 % channels] + ($0 / channels) * imageStride[$0 % channels] },
            weight: weight.pointer, bias: bias.pointer, epsilon: epsilon,
            runningMean: runningMean.pointer, runningVar: runningVar.pointer,
            activation: activation, output: output.pointer)
        return withExtendedLifetime(parts) { output }
    }

    /// torch.nn.functional.layer_norm over the last axis.
    public func layerNorm(weight: Tensor?, bias: Tensor?, epsilon: Float = 1e-5) throws -> Tensor {
        let dim = shape.last ?? 0
        guard dim > 0, weight.map({ $0.shape == [dim] }) ?? true, bias.map({ $0.shape == [dim] }) ?? true else {
            throw TensorError.shapeMismatch(op: "layerNorm", shapes: [shape] + [weight, bias].compactMap { $0?.shape })
        }
        let rows = count / dim
        let x = pointer
        let w = weight?.pointer
        let b = bias?.pointer
        let save = Tensor.needsGraph(self, weight ?? self, bias ?? self)
        let mean = save ? try Tensor(uninitializedShape: [rows]) : nil
        let invStd = save ? try Tensor(uninitializedShape: [rows]) : nil
        return try Tensor.result(
            shape: shape, inputs: [self] + [weight, bias].compactMap { $0 },
            compute: { out in
                layerNormForward(
                    rows: rows, dim: dim, input: x, weight: w, bias: b, epsilon: epsilon, output: out,
                    savedMean: mean?.pointer, savedInvStd: invStd?.pointer)
            },
            backward: { grad in
                layerNormBackward(
                    rows: rows, dim: dim, input: x, weight: w, mean: mean!.pointer, invStd: invStd!.pointer,
                    outputGrad: grad.pointer, inputGrad: self.requiresGrad ? try self.gradPointer() : nil,
                    weightGrad: (weight?.requiresGrad ?? false) ? try weight!.gradPointer() : nil,
                    biasGrad: (bias?.requiresGrad ?? false) ? try bias!.gradPointer() : nil)
            })
    }

    /// torch.nn.functional.group_norm on (N, C, …).
    public func groupNorm(groups: Int, weight: Tensor?, bias: Tensor?, epsilon: Float = 1e-5) throws -> Tensor {
        guard rank >= 2, groups > 0, shape[1] % groups == 0, weight.map({ $0.shape == [shape[1]] }) ?? true,
            bias.map({ $0.shape == [shape[1]] }) ?? true
        else {
            throw TensorError.invalidArgument(op: "groupNorm", reason: "shape \(shape) with \(groups) groups")
        }
        let (n, c) = (shape[0], shape[1])
        let spatial = count / max(1, n * c)
        let x = pointer
        let w = weight?.pointer
        let b = bias?.pointer
        let mean = try Tensor(uninitializedShape: [n * groups])
        let invStd = try Tensor(uninitializedShape: [n * groups])
        return try Tensor.result(
            shape: shape, inputs: [self] + [weight, bias].compactMap { $0 },
            compute: { out in
                groupNormForward(
                    batch: n, channels: c, spatial: spatial, groups: groups, input: x, weight: w, bias: b,
                    epsilon: epsilon, output: out, savedMean: mean.pointer, savedInvStd: invStd.pointer)
            },
            backward: { grad in
                groupNormBackward(
                    batch: n, channels: c, spatial: spatial, groups: groups, input: x, weight: w,
                    mean: mean.pointer, invStd: invStd.pointer, outputGrad: grad.pointer,
                    inputGrad: self.requiresGrad ? try self.gradPointer() : nil,
                    weightGrad: (weight?.requiresGrad ?? false) ? try weight!.gradPointer() : nil,
                    biasGrad: (bias?.requiresGrad ?? false) ? try bias!.gradPointer() : nil)
            })
    }

    // MARK: Softmax

    /// Softmax over the last axis (torch.softmax(x, dim=-1)).
    public func softmax() throws -> Tensor {
        try rowwiseFromOutput(
            forward: { softmaxForward(rows: $0, dim: $1, input: $2, output: $3) },
            backward: { softmaxBackward(rows: $0, dim: $1, output: $2, outputGrad: $3, inputGrad: $4) })
    }

    /// Log-softmax over the last axis (torch.log_softmax(x, dim=-1)), computed stably.
    public func logSoftmax() throws -> Tensor {
        try rowwiseFromOutput(
            forward: { logSoftmaxForward(rows: $0, dim: $1, input: $2, output: $3) },
            backward: { logSoftmaxBackward(rows: $0, dim: $1, output: $2, outputGrad: $3, inputGrad: $4) })
    }

    /// An op over rows of the last axis whose backward needs only its own output (rows, dim, y, dy, dx).
    private func rowwiseFromOutput(
        forward: @escaping (Int, Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
        backward: @escaping (Int, Int, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void
    ) throws -> Tensor {
        let dim = shape.last ?? 1
        let rows = count / max(dim, 1)
        let x = pointer
        let out = try Tensor.result(
            shape: shape, inputs: [self], compute: { out in forward(rows, dim, x, out) }, backward: { _ in })
        guard let node = out.gradNode else { return out }
        let y = out.storage
        out.gradNode = GradNode(inputs: node.inputs) { grad in
            try self.accumulateGrad { d in backward(rows, dim, y.pointer, grad.pointer, d) }
        }
        return out
    }

    // MARK: Regularisation

    /// Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1−p).
    public func dropout(_ p: Float, training: Bool, using rng: inout RandomGenerator) throws -> Tensor {
        guard training && p > 0 else { return self }
        guard p < 1 else { return try self * Tensor(zeros: shape) }
        let mask = try Tensor(uninitializedShape: shape)
        for i in 0..<count { mask.pointer[i] = rng.uniform() < p ? 0 : 1 / (1 - p) }
        return try self * mask
    }

    /// Stochastic depth: drops whole samples (axis 0) of a residual branch with probability p.
    public func dropPath(_ p: Float, training: Bool, using rng: inout RandomGenerator) throws -> Tensor {
        guard training && p > 0, rank >= 1 else { return self }
        let mask = try Tensor(uninitializedShape: [shape[0]] + [Int](repeating: 1, count: rank - 1))
        for i in 0..<shape[0] { mask.pointer[i] = rng.uniform() < p ? 0 : 1 / (1 - p) }
        return try self * mask
    }

    // MARK: Losses

    /// Mean cross-entropy of logits (N, C) against soft targets (N, C) (rows sum to 1).
    public func crossEntropy(softTargets: Tensor) throws -> Tensor {
        guard rank == 2, softTargets.shape == shape else {
            throw TensorError.shapeMismatch(op: "crossEntropy", shapes: [shape, softTargets.shape])
        }
        return try -((logSoftmax() * softTargets).sum() * (1 / Float(shape[0])))
    }

    /// Mean cross-entropy against class indices, with optional label smoothing (torch semantics).
    public func crossEntropy(labels: [Int], labelSmoothing: Float = 0) throws -> Tensor {
        guard rank == 2, labels.count == shape[0] else {
            throw TensorError.shapeMismatch(op: "crossEntropy", shapes: [shape, [labels.count]])
        }
        let classes = shape[1]
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw TensorError.invalidArgument(op: "crossEntropy", reason: "label \(bad) is outside 0..<\(classes)")
        }
        let targets = try Tensor(repeating: labelSmoothing / Float(classes), shape: shape)
        for (row, label) in labels.enumerated() { targets.pointer[row * classes + label] += 1 - labelSmoothing }
        return try crossEntropy(softTargets: targets)
    }
}

/// Owns an Int32 buffer captured by a backward closure (max-pool argmax).
final class IndexBuffer {
    let pointer: UnsafeMutablePointer<Int32>
    init(_ pointer: UnsafeMutablePointer<Int32>) { self.pointer = pointer }
    deinit { pointer.deallocate() }
}

@inline(__always)
func withScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>?) throws -> R) throws -> R {
    guard count > 0 else { return try body(nil) }
    // Held as tensor storage, so scratch space counts against the same memory budget.
    let scratch = try Storage(count: count, zeroed: false, shape: [count])
    return try withExtendedLifetime(scratch) { try body(scratch.pointer) }
}
