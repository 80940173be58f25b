import Foundation
import Kernels

/// Float32 storage shared by a tensor and its reshaped views.
final class Storage: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int
    /// Bumped by every write from outside an op (loading, optimizer steps), so derived values know they are stale.
    var version: UInt64 = 0
    /// Values computed from these floats (weights packed for the GEMM), with the version they were built from.
    var derived: [String: (version: UInt64, value: AnyObject)] = [:]
    init(count: Int, zeroed: Bool) {
        self.count = count
        // calloc: memory fresh from the system is already zero, so a zero tensor (a model about to be
        // loaded) costs no page until it is written.
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        guard let raw = zeroed ? calloc(1, bytes) : malloc(bytes) else { fatalError("out of memory allocating \(bytes) bytes") }
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }
    deinit { free(pointer) }
}

/// How a tensor was computed: the inputs to walk and the closure that sends its gradient to them.
final class GradNode {
    let inputs: [Tensor]
    let backward: (Tensor) -> Void
    init(inputs: [Tensor], backward: @escaping (Tensor) -> Void) { self.inputs = inputs; self.backward = backward }
}

/// A contiguous row-major Float32 tensor (NCHW for images, (B, N, C) for tokens) with reverse-mode autograd.
///
/// Tensors are references, as in PyTorch: a parameter is one object that layers share and optimizers
/// update in place. An op on tensors that require gradients records a `GradNode` (unless inside
/// `withoutGrad`), and `backward()` walks those nodes in reverse topological order.
public final class Tensor: CustomStringConvertible {
    public let shape: [Int]
    public let count: Int
    let storage: Storage
    /// Whether gradients flow to this tensor (parameters and inputs of a gradient check).
    public var requiresGrad: Bool
    /// Accumulated ∂loss/∂self after `backward()` (leaves only, unless `retainsGrad`).
    public var grad: Tensor?
    /// Keep the gradient of a non-leaf tensor after backward.
    public var retainsGrad = false
    var gradNode: GradNode?

    init(shape: [Int], storage: Storage, requiresGrad: Bool = false) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    /// An uninitialised or zero tensor; kernels fill it.
    init(uninitializedShape shape: [Int], zeroed: Bool = false) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.storage = Storage(count: count, zeroed: zeroed)
        self.requiresGrad = false
    }

    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(uninitializedShape: shape, zeroed: true)
        self.requiresGrad = requiresGrad
    }

    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(uninitializedShape: shape)
        storage.pointer.initialize(repeating: value, count: count)
        self.requiresGrad = requiresGrad
    }

    /// Copies `scalars` (row-major); throws when their number does not match the shape.
    public convenience init(shape: [Int], scalars: [Float], requiresGrad: Bool = false) throws {
        let expected = shape.reduce(1, *)
        guard scalars.count == expected, shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.scalarCountMismatch(shape: shape, count: scalars.count)
        }
        self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: expected) }
        self.requiresGrad = requiresGrad
    }

    /// A scalar (shape []).
    public convenience init(_ value: Float) {
        self.init(uninitializedShape: [])
        storage.pointer.initialize(to: value)
    }

    public var rank: Int { shape.count }
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }
    /// The single value of a one-element tensor.
    public var item: Float { storage.pointer[0] }
    public var isLeaf: Bool { gradNode == nil }

    /// Read access to the contiguous values (weights loading, metrics, tests).
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// In-place write access (optimizers, weight loading). Bypasses autograd.
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        storage.version &+= 1
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// A value derived from this tensor's current values, built once and kept until they change
    /// (weights packed for inference). `key` names what is derived and everything else it depends on.
    public func derived<T: AnyObject>(_ key: String, _ build: (UnsafePointer<Float>) -> T) -> T {
        if let cached = storage.derived[key], cached.version == storage.version, let value = cached.value as? T { return value }
        let value = build(storage.pointer)
        storage.derived[key] = (storage.version, value)
        return value
    }

    /// A new tensor with the same values, no graph.
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage)
    }

    /// An independent copy of the values.
    public func copy() -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        result.storage.pointer.update(from: storage.pointer, count: count)
        return result
    }

    /// Overwrites the values with those of `other` (same element count), in place, outside autograd.
    public func assign(_ other: Tensor) throws {
        guard other.count == count else { throw TensorError.shapeMismatch(op: "assign", shapes: [shape, other.shape]) }
        storage.version &+= 1
        storage.pointer.update(from: other.storage.pointer, count: count)
    }

    public var description: String {
        let preview = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", …" : "")])"
    }

    var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    /// Adds into this tensor's gradient buffer, creating it (zeros) on first use.
    func accumulateGrad(_ body: (UnsafeMutablePointer<Float>) -> Void) {
        if grad == nil { grad = Tensor(zeros: shape) }
        body(grad!.pointer)
    }

    func accumulateGrad(from values: UnsafePointer<Float>) {
        accumulateGrad { g in for i in 0..<count { g[i] += values[i] } }
    }

    public func zeroGrad() { grad = nil }
}

// MARK: - Gradient mode

public enum GradMode {
    nonisolated(unsafe) static var enabledFlag = true
    public static var isEnabled: Bool { enabledFlag }
}

/// Runs `body` without recording a graph: no tape nodes, no saved activations (inference).
public func withoutGrad<T>(_ body: () throws -> T) rethrows -> T {
    let previous = GradMode.enabledFlag
    GradMode.enabledFlag = false
    defer { GradMode.enabledFlag = previous }
    return try body()
}

extension Tensor {
    /// Creates the result of an op and, when any input needs gradients, the node that routes them.
    static func result(shape: [Int], zeroed: Bool = false, inputs: [Tensor],
                       compute: (UnsafeMutablePointer<Float>) -> Void,
                       backward: @escaping (Tensor) -> Void) -> Tensor {
        let out = Tensor(uninitializedShape: shape, zeroed: zeroed)
        compute(out.pointer)
        if GradMode.isEnabled && inputs.contains(where: { $0.requiresGrad }) {
            out.requiresGrad = true
            out.gradNode = GradNode(inputs: inputs, backward: backward)
        }
        return out
    }

    /// Whether an op that may skip saving activations should save them for a backward pass.
    static func needsGraph(_ inputs: Tensor...) -> Bool {
        GradMode.isEnabled && inputs.contains(where: { $0.requiresGrad })
    }

    /// Back-propagates from this tensor (a scalar loss unless `gradient` is given).
    public func backward(gradient: Tensor? = nil) throws {
        if let gradient, gradient.shape != shape {
            throw TensorError.shapeMismatch(op: "backward", shapes: [shape, gradient.shape])
        }
        if gradient == nil && count != 1 { throw TensorError.backwardOfNonScalar(shape: shape) }
        guard requiresGrad else { throw TensorError.noGradient }

        // Iterative depth-first post-order: inputs before the tensors computed from them.
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (tensor, next) = stack.popLast() {
            let inputs = tensor.gradNode?.inputs ?? []
            if next < inputs.count {
                stack.append((tensor, next + 1))
                let input = inputs[next]
                if input.requiresGrad && visited.insert(ObjectIdentifier(input)).inserted { stack.append((input, 0)) }
            } else {
                order.append(tensor)
            }
        }
        grad = gradient?.copy() ?? Tensor(repeating: 1, shape: shape)
        for tensor in order.reversed() {
            guard let node = tensor.gradNode, let outputGrad = tensor.grad else { continue }
            node.backward(outputGrad)
            // Free the graph as it is consumed, as PyTorch does (retain_graph=False).
            tensor.gradNode = nil
            if !tensor.retainsGrad { tensor.grad = nil }
        }
    }
}
