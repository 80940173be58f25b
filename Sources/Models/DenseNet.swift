// DenseNet (the BC variant: 1×1 bottlenecks and halving transitions).
//
// "Densely Connected Convolutional Networks", Huang et al., 2016 — arXiv:1608.06993
// Layout and names follow timm's `densenet.py` (torchvision's, with BatchNormAct2d): `features.conv0/norm0/pool0`,
// `features.denseblock<i>.denselayer<j>.norm1/conv1/norm2/conv2`, `features.transition<i>.norm/conv/pool`,
// `features.norm5`, global average pool and `classifier`. Every norm is followed by a ReLU.
// Layers are pre-activation (norm → ReLU → conv), so only `norm2` folds into the conv before it.

import NN
import Tensors

/// A DenseNet architecture under timm's `DenseNet` keyword arguments.
public struct DenseNetConfig: ModelConfig {
    /// Channels each dense layer adds (timm's `growth_rate`, k); the stem has 2k.
    public var growthRate = 32
    /// Dense layers per block (timm's `block_config`); a transition halves the channels between blocks.
    public var blockConfig = [6, 12, 24, 16]
    /// Bottleneck width as a multiple of the growth rate.
    public var bottleneckSize = 4
    /// Classes of the head (timm's `num_classes`); 0 removes the classifier.
    public var numClasses = 1000
    /// Dropout on the pooled features before the classifier (timm's `drop_rate`).
    public var dropRate: Float = 0
    /// Dropout on each new feature map (timm's proj_drop_rate).
    public var layerDropRate: Float = 0

    /// DenseNet-121's architecture unless told otherwise.
    public init(
        growthRate: Int = 32, blockConfig: [Int] = [6, 12, 24, 16], bottleneckSize: Int = 4, numClasses: Int = 1000,
        dropRate: Float = 0, layerDropRate: Float = 0
    ) throws {
        (self.growthRate, self.blockConfig, self.bottleneckSize) = (growthRate, blockConfig, bottleneckSize)
        (self.numClasses, self.dropRate, self.layerDropRate) = (numClasses, dropRate, layerDropRate)
        self = try checked()
    }

    /// `growth_rate`, `block_config`, `bn_size`, `num_classes`, `drop_rate` and `proj_drop_rate`.
    public var arguments: ModelArguments {
        [
            "growth_rate": .int(growthRate), "block_config": .ints(blockConfig), "bn_size": .int(bottleneckSize),
            "num_classes": .int(numClasses), "drop_rate": .float(dropRate), "proj_drop_rate": .float(layerDropRate),
        ]
    }

    /// Reads timm's keyword arguments over DenseNet-121's; throws `ModelError.invalidArgument` for a value of the
    /// wrong type or out of bounds, or an empty `block_config`.
    public init(_ arguments: ModelArguments) throws {
        growthRate = try arguments.int("growth_rate", default: growthRate)
        blockConfig = try arguments.ints("block_config", default: blockConfig)
        bottleneckSize = try arguments.int("bn_size", default: bottleneckSize)
        numClasses = try arguments.int("num_classes", default: numClasses)
        dropRate = try arguments.float("drop_rate", default: 0)
        layerDropRate = try arguments.float("proj_drop_rate", default: 0)
        guard growthRate > 0, bottleneckSize > 0, !blockConfig.isEmpty, blockConfig.allSatisfy({ $0 >= 1 }),
            numClasses >= 0
        else {
            throw ModelError.invalidArgument(
                model: arguments.model, argument: "growth_rate/block_config/bn_size",
                reason: "must be positive (block_config: one or more layer counts ≥ 1)")
        }
    }
}

/// norm1 → ReLU → 1×1 conv to bn_size·k channels → norm2 → ReLU → 3×3 conv to k new channels.
final class DenseLayer: Module, Layer {
    let norm1: BatchNorm2d, conv1: Conv2d, norm2: BatchNorm2d, conv2: Conv2d
    let dropout: Dropout

