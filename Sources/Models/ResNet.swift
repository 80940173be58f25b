// ResNet and SE-ResNet.
//
// "Deep Residual Learning for Image Recognition", He et al., 2015 — arXiv:1512.03385
// "Squeeze-and-Excitation Networks", Hu et al., 2017 — arXiv:1709.01507
// Layout and names follow timm's `resnet.py`: stem `conv1/bn1` + max pool, stages `layer1…4` of
// BasicBlocks or Bottlenecks with the stride in the 3×3 conv, `downsample.0/1`, optional `se.fc1/fc2`,
// global average pool and `fc`.

import NN
import ReceptiveFields
import Tensors

/// The architecture of a ResNet or SE-ResNet with timm's plain 7×7 stem, under timm's `resnet.py` keyword names.
public struct ResNetConfig: ModelConfig {
    /// The residual block (timm's `BasicBlock` or `Bottleneck`), spelt `basic` or `bottleneck` in arguments.
    public enum BlockKind: String, Sendable, CaseIterable { case basic, bottleneck }
    /// The residual block of every stage (the `block` argument).
    public var block: BlockKind = .bottleneck
    /// Blocks per stage (timm's `layers`), four stages.
    public var layers: [Int] = [3, 4, 6, 3]
    /// Width of each stage's 3×3 convs (timm's `channels`); a bottleneck stage outputs 4× as many.
    public var channels: [Int] = [64, 128, 256, 512]
    /// Whether each block gates its output with squeeze-and-excitation before the residual add (the `se`
    /// argument; timm's `attn_layer='se'`, reduction 16).
    public var squeezeExcite = false
    /// Classes of the head (timm's `num_classes`); 0 builds no classifier.
    public var numClasses = 1000
    /// timm's `drop_path_rate`: stochastic depth of the last block, rising linearly from 0 at the first.
    public var dropPathRate: Float = 0

    var expansion: Int { block == .basic ? 1 : 4 }

    /// ResNet-50's architecture unless told otherwise (resnet18: `block: .basic, layers: [2, 2, 2, 2]`).
    ///
    /// - Parameters:
    ///   - block: The residual block of every stage.
    ///   - layers: Blocks per stage, four entries.
    ///   - channels: Width of each stage's 3×3 convs, four entries.
    ///   - squeezeExcite: Add squeeze-and-excitation to every block (SE-ResNet).
    ///   - numClasses: Classes of the head; 0 for none.
    ///   - dropPathRate: Stochastic-depth rate of the last block, in `[0, 1]`.
    /// - Throws: `ModelError.invalidArgument` when a value is out of bounds or `layers` or `channels` does not
    ///   list 4 stages.
    public init(
        block: BlockKind = .bottleneck, layers: [Int] = [3, 4, 6, 3], channels: [Int] = [64, 128, 256, 512],
        squeezeExcite: Bool = false, numClasses: Int = 1000, dropPathRate: Float = 0
    ) throws {
        (self.block, self.layers, self.channels) = (block, layers, channels)
        (self.squeezeExcite, self.numClasses, self.dropPathRate) = (squeezeExcite, numClasses, dropPathRate)
        self = try checked()
    }

    /// `block`, `layers`, `channels`, `se`, `num_classes` and `drop_path_rate`.
    public var arguments: ModelArguments {
        [
            "block": .string(block.rawValue), "layers": .ints(layers), "channels": .ints(channels),
            "se": .bool(squeezeExcite), "num_classes": .int(numClasses), "drop_path_rate": .float(dropPathRate),
        ]
    }

