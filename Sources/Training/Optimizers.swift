import Foundation
import Kernels
import NN
import Tensors

/// Parameters sharing optimizer settings (timm puts biases and norm weights in a no-weight-decay group).
public struct ParameterGroup {
    /// The parameters' names in the module (as `namedParameters()`), parallel to `parameters`.
    public var names: [String]
    /// The parameter tensors the optimizer updates in place.
    public var parameters: [Tensor]
    /// The weight decay for this group (0 for no decay).
    public var weightDecay: Float
    /// A group of `parameters` named by `names` (parallel arrays) with their `weightDecay`.
    public init(names: [String], parameters: [Tensor], weightDecay: Float) {
        self.names = names
        self.parameters = parameters
        self.weightDecay = weightDecay
    }
}

/// timm's param_groups_weight_decay: no decay for 1-D tensors (biases, norms), `.bias`, and `skip` names
/// (e.g. pos_embed, cls_token).
public func weightDecayGroups(_ module: Module, weightDecay: Float, skip: Set<String> = []) -> [ParameterGroup] {
    var decay = ParameterGroup(names: [], parameters: [], weightDecay: weightDecay)
    var noDecay = ParameterGroup(names: [], parameters: [], weightDecay: 0)
    for (name, p) in module.namedParameters() {
        if p.rank <= 1 || name.hasSuffix(".bias") || skip.contains(name) {
            noDecay.names.append(name)
            noDecay.parameters.append(p)
        } else {
            decay.names.append(name)
            decay.parameters.append(p)
        }
    }
    return [noDecay, decay].filter { !$0.parameters.isEmpty }
}

/// Why an optimizer's state could not be restored.
public enum OptimizerError: Error, CustomStringConvertible {
    /// A checkpoint's state tensor is missing or has the wrong number of elements (the message says which).
    case stateMismatch(String)
    /// The message shown to the user.
    public var description: String {
        switch self {
        case .stateMismatch(let problem): return "optimizer state: \(problem)"
        }
    }
}

/// Updates parameters from their `.grad`; state is exposed for checkpoints.
public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get }
    var learningRate: Float { get set }
    func step() throws
    /// Per-parameter state tensors by "<group>.<index>.<name>" plus scalar counters, for checkpoints.
    func stateTensors() -> [(String, Tensor)]
    func loadState(_ tensors: [String: Tensor]) throws
}

extension Optimizer {
    /// Drops the gradient of every parameter of every group (torch's `optimizer.zero_grad()`, set_to_none).
    public func zeroGrad() { for g in groups { for p in g.parameters { p.zeroGrad() } } }
    var allParameters: [Tensor] { groups.flatMap(\.parameters) }
}

/// Loads state tensors by name, checking every expected one is present with the right size.
func restore(_ targets: [(String, Tensor)], from tensors: [String: Tensor]) throws {
    for (name, target) in targets {
        guard let source = tensors[name], source.count == target.count else {
            throw OptimizerError.stateMismatch("missing or mis-sized '\(name)'")
        }
        try target.assign(source)
    }
}

/// torch.optim.SGD (momentum, dampening 0, optional Nesterov, L2 weight decay added to the gradient).
public final class SGD: Optimizer {
    /// The parameters with their weight decay.
    public let groups: [ParameterGroup]
    /// The rate of the next step; schedules set it before each step.
    public var learningRate: Float
    /// The momentum factor (0 for plain SGD) and whether to use Nesterov momentum.
    public let momentum: Float, nesterov: Bool
    private var buffers: [[Tensor]]
    private var started: Tensor

    /// An optimizer with zeroed momentum buffers for `groups`.
    ///
    /// - Parameters:
    ///   - groups: The parameters with their weight decay.
    ///   - learningRate: The initial rate.
    ///   - momentum: torch's `momentum`; 0.9 by default.
    ///   - nesterov: torch's `nesterov`; off by default.
    /// - Throws: `TensorError` when the buffers exceed the memory budget.
    public init(groups: [ParameterGroup], learningRate: Float, momentum: Float = 0.9, nesterov: Bool = false) throws {
        self.groups = groups
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        buffers = try groups.map { try $0.parameters.map { try Tensor(zeros: $0.shape) } }
        started = try Tensor(zeros: [1])
    }