    init(inChannels: Int, growthRate: Int, bottleneckSize: Int, dropRate: Float) throws {
        let bottleneck = bottleneckSize * growthRate
        norm1 = try BatchNorm2d(inChannels)
        conv1 = try Conv2d(inChannels, bottleneck, kernel: 1, bias: false)
        norm2 = try BatchNorm2d(bottleneck)
        conv2 = try Conv2d(bottleneck, growthRate, kernel: 3, bias: false)
        dropout = Dropout(dropRate)
        super.init()
        register("dropout", dropout)
        register("norm1", norm1)
        register("conv1", conv1)
        register("norm2", norm2)
        register("conv2", conv2)
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        try bottleneck(norm1(input, activation: .relu))
    }

    /// Inference on the block's feature list: norm1 reads the parts in place, no concatenation.
    func callAsFunction(parts: [Tensor]) throws -> Tensor {
        try bottleneck(norm1.concatenated(parts, activation: .relu))
    }

    private func bottleneck(_ normalized: Tensor) throws -> Tensor {
        try dropout(conv2(norm2.fused(after: conv1, activation: .relu, normalized)))
    }
}

/// Layers that each read the concatenation of the block input and every earlier layer's output.
final class DenseBlock: Module, Layer {
    let layers: [DenseLayer]

    init(layerCount: Int, inChannels: Int, growthRate: Int, bottleneckSize: Int, dropRate: Float) throws {
        layers = try (0..<layerCount).map {
            try DenseLayer(
                inChannels: inChannels + $0 * growthRate, growthRate: growthRate, bottleneckSize: bottleneckSize,
                dropRate: dropRate)
        }
        super.init()
        for (i, layer) in layers.enumerated() { register("denselayer\(i + 1)", layer) }
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        if !isTraining && !GradMode.isEnabled {
            // Inference: keep the feature list and concatenate once, instead of a copy per layer.
            var parts = [input]
            for layer in layers { parts.append(try layer(parts: parts)) }
            return try Tensor.concat(parts, axis: 1)
        }
        // Grows one running concatenation; each layer's input is exactly timm's torch.cat(features, 1).
        var features = input
        for layer in layers { features = try Tensor.concat([features, layer(features)], axis: 1) }
        return features
    }
}

/// norm → ReLU → 1×1 conv (halving the channels) → 2×2 average pool, run with the pool first: a 1×1 conv
/// without bias and an average pool are both linear and act on different axes, so they commute exactly, and
/// the conv then works on a quarter of the positions.
final class DenseTransition: Module, Layer {
    let norm: BatchNorm2d, conv: Conv2d

    init(inChannels: Int, outChannels: Int) throws {
        norm = try BatchNorm2d(inChannels)
        conv = try Conv2d(inChannels, outChannels, kernel: 1, bias: false)
        super.init()
        register("norm", norm)
        register("conv", conv)
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        try conv(norm(input, activation: .relu).avgPool2d(kernel: (2, 2), stride: (2, 2)))
    }
}

/// DenseNet-BC with timm's `densenet.py` layout and parameter names, so timm's weights load as they are.
public final class DenseNet: Module, ImageClassifier {
    /// The architecture this model was built from.
    public let config: DenseNetConfig
    let conv0: Conv2d, norm0: BatchNorm2d
    let blocks: [DenseBlock], transitions: [DenseTransition]
    let norm5: BatchNorm2d
    let headDropout: Dropout
    /// The head (timm's `classifier`); nil when `numClasses` is 0.
    public let classifier: Linear?

    /// Builds the model, initialised as torchvision does (kaiming-normal convs, zero classifier bias).
    public init(_ config: DenseNetConfig) throws {
        self.config = config
        let stemChannels = 2 * config.growthRate
        conv0 = try Conv2d(3, stemChannels, kernel: 7, stride: 2, padding: .symmetric(3), bias: false)
        norm0 = try BatchNorm2d(stemChannels)
        var channels = stemChannels
        var blocks: [DenseBlock] = []
        var transitions: [DenseTransition] = []
        for (i, layerCount) in config.blockConfig.enumerated() {
            blocks.append(
                try DenseBlock(
                    layerCount: layerCount, inChannels: channels, growthRate: config.growthRate,
                    bottleneckSize: config.bottleneckSize, dropRate: config.layerDropRate))
            channels += layerCount * config.growthRate
            if i < config.blockConfig.count - 1 {
                transitions.append(try DenseTransition(inChannels: channels, outChannels: channels / 2))
                channels /= 2
            }
        }
        self.blocks = blocks
        self.transitions = transitions
        norm5 = try BatchNorm2d(channels)
        headDropout = Dropout(config.dropRate)
        classifier = config.numClasses > 0 ? try Linear(channels, config.numClasses) : nil
        super.init()
        register("head_drop", headDropout)
        // timm keeps the whole trunk in one `features` Sequential; only the names matter here.
        let features = Module()
        features.register("conv0", conv0)
        features.register("norm0", norm0)
        for (i, block) in blocks.enumerated() {
            features.register("denseblock\(i + 1)", block)
            if i < transitions.count { features.register("transition\(i + 1)", transitions[i]) }
        }
        features.register("norm5", norm5)
        register("features", features)
        if let classifier { register("classifier", classifier) }
        initializeAsTorchvision()
    }

