import Foundation
import Kernels

// Elementwise arithmetic with NumPy broadcasting, and pointwise functions.

/// The broadcast shape of two shapes, or nil when they are incompatible.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        guard da == db || da == 1 || db == 1 else { return nil }
        out[i] = da == 1 ? db : da
    }
    return out
}

/// Strides of `shape` read through the (larger) broadcast shape `target`: 0 along broadcast axes.
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = contiguousStrides(shape)
    let pad = target.count - shape.count
    return (0..<target.count).map { i in i < pad || shape[i - pad] == 1 ? 0 : own[i - pad] }
}

/// Calls `body(offsetA, offsetB, outputOffset)` for each innermost row of `shape`, with row length
/// `shape.last` and the inner strides supplied separately. Rows are visited in order.
@inline(__always)
func forEachRow(_ shape: [Int], _ stridesA: [Int], _ stridesB: [Int], _ body: (Int, Int, Int) -> Void) {
    let rank = shape.count
    guard rank > 0 else {
        body(0, 0, 0)
        return
    }
    let inner = shape[rank - 1]
    let rows = inner == 0 ? 0 : shape.reduce(1, *) / inner
    var index = [Int](repeating: 0, count: rank)
    var offsetA = 0
    var offsetB = 0
    for row in 0..<rows {
        body(offsetA, offsetB, row * inner)
        // Advance the multi-index over the outer dimensions.
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            offsetA += stridesA[d]
            offsetB += stridesB[d]
            if index[d] < shape[d] { break }
            offsetA -= stridesA[d] * shape[d]
            offsetB -= stridesB[d] * shape[d]
            index[d] = 0
            d -= 1
        }
    }
}

enum BinaryOp { case add, subtract, multiply, divide }

/// The activation functions (ReLU, GELU, SiLU, hard-swish, …) layers apply and kernels fuse into their stores.
/// Their math lives with the kernels that run it; this is the name layers and models use, so that they
/// need only Tensors and NN.
public typealias Activation = Kernels.Activation