    /// Reads timm's keyword arguments (`block`, `layers`, `channels`, `se`, `num_classes`, `drop_path_rate`),
    /// ResNet-50's values for those absent.
    ///
    /// - Throws: `ModelError.invalidArgument` for a value of the wrong type or out of bounds, or when `layers`
    ///   or `channels` does not list 4 stages.
    public init(_ arguments: ModelArguments) throws {
        block = try arguments.choice("block", default: block)
        layers = try arguments.ints("layers", default: layers)
        channels = try arguments.ints("channels", default: channels)
        squeezeExcite = try arguments.bool("se", default: false)
        numClasses = try arguments.int("num_classes", default: numClasses)
        dropPathRate = try arguments.float("drop_path_rate", default: 0)
        for (key, list) in [("layers", layers), ("channels", channels)] where list.count != 4 {
            throw ModelError.invalidArgument(
                model: arguments.model, argument: key, reason: "must list 4 stages, got \(list.count)")
        }
    }
}

/// BasicBlock (two 3×3 convs) or Bottleneck (1×1 → 3×3 → 1×1 ×4), each with an identity or projection shortcut.
final class ResNetBlock: Module, Layer {
    let convs: [Conv2d], norms: [BatchNorm2d]
    let se: SqueezeExcite?
    let downsample: (conv: Conv2d, norm: BatchNorm2d)?
    let dropPath: DropPath

    init(
        kind: ResNetConfig.BlockKind, inChannels: Int, planes: Int, stride: Int, squeezeExcite: Bool, dropPath: Float
    ) throws {
        let out = planes * (kind == .basic ? 1 : 4)
        switch kind {
        case .basic:
            convs = [
                try Conv2d(inChannels, planes, kernel: 3, stride: stride, bias: false),
                try Conv2d(planes, planes, kernel: 3, bias: false),
            ]
        case .bottleneck:
            convs = [
                try Conv2d(inChannels, planes, kernel: 1, bias: false),
                try Conv2d(planes, planes, kernel: 3, stride: stride, bias: false),
                try Conv2d(planes, out, kernel: 1, bias: false),
            ]
        }
        norms = try convs.map { try BatchNorm2d($0.outChannels) }
        se = squeezeExcite ? try SqueezeExcite(channels: out, reducedChannels: makeDivisible(Double(out) / 16)) : nil
        downsample =
            stride != 1 || inChannels != out
            ? (
                try Conv2d(inChannels, out, kernel: 1, stride: stride, padding: .symmetric(0), bias: false),
                try BatchNorm2d(out)
            ) : nil
        self.dropPath = DropPath(dropPath)
        super.init()
        register("drop_path", self.dropPath)
        for (i, (conv, norm)) in zip(convs, norms).enumerated() {
            register("conv\(i + 1)", conv)
            register("bn\(i + 1)", norm)
        }
        if let se { register("se", se) }
        if let downsample { register("downsample", Sequential([downsample.conv, downsample.norm])) }
        // Zero-init the last BN gamma, as timm does, so fresh residual blocks start as identities.
        norms.last?.weight.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        let shortcut = try downsample.map { try $0.norm.fused(after: $0.conv, activation: .identity, input) } ?? input
        // Without SE or an active drop path, the last conv adds the shortcut and applies ReLU as it stores.
        let fuseShortcut = se == nil && !(isTraining && dropPath.probability > 0)
        var x = input
        for (i, (conv, norm)) in zip(convs, norms).enumerated() {
            let last = i == convs.count - 1
            if last && fuseShortcut { return try norm.fused(after: conv, activation: .relu, x, residual: shortcut) }
            x = try norm.fused(after: conv, activation: last ? .identity : .relu, x)
        }
        if let se { x = try se(x) }
        return try (dropPath(x) + shortcut).activatedInPlace(.relu)
    }
}

/// ResNet / SE-ResNet, parameter names and outputs as timm's `ResNet` (`resnet18` … `resnet152`, `seresnet50`).
public final class ResNet: Module, ImageClassifier {
    /// The architecture this model was built with.
    public let config: ResNetConfig
    let conv1: Conv2d, bn1: BatchNorm2d
    let stages: [ModuleList<ResNetBlock>]
    /// The classifier (`fc`); nil when `numClasses` is 0.
    public let fc: Linear?

