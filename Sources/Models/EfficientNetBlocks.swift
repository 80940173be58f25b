// The block builder shared by timm's EfficientNet-style families (EfficientNet-Lite, MobileNet-V2,
// MobileNet-V3): architecture strings such as "ir_r2_k3_s2_e6_c24_se0.25_nre", channel and depth
// scaling, and the three blocks they decode to. Follows timm's `_efficientnet_builder.py` and
// `_efficientnet_blocks.py`; the key names (`conv_dw`, `bn1`, `conv_pw`, `se.conv_reduce`, `conv_pwl`, …)
// are timm's.

import Foundation
import NN
import Tensors

/// One entry of a timm architecture definition: block type, then `_`-separated options
/// (`r` repeats, `k` kernel, `s` stride, `e` expansion, `c` output channels, `se` squeeze ratio,
/// `n` activation: `re` ReLU, `r6` ReLU6, `hs` hard-swish, `sw` SiLU; `noskip`, `skip`).
struct BlockDefinition: Equatable {
    enum Kind: String {
        case depthwiseSeparable = "ds"
        case invertedResidual = "ir"
        case convNormAct = "cn"
    }

    var kind: Kind
    var repeats: Int
    var kernel: Int
    var stride: Int
    var expansion: Double
    var outChannels: Int
    var seRatio: Double
    /// nil: the model's default activation.
    var activation: Activation?
    var noSkip: Bool
    /// Only `cn` blocks: a residual when shapes allow it.
    var forceSkip: Bool

    init(_ text: String) throws {
        func invalid(_ reason: String) -> ModelError {
            .invalidArgument(model: "efficientnet builder", argument: text, reason: reason)
        }
        let parts = text.split(separator: "_").map(String.init)
        guard let head = parts.first, let kind = Kind(rawValue: head) else {
            throw invalid("has an unknown block type")
        }
        var numbers: [String: Double] = [:]
        var activation: Activation?
        var skip: Bool?
        for option in parts.dropFirst() {
            if option == "noskip" {
                skip = false
                continue
            }
            if option == "skip" {
                skip = true
                continue
            }
            if option.hasPrefix("n") {
                let table: [String: Activation] = ["re": .relu, "r6": .relu6, "hs": .hardSwish, "sw": .silu]
                guard let act = table[String(option.dropFirst())] else {
                    throw invalid("has an unknown activation '\(option)'")
                }
                activation = act
                continue
            }
            // Key letters, then the number ("se0.25" → se: 0.25), as timm's regex split does.
            guard let digit = option.firstIndex(where: \.isNumber), let value = Double(option[digit...]) else {
                throw invalid("has an unreadable option '\(option)'")
            }
            numbers[String(option[..<digit])] = value
        }
        guard let repeats = numbers["r"], let stride = numbers["s"], let channels = numbers["c"] else {
            throw invalid("needs r, s and c")
        }
        self.kind = kind
        self.repeats = Int(repeats)
        self.kernel = Int(numbers["k"] ?? 1)
        self.stride = Int(stride)
        self.expansion = kind == .invertedResidual ? numbers["e"] ?? 1 : 1
        self.outChannels = Int(channels)
        self.seRatio = numbers["se"] ?? 0
        self.activation = activation
        self.noSkip = skip == false
        self.forceSkip = skip == true
    }
}

/// timm's `decode_arch_def`: each stage's block list with repeats scaled by `depthMultiplier`
/// (rounded up, as EfficientNet does); `fixFirstLast` keeps the first and last stages as written.
func decodeArchitecture(_ stages: [[String]], depthMultiplier: Double, fixFirstLast: Bool) throws -> [[BlockDefinition]]
{
    try stages.enumerated().map { index, strings in
        let definitions = try strings.map(BlockDefinition.init)
        let fixed = fixFirstLast && (index == 0 || index == stages.count - 1)
        return scaleStageDepth(definitions, multiplier: fixed ? 1 : depthMultiplier)
    }
}

