import Foundation

/// Time spent per kind of kernel while a profile records (`zoo bench --profile`), so that the next bottleneck is
/// visible. Kernels called inside another measured kernel (the GEMM of a conv) count toward the outer one.
public final class KernelProfile: @unchecked Sendable {  // updated only by the task that records into it
    /// What a kernel call is counted as.
    public enum Kind: String, CaseIterable, Sendable {
        /// A 3×3 convolution (any stride or dilation), not depthwise.
        case conv3x3 = "conv 3×3"
        /// A 1×1 convolution.
        case conv1x1 = "conv 1×1"
        /// A depthwise convolution (one filter per channel).
        case depthwise
        /// Any other convolution (7×7 stems, patch embeddings, 5×5 …).
        case convOther = "conv other"
        /// A fused inverted residual block (1×1 expand → depthwise → 1×1 project), its convs counted together.
        case fusedBlock = "fused block"
        /// A matrix product outside any convolution or attention: linear layers, MLPs.
        case gemm = "GEMM"
        /// Fused multi-head attention (scores, softmax, weighted sum).
        case attention
        /// Batch, layer and group norm.
        case norm
        /// Max, average and adaptive pooling windows (a global average pool is a mean: "other").
        case pooling

        /// The kind of convolution `g` is.
        static func convolution(_ g: Conv2dGeometry) -> Kind {
            if g.isDepthwise { return .depthwise }
            switch (g.kernelHeight, g.kernelWidth) {
            case (1, 1): return .conv1x1
            case (3, 3): return .conv3x3
            default: return .convOther
            }
        }
    }

    /// One measured kernel call: its kind, its shape (sizes and algorithm; empty where the kind says enough) and
    /// how long it took.
    public struct Call: Sendable {
        public var kind: Kind, shape: String, seconds: Double
    }

    /// Every measured call, in the order they were made (a model's layers, run after run).
    public private(set) var log: [Call] = []
    private var measuring = false

    /// Seconds per kind, summed over everything recorded.
    public var seconds: [Kind: Double] { log.reduce(into: [:]) { $0[$1.kind, default: 0] += $1.seconds } }
    /// Kernel calls per kind.
    public var calls: [Kind: Int] { log.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 } }

    @TaskLocal static var current: KernelProfile?

    /// An empty profile.
    public init() {}

    /// Runs `body`, adding the time of every kernel it calls to this profile.
    /// - Parameter body: the work to profile.
    /// - Returns: what `body` returns.
    /// - Throws: what `body` throws.
    public func recording<T>(_ body: () throws -> T) rethrows -> T {
        try Self.$current.withValue(self) { try body() }
    }

    /// Runs `body`, counted as `kind` (of `shape`) when a profile records and no measured kernel encloses this one.
    @inline(__always)
    static func measure<T>(
        _ kind: @autoclosure () -> Kind, shape: @autoclosure () -> String = "", _ body: () -> T
    ) -> T {
        guard let profile = current, !profile.measuring else { return body() }
        profile.measuring = true
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            profile.log.append(Call(kind: kind(), shape: shape(), seconds: seconds))
            profile.measuring = false
        }
        return body()
    }
}

extension Conv2dGeometry {
    /// How a profile names this conv: channels (or those of the block it is part of: nil for a block without
    /// that conv), input size, stride, groups, and the algorithm it runs.
    func profileShape(_ algorithm: String, channels: [Int?]? = nil) -> String {
        let channels = (channels ?? [inChannels, outChannels]).compactMap { $0 }.map(String.init)
        var shape = channels.joined(separator: "→") + " @\(height)×\(width)"
        if batch > 1 { shape = "\(batch)× " + shape }
        if strideH > 1 || strideW > 1 { shape += strideH == strideW ? " /\(strideH)" : " /\(strideH)×\(strideW)" }
        if groups > 1 && !isDepthwise { shape += " g\(groups)" }
        return shape + " " + algorithm
    }
}
