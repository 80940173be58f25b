import Tensors

/// A layer or model: parameters, buffers and child modules under timm's state-dict names.
///
/// Subclasses create their tensors and children, then register them in `init` so that
/// `stateDict()` yields exactly the keys a timm checkpoint has (e.g. `layer1.0.conv1.weight`).
open class Module {
    public private(set) var localParameters: [(name: String, tensor: Tensor)] = []
    public private(set) var localBuffers: [(name: String, tensor: Tensor)] = []
    public private(set) var children: [(name: String, module: Module)] = []
    /// Training mode (batch statistics, dropout) versus evaluation mode; new modules start in evaluation mode.
    public private(set) var isTraining = false

    public init() {}

    /// Registers a trainable tensor (sets `requiresGrad`).
    @discardableResult
    public func register(parameter name: String, _ tensor: Tensor) -> Tensor {
        tensor.requiresGrad = true
        localParameters.append((name, tensor))
        return tensor
    }

    /// Registers a state tensor that is saved and loaded but not trained (running statistics).
    @discardableResult
    public func register(buffer name: String, _ tensor: Tensor) -> Tensor {
        localBuffers.append((name, tensor))
        return tensor
    }

    @discardableResult
    public func register<M: Module>(_ name: String, _ module: M) -> M {
        children.append((name, module))
        return module
    }

    /// Every trainable tensor, depth first, with dotted names.
    public func namedParameters(prefix: String = "") -> [(name: String, tensor: Tensor)] {
        localParameters.map { (prefix + $0.name, $0.tensor) }
            + children.flatMap { $0.module.namedParameters(prefix: prefix + $0.name + ".") }
    }

    /// Parameters and buffers, depth first, with dotted names: the keys of a timm state dict.
    public func stateDict(prefix: String = "") -> [(name: String, tensor: Tensor)] {
        localParameters.map { (prefix + $0.name, $0.tensor) } + localBuffers.map { (prefix + $0.name, $0.tensor) }
            + children.flatMap { $0.module.stateDict(prefix: prefix + $0.name + ".") }
    }

    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.tensor.count } }

    /// Switches this module and its children between training and evaluation mode.
    public func train(_ on: Bool = true) {
        isTraining = on
        for child in children { child.module.train(on) }
        didChangeMode()
    }

    public func eval() { train(false) }

    /// Called after `train(_:)` and after weights are loaded, for modules that cache derived tensors.
    open func didChangeMode() {}

    /// Lets modules drop caches derived from their weights (call after changing weights in place).
    public func weightsDidChange() {
        for child in children { child.module.weightsDidChange() }
        didChangeMode()
    }
}

/// An ordered list of modules named "0", "1", … (torch.nn.Sequential / ModuleList).
public final class ModuleList<Element: Module>: Module {
    public let items: [Element]
    public init(_ items: [Element]) {
        self.items = items
        super.init()
        for (i, item) in items.enumerated() { register("\(i)", item) }
    }
    public var count: Int { items.count }
    public subscript(index: Int) -> Element { items[index] }
}

/// A module that maps one tensor to one tensor.
public protocol Layer: Module {
    func callAsFunction(_ input: Tensor) throws -> Tensor
}

/// torch.nn.Sequential of layers: applies them in order; children named "0", "1", ….
public final class Sequential: Module, Layer {
    public let layers: [any Layer]
    public init(_ layers: [any Layer]) {
        self.layers = layers
        super.init()
        for (i, layer) in layers.enumerated() { register("\(i)", layer) }
    }
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try layers.reduce(input) { try $1($0) }
    }
}

public final class Identity: Module, Layer {
    public override init() { super.init() }
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input }
}

extension Module {
    /// Every module of type `T` in this tree, depth first (this module included).
    public func descendants<T: Module>(ofType type: T.Type) -> [T] {
        ((self as? T).map { [$0] } ?? []) + children.flatMap { $0.module.descendants(ofType: type) }
    }
}
