import CKernels

// Row reductions, run by the C kernels of the active instruction-set path (`KernelPath`).
// They keep several vectors of partial results, so sums are not one serial dependency chain.

@inline(__always)
public func vectorMax(_ values: UnsafePointer<Float>, count: Int) -> Float { zoo_max(values, count) }

/// Σ (x − mean)² over `count` values.
@inline(__always)
public func vectorSquaredDeviations(_ values: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
    zoo_squared_deviations(values, count, mean)
}

@inline(__always)
public func vectorSum(_ values: UnsafePointer<Float>, count: Int) -> Float { zoo_sum(values, count) }

/// Σ a·b over `count` values.
@inline(__always)
public func vectorDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float { zoo_dot(a, b, count) }