    /// Updates every parameter that has a gradient; the first step seeds each momentum buffer with the gradient.
    public func step() throws {
        let first = started.item == 0
        for (g, group) in groups.enumerated() {
            for (i, p) in group.parameters.enumerated() {
                guard let grad = p.grad else { continue }
                let gradient = grad.scalars
                let buffer = buffers[g][i]
                let (lr, wd, mu) = (learningRate, group.weightDecay, momentum)
                p.withUnsafeMutableBufferPointer { w in
                    buffer.withUnsafeMutableBufferPointer { b in
                        for k in w.indices {
                            let d = gradient[k] + wd * w[k]
                            var update = d
                            if mu != 0 {
                                b[k] = first ? d : mu * b[k] + d
                                update = nesterov ? d + mu * b[k] : b[k]
                            }
                            w[k] -= lr * update
                        }
                    }
                }
            }
        }
        try started.assign(Tensor(repeating: 1, shape: [1]))
    }

    /// The `started` flag and each parameter's momentum buffer as `"<group>.<index>.momentum"`.
    public func stateTensors() -> [(String, Tensor)] {
        [("started", started)]
            + buffers.enumerated().flatMap { g, list in
                list.enumerated().map { ("\(g).\($0.offset).momentum", $0.element) }
            }
    }

    /// Copies `tensors` (named as `stateTensors()`) into the state; throws `OptimizerError.stateMismatch` when
    /// one is missing or mis-sized.
    public func loadState(_ tensors: [String: Tensor]) throws { try restore(stateTensors(), from: tensors) }
}

/// torch.optim.AdamW: decoupled weight decay, bias-corrected moments.
public final class AdamW: Optimizer {
    /// The parameters with their weight decay.
    public let groups: [ParameterGroup]
    /// The rate of the next step; schedules set it before each step.
    public var learningRate: Float
    /// torch's `betas` (decay rates of the first and second moments) and `eps` (added to the denominator).
    public let beta1: Float, beta2: Float, epsilon: Float
    private var firstMoments: [[Tensor]], secondMoments: [[Tensor]]
    private var stepCount: Tensor

    /// An optimizer with zeroed moments for `groups`.
    ///
    /// - Parameters:
    ///   - groups: The parameters with their weight decay (decoupled: scaled by the learning rate).
    ///   - learningRate: The initial rate.
    ///   - betas: torch's `betas`; (0.9, 0.999) by default (MAE uses (0.9, 0.95)).
    ///   - epsilon: torch's `eps`; 1e-8 by default.
    /// - Throws: `TensorError` when the moments exceed the memory budget.
    public init(
        groups: [ParameterGroup], learningRate: Float, betas: (Float, Float) = (0.9, 0.999), epsilon: Float = 1e-8
    ) throws {
        self.groups = groups
        self.learningRate = learningRate
        beta1 = betas.0
        beta2 = betas.1
        self.epsilon = epsilon
        firstMoments = try groups.map { try $0.parameters.map { try Tensor(zeros: $0.shape) } }
        secondMoments = try groups.map { try $0.parameters.map { try Tensor(zeros: $0.shape) } }
        stepCount = try Tensor(zeros: [1])
    }