/// timm's `_scale_stage_depth` (ceil): scales the stage's total repeats, then shares them out from the
/// last definition backwards so the first block type is the least likely to grow.
private func scaleStageDepth(_ definitions: [BlockDefinition], multiplier: Double) -> [BlockDefinition] {
    var remaining = definitions.map(\.repeats).reduce(0, +)
    var remainingScaled = Int((Double(remaining) * multiplier).rounded(.up))
    var scaled: [Int] = []
    for definition in definitions.reversed() {
        let share = Double(definition.repeats) / Double(remaining) * Double(remainingScaled)
        let count = max(1, Int(share.rounded(.toNearestOrEven)))  // Python's round()
        scaled.insert(count, at: 0)
        remaining -= definition.repeats
        remainingScaled -= count
    }
    return zip(definitions, scaled).flatMap { definition, count in
        (0..<count).map { i in
            var block = definition
            block.repeats = 1
            if i > 0 { block.stride = 1 }
            return block
        }
    }
}

/// timm's `round_channels`: channels × multiplier, made divisible by 8.
func roundChannels(_ channels: Int, multiplier: Double) -> Int {
    multiplier == 0 ? channels : makeDivisible(Double(channels) * multiplier)
}

/// How a family builds its blocks (what differs between EfficientNet-Lite, MobileNet-V2 and V3).
struct BlockBuildOptions {
    /// nil: PyTorch symmetric padding; `.same`: TensorFlow "same" (the `tf_` ports).
    var padding: ConvPadding?
    var bnEpsilon: Float
    var activation: Activation
    var roundChannels: (Int) -> Int
    /// MobileNet-V3 sizes squeeze-excite from the expanded channels; EfficientNet from the block input.
    var seFromExpansion = false
    var seGate: Activation = .sigmoid
    /// nil: the block's own activation.
    var seActivation: Activation?
    /// Reduced squeeze-excite channels from (channels × ratio): Python's round in EfficientNet, round_channels in V3.
    var seReducedChannels: (Double) -> Int = { Int($0.rounded(.toNearestOrEven)) }
    var dropPathRate: Float = 0
}

/// Builds the `blocks.<stage>.<index>` trunk; returns the stages and the channels they end with.
func buildStages(
    inChannels: Int, stages: [[BlockDefinition]], options: BlockBuildOptions
) throws -> (stages: [Sequential], outChannels: Int) {
    let total = stages.map(\.count).reduce(0, +)
    var index = 0
    var channels = inChannels
    var built: [Sequential] = []
    for stage in stages {
        var blocks: [any Layer] = []
        for definition in stage {
            let out = options.roundChannels(definition.outChannels)
            // timm's EfficientNetBuilder divides by the block count, not count − 1 as DropPath.linearRate does.
            let dropPath = options.dropPathRate * Float(index) / Float(total)
            let activation = definition.activation ?? options.activation
            switch definition.kind {
            case .depthwiseSeparable:
                blocks.append(
                    try DepthwiseSeparableBlock(
                        definition, inChannels: channels, outChannels: out, activation: activation,
                        options: options, dropPath: dropPath))
            case .invertedResidual:
                blocks.append(
                    try InvertedResidualBlock(
                        definition, inChannels: channels, outChannels: out, activation: activation,
                        options: options, dropPath: dropPath))
            case .convNormAct:
                blocks.append(
                    try ConvNormActBlock(
                        definition, inChannels: channels, outChannels: out, activation: activation,
                        options: options, dropPath: dropPath))
            }
            channels = out
            index += 1
        }
        built.append(Sequential(blocks))
    }
    return (built, channels)
}

