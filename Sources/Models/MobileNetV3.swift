// MobileNet-V3.
//
// "Searching for MobileNetV3", Howard et al., 2019 — arXiv:1905.02244
// Layout and names follow timm's `mobilenetv3.py`: `conv_stem/bn1` (hard-swish), `blocks.<stage>.<index>`
// from architecture strings (EfficientNetBlocks.swift) with squeeze-excite gated by a hard sigmoid,
// then global average pool → `conv_head` (1×1 with bias) → hard-swish → `classifier`.

import NN
import Tensors
import VisionIO

/// A MobileNet-V3 architecture under timm's keyword arguments (plus `size`).
public struct MobileNetV3Config: ModelConfig {
    /// Which of timm's `_gen_mobilenet_v3` definitions: small (1024-wide head) or large (1280-wide head).
    public enum Size: String, Sendable, CaseIterable { case small, large }

    /// The definition (`size`, not a timm argument: timm picks it by model name).
    public var size: Size = .large
    /// Width scale, channels rounded to multiples of 8; below 0.75 the stem stays 16 (timm's `channel_multiplier`).
    public var channelMultiplier = 1.0
    /// Depth scale, repeats per stage rounded up (timm's `depth_multiplier`).
    public var depthMultiplier = 1.0
    /// Classes of the head (timm's `num_classes`); 0 removes the classifier.
    public var numClasses = 1000
    /// Dropout on the `conv_head` features before the classifier (timm's `drop_rate`).
    public var dropRate: Float = 0
    /// Stochastic depth of the residual blocks, scaled by block index / block count (timm's `drop_path_rate`).
    public var dropPathRate: Float = 0

    /// mobilenetv3_large_100's architecture unless told otherwise.
    public init(
        size: Size = .large, channelMultiplier: Double = 1, depthMultiplier: Double = 1, numClasses: Int = 1000,
        dropRate: Float = 0, dropPathRate: Float = 0
    ) throws {
        (self.size, self.channelMultiplier, self.depthMultiplier) = (size, channelMultiplier, depthMultiplier)
        (self.numClasses, self.dropRate, self.dropPathRate) = (numClasses, dropRate, dropPathRate)
        self = try checked()
    }

    /// `size`, `channel_multiplier`, `depth_multiplier`, `num_classes`, `drop_rate` and `drop_path_rate`.
    public var arguments: ModelArguments {
        [
            "size": .string(size.rawValue), "channel_multiplier": .double(channelMultiplier),
            "depth_multiplier": .double(depthMultiplier), "num_classes": .int(numClasses),
            "drop_rate": .float(dropRate), "drop_path_rate": .float(dropPathRate),
        ]
    }

    /// Reads timm's keyword arguments over mobilenetv3_large_100's; throws `ModelError.invalidArgument` for an
    /// unknown `size` or a value of the wrong type or out of bounds.
    public init(_ arguments: ModelArguments) throws {
        size = try arguments.choice("size", default: size)
        channelMultiplier = try arguments.double("channel_multiplier", default: 1)
        depthMultiplier = try arguments.double("depth_multiplier", default: 1)
        numClasses = try arguments.int("num_classes", default: numClasses)
        dropRate = try arguments.float("drop_rate", default: 0)
        dropPathRate = try arguments.float("drop_path_rate", default: 0)
        guard channelMultiplier > 0, depthMultiplier > 0, numClasses >= 0 else {
            throw ModelError.invalidArgument(
                model: arguments.model, argument: "channel_multiplier/depth_multiplier/num_classes",
                reason: "must be positive")
        }
    }

    /// timm's `_gen_mobilenet_v3` architecture strings (not the "minimal" variants).
    var architecture: [[String]] {
        switch size {
        case .small:
            return [
                ["ds_r1_k3_s2_e1_c16_se0.25_nre"],
                ["ir_r1_k3_s2_e4.5_c24_nre", "ir_r1_k3_s1_e3.67_c24_nre"],
                ["ir_r1_k5_s2_e4_c40_se0.25", "ir_r2_k5_s1_e6_c40_se0.25"],
                ["ir_r2_k5_s1_e3_c48_se0.25"],
                ["ir_r3_k5_s2_e6_c96_se0.25"],
                ["cn_r1_k1_s1_c576"],
            ]
        case .large:
            return [
                ["ds_r1_k3_s1_e1_c16_nre"],
                ["ir_r1_k3_s2_e4_c24_nre", "ir_r1_k3_s1_e3_c24_nre"],
                ["ir_r3_k5_s2_e3_c40_se0.25_nre"],
                ["ir_r1_k3_s2_e6_c80", "ir_r1_k3_s1_e2.5_c80", "ir_r2_k3_s1_e2.3_c80"],
                ["ir_r2_k3_s1_e6_c112_se0.25"],
                ["ir_r3_k5_s2_e6_c160_se0.25"],
                ["cn_r1_k1_s1_c960"],
            ]
        }
    }

    /// Width of `conv_head`, never scaled.
    var headChannels: Int { size == .small ? 1024 : 1280 }
}

