import Tensors

/// A layer or model: parameters, buffers and child modules under timm's state-dict names.
///
/// Subclasses create their tensors and children, then register them in `init` so that
/// `stateDict()` yields exactly the keys a timm checkpoint has (e.g. `layer1.0.conv1.weight`).
open class Module {
    /// This module's own trainable tensors (children's excluded), in registration order.
    public private(set) var localParameters: [(name: String, tensor: Tensor)] = []
    /// This module's own buffers (e.g. BatchNorm running statistics), in registration order.
    public private(set) var localBuffers: [(name: String, tensor: Tensor)] = []
    /// Direct child modules with their state-dict name segment, in registration order.
    public private(set) var children: [(name: String, module: Module)] = []
    /// Training mode (batch statistics, dropout) versus evaluation mode; new modules start in evaluation mode.
    public private(set) var isTraining = false

    /// An empty module in evaluation mode; subclasses register their tensors and children after `super.init()`.
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

    /// Registers a child module whose tensors appear under `name.` in `stateDict()`.
    ///
    /// - Parameters:
    ///   - name: The state-dict name segment, e.g. `"conv1"` or `"0"`.
    ///   - module: The child; it follows this module's `train(_:)` and `weightsDidChange()`.
    /// - Returns: `module`, so that a stored property can be initialised and registered in one expression.
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

    /// Number of trainable scalars in this module and its children (buffers excluded).
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.tensor.count } }

    /// Switches this module and its children between training and evaluation mode.
    public func train(_ on: Bool = true) {
        isTraining = on
        for child in children { child.module.train(on) }
        didChangeMode()
    }

    /// Switches this module and its children to evaluation mode, as torch's `module.eval()`.
    public func eval() { train(false) }

    /// For a model that will only run inference: each weight's own copy is released once the inference path
    /// has packed it for the GEMM (about half the model's memory); reading a weight later unpacks it, exactly.
    public func keepWeightsPackedOnly() {
        for (_, tensor) in namedParameters() { tensor.keepValuesPackedOnly() }
    }

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
    /// The modules in order; `items[i]` is registered as child `"i"`.
    public let items: [Element]
    /// Registers `items` as children named by their index.
    public init(_ items: [Element]) {
        self.items = items
        super.init()
        for (i, item) in items.enumerated() { register("\(i)", item) }
    }
    /// Number of modules in the list.
    public var count: Int { items.count }
    /// The module registered as child `"index"`.
    public subscript(index: Int) -> Element { items[index] }
}

/// A module that maps one tensor to one tensor.
public protocol Layer: Module {
    /// The forward pass, honouring the module's training mode.
    func callAsFunction(_ input: Tensor) throws -> Tensor
}

/// torch.nn.Sequential of layers: applies them in order; children named "0", "1", ….
public final class Sequential: Module, Layer {
    /// The layers in application order; `layers[i]` is registered as child `"i"`.
    public let layers: [any Layer]
    /// Registers `layers` as children named by their index.
    public init(_ layers: [any Layer]) {
        self.layers = layers
        super.init()
        for (i, layer) in layers.enumerated() { register("\(i)", layer) }
    }
    /// Feeds `input` through every layer in turn (an empty list returns `input`); rethrows the first layer error.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try layers.reduce(input) { try $1($0) }
    }
}

/// torch.nn.Identity: a parameterless layer that returns its input, for optional stages of a `Sequential`.
public final class Identity: Module, Layer {
    /// An identity layer.
    public override init() { super.init() }
    /// Returns `input` itself (the same tensor, not a copy).
    public func callAsFunction(_ input: Tensor) throws -> Tensor { input }
}

extension Module {
    /// Every module of type `T` in this tree, depth first (this module included).
    public func descendants<T: Module>(ofType type: T.Type) -> [T] {
        ((self as? T).map { [$0] } ?? []) + children.flatMap { $0.module.descendants(ofType: type) }
    }
}