    /// Updates every parameter that has a gradient and advances the step count used for bias correction.
    public func step() throws {
        let t = stepCount.item + 1
        try stepCount.assign(Tensor(repeating: t, shape: [1]))
        let correction1 = 1 - powf(beta1, t)
        let correction2 = 1 - powf(beta2, t)
        let stepSize = learningRate / correction1
        let rootCorrection2 = correction2.squareRoot()
        for (g, group) in groups.enumerated() {
            let decay = 1 - learningRate * group.weightDecay
            for (i, p) in group.parameters.enumerated() {
                guard let grad = p.grad else { continue }
                let constants = AdamWStep(
                    decay: decay, beta1: beta1, beta2: beta2, stepSize: stepSize,
                    rootCorrection2: rootCorrection2, epsilon: epsilon)
                grad.withUnsafeBufferPointer { gr in
                    p.withUnsafeMutableBufferPointer { w in
                        firstMoments[g][i].withUnsafeMutableBufferPointer { m in
                            secondMoments[g][i].withUnsafeMutableBufferPointer { v in
                                // Element-wise, so splitting across threads changes no result.
                                parallelFor(w.count, minimumPerThread: 1 << 16) { range in
                                    let k = range.lowerBound
                                    constants.apply(
                                        weights: w.baseAddress! + k, firstMoment: m.baseAddress! + k,
                                        secondMoment: v.baseAddress! + k, gradient: gr.baseAddress! + k,
                                        count: range.count)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The step count as `"step"` and each parameter's moments as `"<group>.<index>.exp_avg"` / `".exp_avg_sq"`
    /// (torch's state names).
    public func stateTensors() -> [(String, Tensor)] {
        var out: [(String, Tensor)] = [("step", stepCount)]
        for g in firstMoments.indices {
            for i in firstMoments[g].indices {
                out.append(("\(g).\(i).exp_avg", firstMoments[g][i]))
                out.append(("\(g).\(i).exp_avg_sq", secondMoments[g][i]))
            }
        }
        return out
    }

    /// Copies `tensors` (named as `stateTensors()`) into the state; throws `OptimizerError.stateMismatch` when
    /// one is missing or mis-sized.
    public func loadState(_ tensors: [String: Tensor]) throws { try restore(stateTensors(), from: tensors) }
}

/// Sharpness-Aware Minimization (Foret et al., 2020 — arXiv:2010.01412) around a base optimizer:
/// `perturb()` climbs to w + ρ·g/‖g‖ after the first backward; `step()` returns to w and applies the
/// base optimizer with the gradient computed there.
public final class SAM: Optimizer {
    /// The optimizer that takes the actual step (SGD in `SupervisedTrainer`).
    public let base: any Optimizer
    /// The radius ρ of the neighbourhood, in the L2 norm of all gradients.
    public let rho: Float
    private var perturbations: [Tensor?] = []

    /// Wraps `base` with neighbourhood radius `rho` (0.05 by default, as the paper's default).
    public init(base: any Optimizer, rho: Float = 0.05) {
        self.base = base
        self.rho = rho
    }

    /// The base optimizer's groups.
    public var groups: [ParameterGroup] { base.groups }
    /// The base optimizer's learning rate.
    public var learningRate: Float {
        get { base.learningRate }
        set { base.learningRate = newValue }
    }

    /// Moves every parameter with a gradient by ρ·g/‖g‖ (‖g‖ over all parameters); call after the first
    /// backward, then run a second forward and backward before `step()`.
    public func perturb() throws {
        let params = allParameters
        var squares: Double = 0
        for p in params { if let g = p.grad { for v in g.scalars { squares += Double(v) * Double(v) } } }
        let scale = rho / (Float(squares.squareRoot()) + 1e-12)
        perturbations = try params.map { p in
            guard let g = p.grad else { return nil }
            let e = try g * scale
            try p.assign(p.detached() + e)
            return e
        }
    }

    /// Undoes the last `perturb()` (if any) and takes the base optimizer's step with the current gradients.
    public func step() throws {
        for (p, e) in zip(allParameters, perturbations) { if let e { try p.assign(p.detached() - e) } }
        perturbations = []
        try base.step()
    }

    /// The base optimizer's state (SAM itself keeps none between steps).
    public func stateTensors() -> [(String, Tensor)] { base.stateTensors() }
    /// Restores the base optimizer's state from `tensors`; throws as the base optimizer's `loadState(_:)`.
    public func loadState(_ tensors: [String: Tensor]) throws { try base.loadState(tensors) }
}
