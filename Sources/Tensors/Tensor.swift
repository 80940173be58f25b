import Foundation
import Kernels

/// Float32 storage shared by a tensor and its reshaped views.
final class Storage: @unchecked Sendable {
    private let memory: UnsafeMutablePointer<Float>
    let count: Int
    /// Bumped by every write from outside an op (loading, optimizer steps), so derived values know they are stale.
    var version: UInt64 = 0
    /// Values computed from these floats (weights packed for the GEMM), with the version they were built from.
    var derived: [String: (version: UInt64, value: AnyObject)] = [:]
    /// Whether the values may live in their packed form only (`Tensor.keepValuesPackedOnly`).
    var keepsValuesPackedOnly = false
    /// The packed form holding the values while `memory`'s pages are given back to the system.
    private var releasedInto: (any RestoresValues)?

    /// Whether the values are now held only by a packed form.
    var valuesAreReleased: Bool { releasedInto != nil }

    /// The values, unpacked again first if they were released.
    var pointer: UnsafeMutablePointer<Float> {
        if let holder = releasedInto {
            releasedInto = nil
            holder.unpack(into: memory)
        }
        return memory
    }

    /// For a packing about to be derived from the values, when they may live packed only: gives back the whole
    /// pages of each run of values the packing reports it has copied, so the two are never both held in full.
    /// Nil when the values must stay (then nothing may be given back before `releaseIntoPackedForm`).
    var givesBackCopiedValues: ((UnsafePointer<Float>, Int) -> Void)? {
        guard keepsValuesPackedOnly, releasedInto == nil, isLargeEnoughToRelease else { return nil }
        return { [self] start, count in
            precondition(start >= memory && start + count <= memory + self.count, "consumed values outside the tensor")
            givenBackEarly = true
            Self.dropWholePages(
                from: UnsafeMutableRawPointer(mutating: start), bytes: count * MemoryLayout<Float>.stride)
        }
    }

    /// Whether pages went back while a packing was derived (so a lossless packing must now hold the values).
    private var givenBackEarly = false

    /// Tensors under 64 KB keep their values: too few pages to be worth giving back.
    private var isLargeEnoughToRelease: Bool { count * MemoryLayout<Float>.stride >= 1 << 16 }

    /// Gives back the pages wholly inside `bytes` from `start` (they read as zeros until written again).
    @discardableResult
    private static func dropWholePages(from start: UnsafeMutableRawPointer, bytes: Int) -> Bool {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page
        let end = (Int(bitPattern: start) + bytes) / page * page
        guard end > first, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return false }
        // The memory stays allocated to us: MADV_DONTNEED only drops its pages, which come back zeroed.
        return madvise(pointer, end - first, Int32(MADV_DONTNEED)) == 0
    }

    /// When the values may live packed only and a current derived value can give them back, gives their whole
    /// pages back to the system (they read as zeros until `pointer` unpacks them). Tensors under 64 KB stay.
    func releaseIntoPackedForm() {
        guard keepsValuesPackedOnly, releasedInto == nil else { return }
        let current = derived.values.filter { $0.version == version }.compactMap { $0.value as? any RestoresValues }
        guard let holder = current.first(where: \.isLossless) else {
            precondition(!givenBackEarly, "values given back to a packing that cannot restore them")
            return
        }
        guard isLargeEnoughToRelease else { return }
        if Self.dropWholePages(from: UnsafeMutableRawPointer(memory), bytes: count * MemoryLayout<Float>.stride)
            || givenBackEarly
        {
            releasedInto = holder
        }
        givenBackEarly = false
    }

    /// Throws instead of trapping when the tensor memory budget or the system refuses the bytes.
    init(count: Int, zeroed: Bool, shape: [Int]) throws {
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        try TensorMemory.reserve(bytes, shape: shape)
        // calloc: memory fresh from the system is already zero, so a zero tensor (a model about to be
        // loaded) costs no page until it is written.
        guard let raw = zeroed ? calloc(1, bytes) : malloc(bytes) else {
            TensorMemory.release(bytes)
            throw TensorError.outOfMemory(
                shape: shape, bytes: bytes, limit: TensorMemory.budget, inUse: TensorMemory.inUse)
        }
        memory = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }
    deinit {
        free(memory)
        TensorMemory.release(max(count, 1) * MemoryLayout<Float>.stride)
    }
}

