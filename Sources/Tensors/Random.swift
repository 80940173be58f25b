import Randomness

extension Tensor {
    /// Values drawn uniformly from [low, high) (torch.nn.init.uniform_), row-major from `rng`'s stream.
    ///
    /// - Parameters:
    ///   - shape: The tensor's shape.
    ///   - low: The lower bound, included.
    ///   - high: The upper bound, excluded.
    ///   - rng: The generator to draw from; it advances by one draw per element.
    /// - Returns: A new tensor that does not require gradients.
    /// - Throws: `TensorError` when the shape is invalid or over the memory budget.
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, using rng: inout RandomGenerator
    ) throws -> Tensor {
        let t = try Tensor(uninitializedShape: shape)
        rng.fillUniform(t.pointer, count: t.count, low: low, high: high)
        return t
    }

    /// Values drawn from a normal distribution (torch.nn.init.normal_), row-major from `rng`'s stream.
    ///
    /// - Parameters:
    ///   - shape: The tensor's shape.
    ///   - mean: The distribution's mean.
    ///   - std: The distribution's standard deviation.
    ///   - rng: The generator to draw from; it advances by two draws per element (Box–Muller).
    /// - Returns: A new tensor that does not require gradients.
    /// - Throws: `TensorError` when the shape is invalid or over the memory budget.
    public static func normal(
        _ shape: [Int], mean: Float = 0, std: Float = 1, using rng: inout RandomGenerator
    ) throws -> Tensor {
        let t = try Tensor(uninitializedShape: shape)
        rng.fillNormal(t.pointer, count: t.count, mean: mean, std: std)
        return t
    }
}