    /// torchvision's init: convs kaiming-normal (variance 2/fan_in), linear bias zero. Rescales the
    /// U(±1/√fan_in) values the convs were created with (variance 1/(3·fan_in)) instead of drawing again.
    private func initializeAsTorchvision() {
        for conv in descendants(ofType: Conv2d.self) { conv.weight.scale(by: Float(6).squareRoot()) }
        classifier?.bias?.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Classes of the head (0 when it is removed).
    public var numClasses: Int { classifier?.outFeatures ?? 0 }
    /// Channels after `norm5` (1024 for DenseNet-121).
    public var numFeatures: Int { norm5.weight.count }

    /// The trunk: `[N, 3, H, W]` images to the `norm5` → ReLU feature map `[N, numFeatures, H/32, W/32]`.
    /// Throws `ModelError.unsupportedInput` for any other input rank or channel count.
    public func forwardFeatures(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[1] == 3 else {
            throw ModelError.unsupportedInput(model: "densenet", shape: input.shape, reason: "must be (B, 3, H, W)")
        }
        var x = try eachImage(input) { image in
            var x = try norm0.fused(after: conv0, activation: .relu, image)
            x = try x.maxPool2d(kernel: (3, 3), stride: (2, 2), padding: Padding2d(1))
            for (block, transition) in zip(blocks, transitions) { x = try transition(block(x)) }
            return x
        }
        for block in blocks.dropFirst(transitions.count) { x = try block(x) }
        return try norm5(x, activation: .relu)
    }

    /// Inference takes the stem and every block before the last one image at a time (`forwardFeatures`), so
    /// their maps stay in cache, and the last block the whole batch: its weights are then read once per batch,
    /// and its 7×7 maps are small (DenseNet-121 at batch 8, Zen 4: 8 % faster than image by image throughout).
    public var infersImageByImage: Bool { false }

    /// Global average pool and dropout, then the classifier unless `preLogits` (or the head is removed).
    public func forwardHead(_ features: Tensor, preLogits: Bool) throws -> Tensor {
        let pooled = try headDropout(features.globalAvgPool2d())
        guard !preLogits, let classifier else { return pooled }
        return try classifier(pooled)
    }
}

/// The registry's DenseNets and the keyword arguments they accept.
public enum DenseNetFamily {
    static let accepted: Set<String> = ["growth_rate", "block_config", "bn_size", "drop_rate", "proj_drop_rate"]

    static func entry(_ name: String, blocks: [Int], tag: String, parameters: Int, gflops: Double) -> ModelEntry {
        ModelEntry(
            name: name, family: "densenet", pretrained: .init(tag: tag), parameterCount: parameters, gflops: gflops,
            preset: try DenseNetConfig(growthRate: 32, blockConfig: blocks), accepted: accepted, build: DenseNet.init)
    }

    /// densenet121, densenet169 and densenet201 (growth rate 32) with their default pretrained tags.
    /// Counts, FLOPs and pretrained configs from scripts/timm-registry-facts.py (timm 1.0.31).
    public static let entries: [ModelEntry] = [
        entry("densenet121", blocks: [6, 12, 24, 16], tag: "ra_in1k", parameters: 7_978_856, gflops: 5.668),
        entry("densenet169", blocks: [6, 12, 32, 32], tag: "tv_in1k", parameters: 14_149_480, gflops: 6.72),
        entry("densenet201", blocks: [6, 12, 48, 32], tag: "tv_in1k", parameters: 20_013_928, gflops: 8.583),
    ]
}
