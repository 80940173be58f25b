import CKernels
import Foundation

/// Pointwise activations with their derivatives, as torch.nn.functional defines them.
public enum Activation: String, Sendable, CaseIterable {
    /// torch.nn's Identity, ReLU, ReLU6, GELU (exact, erf), GELU(approximate="tanh"), SiLU, Hardswish,
    /// Hardsigmoid, Sigmoid and Tanh.
    case identity, relu, relu6, gelu, geluTanh, silu, hardSwish, hardSigmoid, sigmoid, tanh

    /// The activation at one value, in scalar arithmetic (the reference the vector kernels are tested against).
    @inline(__always)
    public func apply(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .relu: return max(x, 0)
        case .relu6: return min(max(x, 0), 6)
        case .gelu: return 0.5 * x * (1 + erff(x * 0.70710678118654752))
        case .geluTanh:
            let inner: Float = 0.7978845608028654 * (x + 0.044715 * x * x * x)
            return 0.5 * x * (1 + tanhf(inner))
        case .silu: return x / (1 + expf(-x))
        case .hardSwish: return x * min(max(x + 3, 0), 6) / 6
        case .hardSigmoid: return min(max(x + 3, 0), 6) / 6
        case .sigmoid: return 1 / (1 + expf(-x))
        case .tanh: return tanhf(x)
        }
    }

    /// d apply / dx at x (PyTorch's conventions at the kinks).
    @inline(__always)
    public func derivative(_ x: Float) -> Float {
        switch self {
        case .identity: return 1
        case .relu: return x > 0 ? 1 : 0
        case .relu6: return x > 0 && x < 6 ? 1 : 0
        case .gelu:
            let cdf = 0.5 * (1 + erff(x * 0.70710678118654752))
            return cdf + x * 0.3989422804014327 * expf(-0.5 * x * x)
        case .geluTanh:
            let k: Float = 0.7978845608028654
            let t = tanhf(k * (x + 0.044715 * x * x * x))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
        case .silu:
            let s = 1 / (1 + expf(-x))
            return s * (1 + x * (1 - s))
        case .hardSwish: return x < -3 ? 0 : (x <= 3 ? x / 3 + 0.5 : 1)
        case .hardSigmoid: return x > -3 && x < 3 ? 1.0 / 6 : 0
        case .sigmoid:
            let s = 1 / (1 + expf(-x))
            return s * (1 - s)
        case .tanh:
            let t = tanhf(x)
            return 1 - t * t
        }
    }

    /// The C kernels' name for this activation (the two enums list the cases in the same order).
    var c: zoo_activation {
        switch self {
        case .identity: return ZOO_ACT_IDENTITY
        case .relu: return ZOO_ACT_RELU
        case .relu6: return ZOO_ACT_RELU6
        case .gelu: return ZOO_ACT_GELU
        case .geluTanh: return ZOO_ACT_GELU_TANH
        case .silu: return ZOO_ACT_SILU
        case .hardSwish: return ZOO_ACT_HARD_SWISH
        case .hardSigmoid: return ZOO_ACT_HARD_SIGMOID
        case .sigmoid: return ZOO_ACT_SIGMOID
        case .tanh: return ZOO_ACT_TANH
        }
    }
}

// The vector forms (exp within 2 ulp, erf within 4e-7) live in the C kernels; the tests hold them to `apply`.

/// output = activation(input) element-wise over `count` values, split across threads; input may equal output.
public func activationForward(
    _ activation: Activation, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int
) {
    let minimumPerThread = activation == .relu || activation == .relu6 ? 1 << 16 : 1 << 13
    parallelFor(count, minimumPerThread: minimumPerThread) { r in
        applyActivation(activation, input: input + r.lowerBound, output: output + r.lowerBound, count: r.count)
    }
}

/// activationForward on the calling thread, for kernels that already split their work (input may equal output).
@inline(__always)
func applyActivation(
    _ activation: Activation, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, count: Int
) {
    zoo_activation_forward(activation.c, input, output, count)
}

/// inputGrad += outputGrad · f′(input) over `count` values; `input` is the forward pass's input, not its output.
public func activationBackward(
    _ activation: Activation, input: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
    inputGrad: UnsafeMutablePointer<Float>, count: Int
) {
    parallelFor(count, minimumPerThread: 1 << 13) { range in
        let start = range.lowerBound
        zoo_activation_backward(activation.c, input + start, outputGrad + start, inputGrad + start, range.count)
    }
}