/// The bytes all live tensors may hold together, so an absurd size (a model argument, an image size, a
/// weight file's claim) is a thrown error naming the tensor instead of a trap or the kernel's OOM killer.
public enum TensorMemory {
    /// Three quarters of the smallest of physical memory, the address-space limit (`ulimit -v`,
    /// `prlimit --as`) and the cgroup memory limit; the rest is left to code, stacks and packed weights.
    public static let systemBudget: Int = {
        var limits = [Int(sysconf(Int32(_SC_PHYS_PAGES))) &* Int(sysconf(Int32(_SC_PAGESIZE)))]
        var addressSpace = rlimit()
        if getrlimit(addressSpaceLimit, &addressSpace) == 0, addressSpace.rlim_cur != rlim_t.max {
            limits.append(Int(clamping: addressSpace.rlim_cur))
        }
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
            let cgroup = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            limits.append(cgroup)
        }
        return limits.filter { $0 > 0 }.min().map { $0 / 4 * 3 } ?? Int.max
    }()

    /// The budget in force: `systemBudget` unless lowered (as torch's `set_per_process_memory_fraction`).
    public static var budget: Int {
        get { lock.withLock { limit } }
        set { lock.withLock { limit = min(newValue, systemBudget) } }
    }

    private static let lock = NSLock()
    // Both guarded by `lock`.
    nonisolated(unsafe) private static var liveBytes = 0
    nonisolated(unsafe) private static var limit = systemBudget

    /// Bytes held by live tensors now.
    public static var inUse: Int { lock.withLock { liveBytes } }

    static func reserve(_ bytes: Int, shape: [Int]) throws {
        let granted = lock.withLock { () -> Bool in
            guard bytes <= limit - liveBytes else { return false }
            liveBytes += bytes
            return true
        }
        guard granted else { throw TensorError.outOfMemory(shape: shape, bytes: bytes, limit: budget, inUse: inUse) }
    }

    static func release(_ bytes: Int) { lock.withLock { liveBytes -= bytes } }
}

#if canImport(Glibc)
private let addressSpaceLimit = Int32(RLIMIT_AS.rawValue)
#else
private let addressSpaceLimit = RLIMIT_AS
#endif

/// The number of elements of `shape`, or an error naming it when a size is negative or the product overflows.
func elementCount(_ shape: [Int]) throws -> Int {
    var count = 1
    for size in shape {
        guard size >= 0 else { throw TensorError.invalidShape(shape: shape, reason: "has a negative size") }
        let (product, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else {
            throw TensorError.invalidShape(shape: shape, reason: "has more elements than memory can address")
        }
        count = product
    }
    return count
}

/// How a tensor was computed: the inputs to walk and the closure that sends its gradient to them.
final class GradNode {
    let inputs: [Tensor]
    let backward: (Tensor) throws -> Void
    init(inputs: [Tensor], backward: @escaping (Tensor) throws -> Void) {
        self.inputs = inputs
        self.backward = backward
    }
}

/// A contiguous row-major Float32 tensor (NCHW for images, (B, N, C) for tokens) with reverse-mode autograd.
///
/// Tensors are references, as in PyTorch: a parameter is one object that layers share and optimizers
/// update in place. An op on tensors that require gradients records a `GradNode` (unless inside
/// `withoutGrad`), and `backward()` walks those nodes in reverse topological order.
public final class Tensor: CustomStringConvertible {
    /// The size of each dimension, outermost first ([] for a scalar).
    public let shape: [Int]
    /// The number of elements, the product of `shape` (1 for a scalar).
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
    init(uninitializedShape shape: [Int], zeroed: Bool = false) throws {
        self.shape = shape
        self.count = try elementCount(shape)
        self.storage = try Storage(count: count, zeroed: zeroed, shape: shape)
        self.requiresGrad = false
    }

    /// A tensor of zeros (torch.zeros); throws `TensorError` for a negative size or a size over the memory budget.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) throws {
        try self.init(uninitializedShape: shape, zeroed: true)
        self.requiresGrad = requiresGrad
    }

    /// A tensor with every element `value` (torch.full); throws as `init(zeros:)`.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) throws {
        try self.init(uninitializedShape: shape)
        storage.pointer.initialize(repeating: value, count: count)
        self.requiresGrad = requiresGrad
    }

    /// Copies `scalars` (row-major); throws when their number does not match the shape.
    public convenience init(shape: [Int], scalars: [Float], requiresGrad: Bool = false) throws {
        let expected = try elementCount(shape)
        guard scalars.count == expected else {
            throw TensorError.scalarCountMismatch(shape: shape, count: scalars.count)
        }
        try self.init(uninitializedShape: shape)
        scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: expected) }
        self.requiresGrad = requiresGrad
    }

    /// A scalar (shape []).
    public convenience init(_ value: Float) throws {
        try self.init(uninitializedShape: [])
        storage.pointer.initialize(to: value)
    }

    /// The number of dimensions (0 for a scalar).
    public var rank: Int { shape.count }
    /// Changes whenever the values are written: what a cache of values computed from them compares.
    public var version: UInt64 { storage.version }
    /// A copy of the values in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }
    /// The single value of a one-element tensor.
    public var item: Float { storage.pointer[0] }
    /// Whether no op recorded this tensor (a parameter or an input), as torch's `is_leaf`; true again once
    /// `backward()` has consumed the graph.
    public var isLeaf: Bool { gradNode == nil }

    /// Read access to the contiguous values (weights loading, metrics, tests).
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// In-place write access (optimizers, weight loading). Bypasses autograd.
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R
    {
        storage.version &+= 1
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// A value derived from this tensor's current values, built once and kept until they change
    /// (weights packed for inference). `key` names what is derived and everything else it depends on.
    public func derived<T: AnyObject>(_ key: String, _ build: (UnsafePointer<Float>) -> T) -> T {
        derived(key) { values, _ in build(values) }
    }

    /// `derived` for a lossless packing that reports the values it has copied as it goes (`consumed`, nil unless the
    /// values may live packed only): their pages are given back at once, so the two never are both held in full.
    public func derived<T: AnyObject>(
        _ key: String, _ build: (UnsafePointer<Float>, _ consumed: ((UnsafePointer<Float>, Int) -> Void)?) -> T
    ) -> T {
        if let cached = storage.derived[key], cached.version == storage.version, let value = cached.value as? T {
            return value
        }
        let value = build(storage.pointer, storage.givesBackCopiedValues)
        storage.derived[key] = (storage.version, value)
        storage.releaseIntoPackedForm()
        return value
    }

    /// Lets the values live only in their packed form once an inference op has packed them losslessly (the
    /// weights of a model that only runs inference: about half its memory), at once if it already has.
    /// Reading or writing them later unpacks them first, exactly as they were.
    public func keepValuesPackedOnly() {
        storage.keepsValuesPackedOnly = true
        storage.releaseIntoPackedForm()
    }

    /// Whether the values are now held only by a packed form (for tests and memory accounting).
    var valuesAreReleased: Bool { storage.valuesAreReleased }

    /// A new tensor with the same values, no graph.
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage)
    }

    /// An independent copy of the values.
    public func copy() throws -> Tensor {
        let result = try Tensor(uninitializedShape: shape)
        result.storage.pointer.update(from: storage.pointer, count: count)
        return result
    }

    /// Overwrites the values with those of `other` (same element count), in place, outside autograd.
    public func assign(_ other: Tensor) throws {
        guard other.count == count else { throw TensorError.shapeMismatch(op: "assign", shapes: [shape, other.shape]) }
        storage.version &+= 1
        storage.pointer.update(from: other.storage.pointer, count: count)
    }

    /// The shape and the first 8 values, e.g. `Tensor(shape: [2, 3], [1.0, 2.0, …])`.
    public var description: String {
        let preview = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", …" : "")])"
    }

    var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    /// Adds into this tensor's gradient buffer, creating it (zeros) on first use.
    func accumulateGrad(_ body: (UnsafeMutablePointer<Float>) -> Void) throws {
        if grad == nil { grad = try Tensor(zeros: shape) }
        body(grad!.pointer)
    }

    func accumulateGrad(from values: UnsafePointer<Float>) throws {
        try accumulateGrad { g in for i in 0..<count { g[i] += values[i] } }
    }

    /// Drops the gradient (torch's `zero_grad(set_to_none=True)`); the next backward starts it from zeros.
    public func zeroGrad() { grad = nil }
}