    /// Builds the layers of `config`, outside `Initialization.skipping` initialised as timm does: convs
    /// Kaiming-normal (fan-out, ReLU), each block's last BatchNorm gain zero, `fc` PyTorch's default uniform.
    ///
    /// - Throws: `TensorError.outOfMemory` when the weights exceed the tensor memory budget.
    public init(_ config: ResNetConfig) throws {
        self.config = config
        let inplanes = 64  // timm's plain 7×7 stem (its stem_width is for deep stems, which the zoo does not build)
        conv1 = try Conv2d(3, inplanes, kernel: 7, stride: 2, padding: .symmetric(3), bias: false)
        bn1 = try BatchNorm2d(inplanes)
        var stages: [ModuleList<ResNetBlock>] = []
        var inChannels = inplanes
        let totalBlocks = config.layers.reduce(0, +)
        var blockIndex = 0
        for (stage, (depth, planes)) in zip(config.layers, config.channels).enumerated() {
            var blocks: [ResNetBlock] = []
            for i in 0..<depth {
                let rate = DropPath.linearRate(config.dropPathRate, block: blockIndex, of: totalBlocks)
                blocks.append(
                    try ResNetBlock(
                        kind: config.block, inChannels: inChannels, planes: planes,
                        stride: i == 0 && stage > 0 ? 2 : 1, squeezeExcite: config.squeezeExcite, dropPath: rate))
                inChannels = planes * config.expansion
                blockIndex += 1
            }
            stages.append(ModuleList(blocks))
        }
        self.stages = stages
        fc = config.numClasses > 0 ? try Linear(inChannels, config.numClasses) : nil
        super.init()
        register("conv1", conv1)
        register("bn1", bn1)
        for (i, stage) in stages.enumerated() { register("layer\(i + 1)", stage) }
        if let fc { register("fc", fc) }
        guard !Initialization.isSkipping else { return }  // zeros stay untouched (no memory) until loaded
        for conv in descendants(ofType: Conv2d.self) {
            try conv.weight.assign(Initialization.kaimingNormalFanOut(conv.weight.shape))
        }
    }

    /// Classes of `fc`; 0 without one.
    public var numClasses: Int { fc?.outFeatures ?? 0 }
    /// Channels of the last stage's output: `channels[3]`, ×4 for bottlenecks (2048 for ResNet-50).
    public var numFeatures: Int { config.channels[3] * config.expansion }

    /// Stem (`conv1`, `bn1`, ReLU, 3×3 stride-2 max pool) and `layer1…4` on normalised images `[B, 3, H, W]`,
    /// as timm's `forward_features`.
    ///
    /// - Returns: The last feature map `[B, numFeatures, H/32, W/32]` (for sides divisible by 32).
    /// - Throws: `ModelError.unsupportedInput` for an input not of shape `[B, 3, H, W]`; tensor errors from
    ///   the layers.
    public func forwardFeatures(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[1] == 3 else {
            throw ModelError.unsupportedInput(model: "resnet", shape: input.shape, reason: "must be (B, 3, H, W)")
        }
        var x = try eachImage(input) { image in
            var x = try bn1.fused(after: conv1, activation: .relu, image)
            x = try x.maxPool2d(kernel: (3, 3), stride: (2, 2), padding: Padding2d(1))
            for stage in stages.dropLast() { for block in stage.items { x = try block(x) } }
            return x
        }
        for block in stages.last?.items ?? [] { x = try block(x) }
        return x
    }

    /// Inference takes the stem and the first three stages one image at a time (`forwardFeatures`), so their
    /// maps stay in cache, and the last stage the whole batch: its weights (60 MB in ResNet-50) are then read
    /// once per batch instead of once per image, and its 7×7 maps are small (ResNet-50 at batch 8, Zen 4:
    /// 9 % faster than image by image throughout).
    public var infersImageByImage: Bool { false }

