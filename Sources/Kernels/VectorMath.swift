import CKernels

// Row reductions, run by the C kernels of the active instruction-set path (`KernelPath`).
// They keep several vectors of partial results, so sums are not one serial dependency chain.

/// The largest of `count` values (−∞ for none).
@inline(__always)
public func vectorMax(_ values: UnsafePointer<Float>, count: Int) -> Float { zoo_max(values, count) }

/// Σ (x − mean)² over `count` values.
@inline(__always)
public func vectorSquaredDeviations(_ values: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
    zoo_squared_deviations(values, count, mean)
}

/// Σ a · (b − mean) over `count` values.
@inline(__always)
public func vectorCenteredDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
    zoo_centered_dot(a, b, count, mean)
}

/// Σ x over `count` values.
@inline(__always)
public func vectorSum(_ values: UnsafePointer<Float>, count: Int) -> Float { zoo_sum(values, count) }

/// Σ a·b over `count` values.
@inline(__always)
public func vectorDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    zoo_dot(a, b, count)
}

/// The constants of one AdamW step (torch.optim.AdamW, decoupled weight decay): decay = 1 − lr·weight_decay,
/// stepSize = lr / (1 − β1ᵗ), rootCorrection2 = √(1 − β2ᵗ).
public struct AdamWStep {
    let constants: zoo_adamw

    /// The constants of step t, computed by the caller (Training's AdamW) once per step and parameter group.
    ///
    /// - Parameters:
    ///   - decay: 1 − lr · weight_decay, the factor the weights are scaled by before the update.
    ///   - beta1: The first moment's decay rate (torch's `betas[0]`).
    ///   - beta2: The second moment's decay rate (torch's `betas[1]`).
    ///   - stepSize: lr / (1 − β1ᵗ), the learning rate with the first moment's bias correction.
    ///   - rootCorrection2: √(1 − β2ᵗ), the second moment's bias correction.
    ///   - epsilon: Added to the corrected √v (torch's `eps`).
    public init(decay: Float, beta1: Float, beta2: Float, stepSize: Float, rootCorrection2: Float, epsilon: Float) {
        constants = zoo_adamw(
            decay: decay, beta1: beta1, beta2: beta2, step_size: stepSize,
            root_correction2: rootCorrection2, epsilon: epsilon)
    }

    /// w ·= decay; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²; w −= stepSize · m / (√v / rootCorrection2 + ε)
    public func apply(
        weights: UnsafeMutablePointer<Float>, firstMoment: UnsafeMutablePointer<Float>,
        secondMoment: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, count: Int
    ) {
        withUnsafePointer(to: constants) { zoo_adamw_update(weights, firstMoment, secondMoment, gradient, count, $0) }
    }
}