// MARK: - Gradient mode

/// Whether ops record a graph, per task (or thread): inference in one task does not turn off gradients in another.
public enum GradMode {
    @TaskLocal static var enabled = true
    /// False inside `withoutGrad` (as torch.is_grad_enabled()).
    public static var isEnabled: Bool { enabled }
}

/// Runs `body` without recording a graph: no tape nodes, no saved activations (inference).
public func withoutGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$enabled.withValue(false) { try body() }
}

extension Tensor {
    /// Creates the result of an op and, when any input needs gradients, the node that routes them.
    static func result(
        shape: [Int], zeroed: Bool = false, inputs: [Tensor],
        compute: (UnsafeMutablePointer<Float>) -> Void,
        backward: @escaping (Tensor) throws -> Void
    ) throws -> Tensor {
        let out = try Tensor(uninitializedShape: shape, zeroed: zeroed)
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
        grad = try gradient?.copy() ?? Tensor(repeating: 1, shape: shape)
        for tensor in order.reversed() {
            guard let node = tensor.gradNode, let outputGrad = tensor.grad else { continue }
            try node.backward(outputGrad)
            // Free the graph as it is consumed, as PyTorch does (retain_graph=False).
            tensor.gradNode = nil
            if !tensor.retainsGrad { tensor.grad = nil }
        }
    }
}

/// A form derived from a tensor's values that can give every one of them back (GEMM panels only reorder the
/// weights), so the tensor's own copy may be released while it exists.
public protocol RestoresValues: AnyObject {
    /// Whether this instance can (a Winograd packing transforms the weights and cannot).
    var isLossless: Bool { get }
    /// Writes the values back, exactly as they were packed from.
    func unpack(into values: UnsafeMutablePointer<Float>)
}

extension PackedMatrix: RestoresValues {
    /// Always: panels only reorder the matrix.
    public var isLossless: Bool { true }
}

extension PackedConvWeights: RestoresValues {}