/// MobileNet-V3 with timm's `mobilenetv3.py` layout and parameter names.
public final class MobileNetV3: Module, ImageClassifier {
    /// Measured slower image by image (11 % at batch 8, Zen 3: small maps, and a squeeze-excitation per block
    /// that costs the same per pass): the batch stays whole.
    public var infersImageByImage: Bool { false }
    /// The architecture this model was built from.
    public let config: MobileNetV3Config
    let convStem: Conv2d, bn1: BatchNorm2d
    let blocks: ModuleList<Sequential>
    let convHead: Conv2d
    let headDropout: Dropout
    /// The head (timm's `classifier`); nil when `numClasses` is 0.
    public let classifier: Linear?
    static let activation = Activation.hardSwish

    /// Builds the model, initialised as `EfficientNet` is (after timm's `_init_weight_goog`).
    public init(_ config: MobileNetV3Config) throws {
        self.config = config
        let round = { (channels: Int) in roundChannels(channels, multiplier: config.channelMultiplier) }
        // timm keeps the 16-channel stem for narrow models (multiplier < 0.75).
        let stemChannels = config.channelMultiplier < 0.75 ? 16 : round(16)
        convStem = try Conv2d(3, stemChannels, kernel: 3, stride: 2, bias: false)
        bn1 = try BatchNorm2d(stemChannels)
        let definitions = try decodeArchitecture(
            config.architecture, depthMultiplier: config.depthMultiplier, fixFirstLast: false)
        let options = BlockBuildOptions(
            padding: nil, bnEpsilon: 1e-5, activation: Self.activation, roundChannels: round,
            seFromExpansion: true, seGate: .hardSigmoid, seActivation: .relu,
            seReducedChannels: { makeDivisible($0) }, dropPathRate: config.dropPathRate)
        let (stages, trunkChannels) = try buildStages(inChannels: stemChannels, stages: definitions, options: options)
        blocks = ModuleList(stages)
        convHead = try Conv2d(trunkChannels, config.headChannels, kernel: 1, bias: true)
        headDropout = Dropout(config.dropRate)
        classifier = config.numClasses > 0 ? try Linear(config.headChannels, config.numClasses) : nil
        super.init()
        register("head_drop", headDropout)
        register("conv_stem", convStem)
        register("bn1", bn1)
        register("blocks", blocks)
        register("conv_head", convHead)
        if let classifier { register("classifier", classifier) }
        applyEfficientNetInitialization()
    }

    /// Classes of the head (0 when it is removed).
    public var numClasses: Int { classifier?.outFeatures ?? 0 }
    /// Width of `features(_:)`: the pooled `conv_head` output (timm's head_hidden_size; timm's
    /// num_features names the narrower map before conv_head).
    public var numFeatures: Int { config.headChannels }

    /// Stem and blocks, the last a 1×1 conv-BN-hard-swish: `[N, 3, H, W]` images to `[N, C, H/32, W/32]`, C 576
    /// (small) or 960 (large) scaled by the channel multiplier. Throws `ModelError.unsupportedInput` for any other
    /// input rank or channel count.
    public func forwardFeatures(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[1] == 3 else {
            throw ModelError.unsupportedInput(model: "mobilenetv3", shape: input.shape, reason: "must be (B, 3, H, W)")
        }
        var x = try bn1.fused(after: convStem, activation: Self.activation, input)
        for stage in blocks.items { x = try stage(x) }
        return x
    }

    /// Pool first, then the 1×1 head conv on the (B, C, 1, 1) vector: cheap because it runs once per image.
    public func forwardHead(_ features: Tensor, preLogits: Bool) throws -> Tensor {
        let pooled = try features.adaptiveAvgPool2d((1, 1))
        let hidden = try headDropout(convHead(pooled).activation(Self.activation).flattened(from: 1))
        guard !preLogits, let classifier else { return hidden }
        return try classifier(hidden)
    }
}

/// The registry's MobileNet-V3s and the keyword arguments they accept.
public enum MobileNetV3Family {
    static let accepted: Set<String> = ["channel_multiplier", "depth_multiplier", "drop_rate", "drop_path_rate"]

    static func entry(
        _ name: String, size: MobileNetV3Config.Size, channels: Double, tag: String,
        interpolation: ResampleFilter = .bicubic, parameters: Int, gflops: Double
    ) -> ModelEntry {
        ModelEntry(
            name: name, family: "mobilenetv3", pretrained: .init(tag: tag, interpolation: interpolation),
            parameterCount: parameters, gflops: gflops,
            preset: try MobileNetV3Config(size: size, channelMultiplier: channels), accepted: accepted,
            build: MobileNetV3.init)
    }

    /// mobilenetv3_small_050/075/100 and mobilenetv3_large_075/100.
    /// Counts, FLOPs and pretrained configs from scripts/timm-registry-facts.py (timm 1.0.31).
    public static let entries: [ModelEntry] = [
        entry(
            "mobilenetv3_small_050", size: .small, channels: 0.5, tag: "lamb_in1k", parameters: 1_593_224, gflops: 0.048
        ),
        entry(
            "mobilenetv3_small_075", size: .small, channels: 0.75, tag: "lamb_in1k", parameters: 2_041_872,
            gflops: 0.087),
        entry(
            "mobilenetv3_small_100", size: .small, channels: 1.0, tag: "lamb_in1k", parameters: 2_542_856, gflops: 0.113
        ),
        entry(
            "mobilenetv3_large_075", size: .large, channels: 0.75, tag: "untrained", interpolation: .bilinear,
            parameters: 3_993_528, gflops: 0.309),
        entry(
            "mobilenetv3_large_100", size: .large, channels: 1.0, tag: "ra_in1k", parameters: 5_483_032, gflops: 0.433),
    ]
}
