// exp and erf on eight floats at once: activations and softmax spend their time in libm's scalar
// expf/erff otherwise. Accuracy: exp within 2 ulp (Cephes expf polynomial), erf within 4e-7
// absolute in Float32 (Abramowitz & Stegun 7.1.26, 1.5e-7 in exact arithmetic); tests compare with libm.

public typealias Float8 = SIMD8<Float>

@inline(__always)
public func vectorExp(_ x: Float8) -> Float8 {
    let clamped = clamp(x, -87.3, 88.3)
    // x = n·ln2 + r with |r| ≤ ln2/2, ln2 split in two for exactness. Adding 1.5·2²³ rounds to the
    // nearest integer and leaves it in the low mantissa bits (generic rounding/conversion is not vectorised).
    let magic = Float8(repeating: 12_582_912)
    let shifted = clamped * 1.442695040888963 + magic
    let n = shifted - magic
    let r = clamped - n * 0.693359375 + n * 2.12194440e-4
    var p = Float8(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let y = p * r * r + r + 1
    // 2ⁿ by building the exponent bits.
    let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let bits = (integer &+ 127) &<< 23
    return y * unsafeBitCast(bits, to: Float8.self)
}

@inline(__always)
public func vectorErf(_ x: Float8) -> Float8 {
    let a = x.replacing(with: -x, where: x .< 0)
    let one = Float8(repeating: 1)
    let t = one / (a * 0.3275911 + one)
    var poly = Float8(repeating: 1.061405429)
    poly = poly * t - 1.453152027
    poly = poly * t + 1.421413741
    poly = poly * t - 0.284496736
    poly = poly * t + 0.254829592
    let magnitude: Float8 = one - poly * t * vectorExp(-(a * a))
    return magnitude.replacing(with: -magnitude, where: x .< 0)
}

/// Masked selects: SIMD's generic `clamped` is not inlined into a vector min/max.
@inline(__always)
func clamp(_ x: Float8, _ low: Float, _ high: Float) -> Float8 {
    let lo = Float8(repeating: low), hi = Float8(repeating: high)
    return x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
}

/// The activation on eight values, for the activations that have a vector form (nil otherwise).
@inline(__always)
func vectorActivation(_ activation: Activation, _ x: Float8) -> Float8? {
    switch activation {
    case .gelu: return 0.5 * x * (1 + vectorErf(x * 0.70710678118654752))
    case .geluTanh:
        let inner = 0.7978845608028654 * (x + 0.044715 * x * x * x)
        return x - x / (vectorExp(2 * inner) + 1)   // 0.5·x·(1 + tanh(inner))
    case .silu: return x / (1 + vectorExp(-x))
    case .sigmoid: return 1 / (1 + vectorExp(-x))
    case .hardSwish: return x * clamp(x + 3, 0, 6) / 6
    case .hardSigmoid: return clamp(x + 3, 0, 6) / 6
    default: return nil
    }
}

/// The activation's derivative on eight values, where the scalar form would call libm per element.
@inline(__always)
func vectorDerivative(_ activation: Activation, _ x: Float8) -> Float8? {
    switch activation {
    case .gelu:
        let cdf = 0.5 * (1 + vectorErf(x * 0.70710678118654752))
        return cdf + x * 0.3989422804014327 * vectorExp(-0.5 * x * x)
    case .silu:
        let s = 1 / (1 + vectorExp(-x))
        return s * (1 + x * (1 - s))
    case .sigmoid:
        let s = 1 / (1 + vectorExp(-x))
        return s * (1 - s)
    default: return nil
    }
}

/// out[i] = f(in[i]) eight at a time, the tail through a zero-padded vector so every element uses the same formula.
@inline(__always)
func applyVectorized(_ count: Int, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ f: (Float8) -> Float8) {
    var i = 0
    while i + 8 <= count {
        let v = UnsafeRawPointer(input + i).loadUnaligned(as: Float8.self)
        UnsafeMutableRawPointer(output + i).storeBytes(of: f(v), as: Float8.self)
        i += 8
    }
    if i < count {
        var tail = Float8()
        for k in 0..<(count - i) { tail[k] = input[i + k] }
        let result = f(tail)
        for k in 0..<(count - i) { output[i + k] = result[k] }
    }
}

// Reductions in eight lanes: a plain `for` loop accumulating into one Float is a serial dependency
// chain the compiler may not reorder (no fast-math), so these keep eight partial results.

@inline(__always)
public func vectorMax(_ values: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = Float8(repeating: -.infinity), i = 0
    while i + 8 <= count {
        let v = UnsafeRawPointer(values + i).loadUnaligned(as: Float8.self)
        lanes = lanes.replacing(with: v, where: v .> lanes)  // a select; the stdlib's pointwiseMax runs lane by lane
        i += 8
    }
    var result = lanes.max()
    while i < count { result = max(result, values[i]); i += 1 }
    return result
}

/// Σ (x − mean)² over `count` values.
@inline(__always)
public func vectorSquaredDeviations(_ values: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
    var lanes = Float8(), i = 0
    let center = Float8(repeating: mean)
    while i + 8 <= count {
        let d = UnsafeRawPointer(values + i).loadUnaligned(as: Float8.self) - center
        lanes += d * d
        i += 8
    }
    var result = lanes.sum()
    while i < count { let d = values[i] - mean; result += d * d; i += 1 }
    return result
}

@inline(__always)
public func vectorSum(_ values: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = Float8(), i = 0
    while i + 8 <= count {
        lanes += UnsafeRawPointer(values + i).loadUnaligned(as: Float8.self)
        i += 8
    }
    var result = lanes.sum()
    while i < count { result += values[i]; i += 1 }
    return result
}

/// Σ a·b over `count` values.
@inline(__always)
public func vectorDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = Float8(), i = 0
    while i + 8 <= count {
        lanes += UnsafeRawPointer(a + i).loadUnaligned(as: Float8.self) * UnsafeRawPointer(b + i).loadUnaligned(as: Float8.self)
        i += 8
    }
    var result = lanes.sum()
    while i < count { result += a[i] * b[i]; i += 1 }
    return result
}