private func makeSqueezeExcite(
    _ definition: BlockDefinition, channels: Int, activation: Activation,
    options: BlockBuildOptions
) throws -> SqueezeExcite? {
    guard definition.seRatio > 0 else { return nil }
    let ratio = options.seFromExpansion ? definition.seRatio : definition.seRatio / definition.expansion
    return try SqueezeExcite(
        channels: channels, reducedChannels: options.seReducedChannels(Double(channels) * ratio),
        activation: options.seActivation ?? activation, gate: options.seGate,
        names: ("conv_reduce", "conv_expand"))
}

/// Depthwise 3×3 (or k×k) → BN-act → [SE] → pointwise 1×1 → BN, with a residual when shapes match.
final class DepthwiseSeparableBlock: Module, Layer {
    let convDepthwise: Conv2d, norm1: BatchNorm2d
    let se: SqueezeExcite?
    let convPointwise: Conv2d, norm2: BatchNorm2d
    let activation: Activation
    let hasSkip: Bool
    let dropPath: DropPath

    init(
        _ definition: BlockDefinition, inChannels: Int, outChannels: Int, activation: Activation,
        options: BlockBuildOptions, dropPath: Float
    ) throws {
        convDepthwise = try Conv2d(
            inChannels, inChannels, kernel: definition.kernel, stride: definition.stride,
            padding: options.padding, groups: inChannels, bias: false)
        norm1 = try BatchNorm2d(inChannels, epsilon: options.bnEpsilon)
        se = try makeSqueezeExcite(definition, channels: inChannels, activation: activation, options: options)
        convPointwise = try Conv2d(inChannels, outChannels, kernel: 1, padding: options.padding, bias: false)
        norm2 = try BatchNorm2d(outChannels, epsilon: options.bnEpsilon)
        self.activation = activation
        hasSkip = definition.stride == 1 && inChannels == outChannels && !definition.noSkip
        self.dropPath = DropPath(dropPath)
        super.init()
        register("drop_path", self.dropPath)
        register("conv_dw", convDepthwise)
        register("bn1", norm1)
        if let se { register("se", se) }
        register("conv_pw", convPointwise)
        register("bn2", norm2)
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        // At inference without squeeze-excite (which needs the whole depthwise output first), one fused kernel.
        if se == nil, let depthwise = norm1.folded(into: convDepthwise, activation: activation, for: input),
            let project = norm2.folded(into: convPointwise, activation: .identity, for: input)
        {
            return try input.invertedResidualInference(
                expand: nil, depthwise: depthwise, project: project, addsInput: hasSkip)
        }
        var x = try norm1.fused(after: convDepthwise, activation: activation, input)
        if let se { x = try se(x) }
        x = try norm2.fused(after: convPointwise, activation: .identity, x)
        return hasSkip ? try dropPath(x) + input : x
    }
}

/// MobileNet-V2's inverted residual (MBConv): 1×1 expand → BN-act → depthwise → BN-act → [SE] →
/// 1×1 project → BN, with a residual when shapes match.
final class InvertedResidualBlock: Module, Layer {
    let convPointwise: Conv2d, norm1: BatchNorm2d
    let convDepthwise: Conv2d, norm2: BatchNorm2d
    let se: SqueezeExcite?
    let convProject: Conv2d, norm3: BatchNorm2d
    let activation: Activation
    let hasSkip: Bool
    let dropPath: DropPath

