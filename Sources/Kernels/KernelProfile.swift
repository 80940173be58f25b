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

    /// Seconds and calls per kind, summed over everything recorded.
    public private(set) var seconds: [Kind: Double] = [:]
    /// Kernel calls per kind.
    public private(set) var calls: [Kind: Int] = [:]
    private var measuring = false

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

    /// Runs `body`, counted as `kind` when a profile records and no measured kernel encloses this one.
    @inline(__always)
    static func measure<T>(_ kind: @autoclosure () -> Kind, _ body: () -> T) -> T {
        guard let profile = current, !profile.measuring else { return body() }
        profile.measuring = true
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let kind = kind()
            profile.seconds[kind, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            profile.calls[kind, default: 0] += 1
            profile.measuring = false
        }
        return body()
    }
}