extension Tensor {
    static func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, name: String) throws -> Tensor {
        guard let shape = broadcastShape(a.shape, b.shape) else {
            throw TensorError.shapeMismatch(op: name, shapes: [a.shape, b.shape])
        }
        let sa = broadcastStrides(a.shape, to: shape)
        let sb = broadcastStrides(b.shape, to: shape)
        let inner = shape.last ?? 1
        let ia = sa.last ?? 0
        let ib = sb.last ?? 0
        let (pa, pb) = (a.pointer, b.pointer)
        return try result(
            shape: shape, inputs: [a, b],
            compute: { out in
                if a.shape == b.shape {
                    let n = a.count
                    parallelFor(n, minimumPerThread: 1 << 15) { r in
                        switch op {
                        case .add: for i in r { out[i] = pa[i] + pb[i] }
                        case .subtract: for i in r { out[i] = pa[i] - pb[i] }
                        case .multiply: for i in r { out[i] = pa[i] * pb[i] }
                        case .divide: for i in r { out[i] = pa[i] / pb[i] }
                        }
                    }
                    return
                }
                forEachRow(shape, sa, sb) { oa, ob, o in
                    for i in 0..<inner {
                        let x = pa[oa + i * ia]
                        let y = pb[ob + i * ib]
                        switch op {
                        case .add: out[o + i] = x + y
                        case .subtract: out[o + i] = x - y
                        case .multiply: out[o + i] = x * y
                        case .divide: out[o + i] = x / y
                        }
                    }
                }
            },
            backward: { grad in
                let g = grad.pointer
                // Each input's gradient is the output gradient times ∂out/∂input, summed over broadcast axes.
                if a.requiresGrad {
                    try a.accumulateGrad { ga in
                        forEachRow(shape, sa, sb) { oa, ob, o in
                            for i in 0..<inner {
                                let d: Float
                                switch op {
                                case .add, .subtract: d = g[o + i]
                                case .multiply: d = g[o + i] * pb[ob + i * ib]
                                case .divide: d = g[o + i] / pb[ob + i * ib]
                                }
                                ga[oa + i * ia] += d
                            }
                        }
                    }
                }
                if b.requiresGrad {
                    try b.accumulateGrad { gb in
                        forEachRow(shape, sa, sb) { oa, ob, o in
                            for i in 0..<inner {
                                let d: Float
                                switch op {
                                case .add: d = g[o + i]
                                case .subtract: d = -g[o + i]
                                case .multiply: d = g[o + i] * pa[oa + i * ia]
                                case .divide:
                                    let y = pb[ob + i * ib]
                                    d = -g[o + i] * pa[oa + i * ia] / (y * y)
                                }
                                gb[ob + i * ib] += d
                            }
                        }
                    }
                }
            })
    }

    /// The elementwise sum, broadcasting as NumPy and torch do; throws `TensorError.shapeMismatch` when the
    /// shapes do not broadcast.
    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try binary(.add, a, b, name: "add") }
    /// The elementwise difference, broadcasting as `+`.
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try binary(.subtract, a, b, name: "subtract") }
    /// The elementwise (Hadamard) product, broadcasting as `+`; not a matrix product (see `matmul`).
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try binary(.multiply, a, b, name: "multiply") }
    /// The elementwise quotient, broadcasting as `+`.
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try binary(.divide, a, b, name: "divide") }

    /// y = scale · x + shift, elementwise.
    public func affine(scale: Float, shift: Float = 0) throws -> Tensor {
        let x = pointer
        let n = count
        return try Tensor.result(
            shape: shape, inputs: [self],
            compute: { out in
                parallelFor(n, minimumPerThread: 1 << 15) { r in for i in r { out[i] = x[i] * scale + shift } }
            },
            backward: { grad in
                let g = grad.pointer
                try self.accumulateGrad { d in for i in 0..<n { d[i] += g[i] * scale } }
            })
    }

    /// `b` added to every element.
    public static func + (a: Tensor, b: Float) throws -> Tensor { try a.affine(scale: 1, shift: b) }
    /// `b` subtracted from every element.
    public static func - (a: Tensor, b: Float) throws -> Tensor { try a.affine(scale: 1, shift: -b) }
    /// Every element times `b`.
    public static func * (a: Tensor, b: Float) throws -> Tensor { try a.affine(scale: b) }
    /// Every element times 1/`b`.
    public static func / (a: Tensor, b: Float) throws -> Tensor { try a.affine(scale: 1 / b) }
    /// Every element of `b` times `a`.
    public static func * (a: Float, b: Tensor) throws -> Tensor { try b.affine(scale: a) }
    /// The elementwise negation.
    public static prefix func - (a: Tensor) throws -> Tensor { try a.affine(scale: -1) }

    /// A pointwise function with its derivative written in terms of input x and output y.
    func pointwise(
        _ f: @escaping (Float) -> Float, derivative: @escaping (_ x: Float, _ y: Float) -> Float
    ) throws -> Tensor {
        let x = pointer
        let n = count
        let out = try Tensor.result(
            shape: shape, inputs: [self],
            compute: { out in
                parallelFor(n, minimumPerThread: 1 << 13) { r in for i in r { out[i] = f(x[i]) } }
            }, backward: { _ in })
        guard let node = out.gradNode else { return out }
        let y = out.storage  // the output's values, without a reference cycle to the output tensor
        out.gradNode = GradNode(inputs: node.inputs) { grad in
            let g = grad.pointer
            let yp = y.pointer
            try self.accumulateGrad { d in for i in 0..<n { d[i] += g[i] * derivative(x[i], yp[i]) } }
        }
        return out
    }

    /// eˣ elementwise.
    public func exp() throws -> Tensor { try pointwise({ Foundation.exp($0) }, derivative: { _, y in y }) }
    /// The natural logarithm elementwise (−∞ at 0, NaN below).
    public func log() throws -> Tensor { try pointwise({ Foundation.log($0) }, derivative: { x, _ in 1 / x }) }
    /// The square root elementwise (NaN below 0; the gradient is infinite at 0).
    public func sqrt() throws -> Tensor { try pointwise({ $0.squareRoot() }, derivative: { _, y in 0.5 / y }) }
    /// x² elementwise.
    public func squared() throws -> Tensor { try pointwise({ $0 * $0 }, derivative: { x, _ in 2 * x }) }
    /// xᵖ elementwise for a constant exponent `p` (torch.pow with a scalar exponent).
    public func pow(_ p: Float) throws -> Tensor {
        try pointwise({ Foundation.pow($0, p) }, derivative: { x, _ in p * Foundation.pow(x, p - 1) })
    }

    /// An activation function applied elementwise (kernel forward / backward).
    public func activation(_ f: Activation) throws -> Tensor {
        if f == .identity { return self }
        let x = pointer
        let n = count
        return try Tensor.result(
            shape: shape, inputs: [self],
            compute: { out in
                activationForward(f, input: x, output: out, count: n)
            },
            backward: { grad in
                try self.accumulateGrad { d in
                    activationBackward(f, input: x, outputGrad: grad.pointer, inputGrad: d, count: n)
                }
            })
    }

    /// Applies the activation to this tensor's own values when no graph needs them (inference on a
    /// freshly computed tensor nobody else reads); otherwise the out-of-place `activation(_:)`.
    public func activatedInPlace(_ f: Activation) throws -> Tensor {
        guard f != .identity else { return self }
        guard !requiresGrad, !GradMode.isEnabled || gradNode == nil else { return try activation(f) }
        activationForward(f, input: pointer, output: pointer, count: count)
        return self
    }

    /// max(x, 0) elementwise (torch.relu).
    public func relu() throws -> Tensor { try activation(.relu) }
    /// The exact (erf) GELU elementwise (torch.nn.functional.gelu's default).
    public func gelu() throws -> Tensor { try activation(.gelu) }
    /// 1 / (1 + e⁻ˣ) elementwise (torch.sigmoid).
    public func sigmoid() throws -> Tensor { try activation(.sigmoid) }
}
