import Randomness

extension Tensor {
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, using rng: inout RandomGenerator
    ) throws -> Tensor {
        let t = try Tensor(uninitializedShape: shape)
        rng.fillUniform(t.pointer, count: t.count, low: low, high: high)
        return t
    }

    public static func normal(
        _ shape: [Int], mean: Float = 0, std: Float = 1, using rng: inout RandomGenerator
    ) throws -> Tensor {
        let t = try Tensor(uninitializedShape: shape)
        rng.fillNormal(t.pointer, count: t.count, mean: mean, std: std)
        return t
    }
}