    /// Global average pool then `fc`, as timm's `forward_head`.
    ///
    /// - Parameters:
    ///   - features: The output of `forwardFeatures`, `[B, C, H, W]`.
    ///   - preLogits: Stop after pooling.
    /// - Returns: Logits `[B, numClasses]`, or the pooled features `[B, numFeatures]` when `preLogits` is set
    ///   or there is no classifier.
    /// - Throws: Tensor errors for features of the wrong shape.
    public func forwardHead(_ features: Tensor, preLogits: Bool) throws -> Tensor {
        let pooled = try features.globalAvgPool2d()
        guard !preLogits, let fc else { return pooled }
        return try fc(pooled)
    }
}

extension ResNet: ReceptiveFieldDescribing {
    /// The stem conv and max pool, then each block as a branch beside its shortcut (`downsample` or identity).
    public func receptiveFieldLayers() -> [RFLayer] {
        var layers = [conv1.receptiveFieldLayer("conv1"), .pool("maxpool", kernel: 3, stride: 2, padding: 1)]
        for (s, stage) in stages.enumerated() {
            for (b, block) in stage.items.enumerated() {
                let name = "layer\(s + 1).\(b)"
                var main = block.convs.enumerated().map {
                    $0.element.receptiveFieldLayer("\(name).conv\($0.offset + 1)")
                }
                if block.se != nil { main.append(RFLayer(name: "\(name).se", kind: .global)) }
                let shortcut = block.downsample.map { [$0.conv.receptiveFieldLayer("\(name).downsample")] } ?? []
                layers.append(.branches(name, [main, shortcut]))
            }
        }
        return layers
    }
}

/// The registry's ResNets: timm's `resnet18` … `resnet152`, `seresnet50` and `seresnet101`.
public enum ResNetFamily {
    static let accepted: Set<String> = ["layers", "channels", "drop_path_rate"]

    static func entry(
        _ name: String, block: ResNetConfig.BlockKind, layers: [Int], se: Bool = false, pretrained: PretrainedConfig,
        parameters: Int, gflops: Double
    ) -> ModelEntry {
        ModelEntry(
            name: name, family: se ? "seresnet" : "resnet", pretrained: pretrained, parameterCount: parameters,
            gflops: gflops,
            preset: try ResNetConfig(block: block, layers: layers, squeezeExcite: se), accepted: accepted,
            build: ResNet.init)
    }

    /// The models with timm's default pretrained tags (`seresnet101` has no trained weights). Counts, FLOPs
    /// and pretrained configs from scripts/timm-registry-facts.py (timm 1.0.31).
    public static let entries: [ModelEntry] = [
        entry(
            "resnet18", block: .basic, layers: [2, 2, 2, 2], pretrained: .init(tag: "a1_in1k", cropPct: 0.95),
            parameters: 11_689_512, gflops: 3.628),
        entry(
            "resnet34", block: .basic, layers: [3, 4, 6, 3], pretrained: .init(tag: "a1_in1k", cropPct: 0.95),
            parameters: 21_797_672, gflops: 7.328),
        entry(
            "resnet50", block: .bottleneck, layers: [3, 4, 6, 3], pretrained: .init(tag: "a1_in1k", cropPct: 0.95),
            parameters: 25_557_032, gflops: 8.178),
        entry(
            "resnet101", block: .bottleneck, layers: [3, 4, 23, 3], pretrained: .init(tag: "a1h_in1k", cropPct: 0.95),
            parameters: 44_549_160, gflops: 15.603),
        entry(
            "resnet152", block: .bottleneck, layers: [3, 8, 36, 3], pretrained: .init(tag: "a1h_in1k", cropPct: 0.95),
            parameters: 60_192_808, gflops: 23.027),
        entry(
            "seresnet50", block: .bottleneck, layers: [3, 4, 6, 3], se: true,
            pretrained: .init(tag: "a1_in1k", cropPct: 0.95), parameters: 28_088_024, gflops: 8.183),
        entry(
            "seresnet101", block: .bottleneck, layers: [3, 4, 23, 3], se: true,
            pretrained: .init(tag: "untrained", cropPct: 0.875), parameters: 49_326_872, gflops: 15.612),
    ]
}
