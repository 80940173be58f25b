/// One named weight as plain data: Float32 values in row-major order.
/// Kept independent of `Tensor` so checkpoints can be read, checked and rewritten without a model.
public struct WeightTensor: Equatable, Sendable {
    /// The size of each dimension, as torch's `Tensor.shape` ([] for a scalar).
    public var shape: [Int]
    /// The elements in row-major order, converted to Float32 whatever the file stored.
    public var values: [Float]

    /// A weight of `shape` holding `values`; traps unless the shape's sizes are non-negative and hold exactly
    /// `values.count` elements.
    public init(shape: [Int], values: [Float]) {
        precondition(
            shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count,
            "WeightTensor: \(values.count) values do not fill shape \(shape)")
        self.shape = shape
        self.values = values
    }

    /// Number of elements (1 for a scalar, whose shape is []).
    public var elementCount: Int { values.count }
}

/// Named weights in a fixed key order (the file's order when loaded).
public struct StateDict: Equatable, Sendable, Sequence {
    /// The keys in order (e.g. `conv1.weight`, `bn1.running_mean`, as timm's `state_dict()` names them).
    public private(set) var keys: [String] = []
    private var tensors: [String: WeightTensor] = [:]
    /// Free-form string metadata (safetensors `__metadata__`); not part of the weights.
    public var metadata: [String: String] = [:]

    /// An empty dict with no metadata.
    public init() {}

    /// Later duplicates of a key replace earlier ones but keep the first position.
    public init<S: Sequence>(_ entries: S) where S.Element == (String, WeightTensor) {
        for (key, tensor) in entries { self[key] = tensor }
    }

    /// The number of weights.
    public var count: Int { keys.count }
    /// Whether there are no weights (metadata aside).
    public var isEmpty: Bool { keys.isEmpty }
    /// Whether a weight is stored under `key`.
    public func contains(_ key: String) -> Bool { tensors[key] != nil }

    /// Setting a new key appends it; setting nil removes it.
    public subscript(key: String) -> WeightTensor? {
        get { tensors[key] }
        set {
            switch (tensors[key] != nil, newValue) {
            case (false, .some(let tensor)):
                keys.append(key)
                tensors[key] = tensor
            case (true, .some(let tensor)):
                tensors[key] = tensor
            case (true, .none):
                tensors[key] = nil
                keys.removeAll { $0 == key }
            case (false, .none):
                break
            }
        }
    }

    /// The (key, tensor) pairs in key order.
    public func makeIterator() -> AnyIterator<(key: String, tensor: WeightTensor)> {
        var index = 0
        return AnyIterator {
            guard index < keys.count else { return nil }
            defer { index += 1 }
            let key = keys[index]
            guard let tensor = tensors[key] else { return nil }
            return (key, tensor)
        }
    }

    /// Renames keys in order; `transform` returning nil drops the key.
    /// Throws `duplicateKey` when two keys land on the same name, so a remap can never silently lose a weight.
    public func mappingKeys(_ transform: (String) throws -> String?) throws -> StateDict {
        var result = StateDict()
        result.metadata = metadata
        for (key, tensor) in self {
            guard let newKey = try transform(key) else { continue }
            if result.contains(newKey) { throw WeightsError.duplicateKey(key: newKey) }
            result[newKey] = tensor
        }
        return result
    }

    /// Checks that this dict holds exactly the expected keys with the expected shapes.
    /// Reports missing keys first, then unexpected ones, then the first shape mismatch (in `expected` order).
    public func verify(expectedShapes expected: [(key: String, shape: [Int])], allowUnexpected: Bool = false) throws {
        let missing = expected.map(\.key).filter { !contains($0) }
        if !missing.isEmpty { throw WeightsError.missingKeys(missing) }
        if !allowUnexpected {
            let expectedKeys = Set(expected.map(\.key))
            let unexpected = keys.filter { !expectedKeys.contains($0) }
            if !unexpected.isEmpty { throw WeightsError.unexpectedKeys(unexpected) }
        }
        for (key, shape) in expected {
            if let actual = tensors[key]?.shape, actual != shape {
                throw WeightsError.shapeMismatch(key: key, expected: shape, actual: actual)
            }
        }
    }
}