    init(
        _ definition: BlockDefinition, inChannels: Int, outChannels: Int, activation: Activation,
        options: BlockBuildOptions, dropPath: Float
    ) throws {
        let mid = makeDivisible(Double(inChannels) * definition.expansion)
        convPointwise = try Conv2d(inChannels, mid, kernel: 1, padding: options.padding, bias: false)
        norm1 = try BatchNorm2d(mid, epsilon: options.bnEpsilon)
        convDepthwise = try Conv2d(
            mid, mid, kernel: definition.kernel, stride: definition.stride, padding: options.padding,
            groups: mid, bias: false)
        norm2 = try BatchNorm2d(mid, epsilon: options.bnEpsilon)
        se = try makeSqueezeExcite(definition, channels: mid, activation: activation, options: options)
        convProject = try Conv2d(mid, outChannels, kernel: 1, padding: options.padding, bias: false)
        norm3 = try BatchNorm2d(outChannels, epsilon: options.bnEpsilon)
        self.activation = activation
        hasSkip = definition.stride == 1 && inChannels == outChannels && !definition.noSkip
        self.dropPath = DropPath(dropPath)
        super.init()
        register("drop_path", self.dropPath)
        register("conv_pw", convPointwise)
        register("bn1", norm1)
        register("conv_dw", convDepthwise)
        register("bn2", norm2)
        if let se { register("se", se) }
        register("conv_pwl", convProject)
        register("bn3", norm3)
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        // At inference without squeeze-excite (which needs the whole depthwise output first), one fused kernel.
        if se == nil, let expand = norm1.folded(into: convPointwise, activation: activation, for: input),
            let depthwise = norm2.folded(into: convDepthwise, activation: activation, for: input),
            let project = norm3.folded(into: convProject, activation: .identity, for: input)
        {
            return try input.invertedResidualInference(
                expand: expand, depthwise: depthwise, project: project, addsInput: hasSkip)
        }
        var x = try norm1.fused(after: convPointwise, activation: activation, input)
        x = try norm2.fused(after: convDepthwise, activation: activation, x)
        if let se { x = try se(x) }
        x = try norm3.fused(after: convProject, activation: .identity, x)
        return hasSkip ? try dropPath(x) + input : x
    }
}

/// A plain conv → BN-act (`conv`, `bn1`), e.g. MobileNet-V3's last 1×1 stage.
final class ConvNormActBlock: Module, Layer {
    let conv: Conv2d, norm: BatchNorm2d
    let activation: Activation
    let hasSkip: Bool
    let dropPath: DropPath

    init(
        _ definition: BlockDefinition, inChannels: Int, outChannels: Int, activation: Activation,
        options: BlockBuildOptions, dropPath: Float
    ) throws {
        conv = try Conv2d(
            inChannels, outChannels, kernel: definition.kernel, stride: definition.stride,
            padding: options.padding, bias: false)
        norm = try BatchNorm2d(outChannels, epsilon: options.bnEpsilon)
        self.activation = activation
        hasSkip = definition.forceSkip && definition.stride == 1 && inChannels == outChannels
        self.dropPath = DropPath(dropPath)
        super.init()
        register("drop_path", self.dropPath)
        register("conv", conv)
        register("bn1", norm)
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        let x = try norm.fused(after: conv, activation: activation, input)
        return hasSkip ? try dropPath(x) + input : x
    }
}

extension Module {
    /// timm's `_init_weight_goog` variances: convs 2/fan_out with fan_out = k·k·out/groups, linear layers
    /// U(±1/√out), biases zero (BatchNorm starts at γ = 1, β = 0 already). Rescales the uniform values
    /// the layers were created with instead of drawing again, so building a full-size model stays cheap.
    func applyEfficientNetInitialization() {
        for conv in descendants(ofType: Conv2d.self) {
            let (kh, kw) = conv.kernelSize
            let fanIn = max(1, conv.weight.shape[1] * kh * kw)
            let fanOut = max(1, kh * kw * conv.outChannels / conv.groups)
            // U(±1/√fan_in) has variance 1/(3·fan_in); scale it to 2/fan_out.
            conv.weight.scale(by: (6 * Float(fanIn) / Float(fanOut)).squareRoot())
            conv.bias?.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        for linear in descendants(ofType: Linear.self) {
            linear.weight.scale(by: (Float(linear.inFeatures) / Float(max(1, linear.outFeatures))).squareRoot())
            linear.bias?.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
    }
}

extension Tensor {
    /// Multiplies the values in place, outside autograd (initialization).
    func scale(by factor: Float) {
        withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for i in 0..<buffer.count { base[i] *= factor }
        }
    }
}
