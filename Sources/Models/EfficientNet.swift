// EfficientNet-Lite and MobileNet-V2 (timm's `EfficientNet` class).
//
// "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks", Tan & Le, 2019 — arXiv:1905.11946
//   (the Lite variants: no squeeze-excite, ReLU6, fixed stem and head, from the TF repository)
// "MobileNetV2: Inverted Residuals and Linear Bottlenecks", Sandler et al., 2018 — arXiv:1801.04381
// Layout and names follow timm's `efficientnet.py`: `conv_stem/bn1`, `blocks.<stage>.<index>` built from
// architecture strings (EfficientNetBlocks.swift), `conv_head/bn2`, global average pool, `classifier`.
// The `tf_` presets use TensorFlow "same" padding and BN eps 1e-3, as the ported weights expect.
// Also here: the remapper for the `efficientnet_pytorch` naming (`_conv_stem`, `_blocks.N._expand_conv`, …).

import NN
import Tensors
import VisionIO
import Weights

/// An EfficientNet-Lite or MobileNet-V2 architecture under timm's keyword arguments (plus `variant`).
public struct EfficientNetConfig: ModelConfig {
    /// Which of timm's architecture definitions the blocks are built from; the raw value is the `variant` argument.
    public enum Variant: String, Sendable, CaseIterable {
        /// timm's `_gen_efficientnet_lite`: ReLU6, no squeeze-excite, stem and head fixed.
        case efficientNetLite = "efficientnet_lite"
        /// timm's `_gen_mobilenet_v2`.
        case mobileNetV2 = "mobilenetv2"
    }

    /// The architecture definition (`variant`, not a timm argument: timm picks it by model name).
    public var variant: Variant = .efficientNetLite
    /// Width scale, channels rounded to multiples of 8 (timm's `channel_multiplier`).
    public var channelMultiplier = 1.0
    /// Depth scale, repeats per stage rounded up (timm's `depth_multiplier`).
    public var depthMultiplier = 1.0
    /// MobileNet-V2 only (EfficientNet-Lite always fixes them): keep stem 32, head 1280 and first/last depths unscaled.
    public var fixStemHead = false
    /// TensorFlow "same" padding (timm's pad_type='same') instead of PyTorch's symmetric padding.
    public var tfSamePadding = false
    /// Epsilon of every batch norm (timm's `bn_eps`; the `tf_` ports use 1e-3).
    public var bnEpsilon: Float = 1e-5
    /// Classes of the head (timm's `num_classes`); 0 removes the classifier.
    public var numClasses = 1000
    /// Dropout on the pooled features before the classifier (timm's `drop_rate`).
    public var dropRate: Float = 0
    /// Stochastic depth of the residual blocks, scaled by block index / block count (timm's `drop_path_rate`).
    public var dropPathRate: Float = 0

    /// EfficientNet-Lite0's architecture unless told otherwise (mobilenetv2_100: `variant: .mobileNetV2`).
    public init(
        variant: Variant = .efficientNetLite, channelMultiplier: Double = 1, depthMultiplier: Double = 1,
        fixStemHead: Bool = false, tfSamePadding: Bool = false, bnEpsilon: Float = 1e-5, numClasses: Int = 1000,
        dropRate: Float = 0, dropPathRate: Float = 0
    ) throws {
        (self.variant, self.channelMultiplier, self.depthMultiplier) = (variant, channelMultiplier, depthMultiplier)
        (self.fixStemHead, self.tfSamePadding, self.bnEpsilon) = (fixStemHead, tfSamePadding, bnEpsilon)
        (self.numClasses, self.dropRate, self.dropPathRate) = (numClasses, dropRate, dropPathRate)
        self = try checked()
    }

    /// `variant`, `channel_multiplier`, `depth_multiplier`, `fix_stem_head`, `pad_type` ('same' or ''), `bn_eps`,
    /// `num_classes`, `drop_rate` and `drop_path_rate`.
    public var arguments: ModelArguments {
        [
            "variant": .string(variant.rawValue), "channel_multiplier": .double(channelMultiplier),
            "depth_multiplier": .double(depthMultiplier), "fix_stem_head": .bool(fixStemHead),
            "pad_type": .string(tfSamePadding ? "same" : ""), "bn_eps": .float(bnEpsilon),
            "num_classes": .int(numClasses), "drop_rate": .float(dropRate), "drop_path_rate": .float(dropPathRate),
        ]
    }

    /// Reads timm's keyword arguments over EfficientNet-Lite0's (without the `tf_` port's padding and eps); throws
    /// `ModelError.invalidArgument` for an unknown `variant` or `pad_type`, or a value of the wrong type or out of
    /// bounds.
    public init(_ arguments: ModelArguments) throws {
        variant = try arguments.choice("variant", default: variant)
        channelMultiplier = try arguments.double("channel_multiplier", default: 1)
        depthMultiplier = try arguments.double("depth_multiplier", default: 1)
        fixStemHead = try arguments.bool("fix_stem_head", default: false)
        let padType = try arguments.string("pad_type", default: "")
        guard padType == "" || padType == "same" else {
            throw ModelError.invalidArgument(
                model: arguments.model, argument: "pad_type", reason: "must be '' or 'same'")
        }
        tfSamePadding = padType == "same"
        bnEpsilon = try arguments.float("bn_eps", default: 1e-5)
        numClasses = try arguments.int("num_classes", default: numClasses)
        dropRate = try arguments.float("drop_rate", default: 0)
        dropPathRate = try arguments.float("drop_path_rate", default: 0)
        guard channelMultiplier > 0, depthMultiplier > 0, bnEpsilon > 0, numClasses >= 0 else {
            throw ModelError.invalidArgument(
                model: arguments.model, argument: "channel_multiplier/depth_multiplier/bn_eps/num_classes",
                reason: "must be positive")
        }
    }

    /// timm's `_gen_efficientnet_lite` / `_gen_mobilenet_v2` architecture strings.
    var architecture: [[String]] {
        switch variant {
        case .efficientNetLite:
            return [
                ["ds_r1_k3_s1_e1_c16"], ["ir_r2_k3_s2_e6_c24"], ["ir_r2_k5_s2_e6_c40"], ["ir_r3_k3_s2_e6_c80"],
                ["ir_r3_k5_s1_e6_c112"], ["ir_r4_k5_s2_e6_c192"], ["ir_r1_k3_s1_e6_c320"],
            ]
        case .mobileNetV2:
            return [
                ["ds_r1_k3_s1_c16"], ["ir_r2_k3_s2_e6_c24"], ["ir_r3_k3_s2_e6_c32"], ["ir_r4_k3_s2_e6_c64"],
                ["ir_r3_k3_s1_e6_c96"], ["ir_r3_k3_s2_e6_c160"], ["ir_r1_k3_s1_e6_c320"],
            ]
        }
    }

    /// Whether stem width, head width and the first and last stage depths stay as written.
    var fixesStemAndHead: Bool { variant == .efficientNetLite || fixStemHead }

    func roundedChannels(_ channels: Int) -> Int { roundChannels(channels, multiplier: channelMultiplier) }
}

/// EfficientNet-Lite or MobileNet-V2 with timm's `efficientnet.py` layout and parameter names.
public final class EfficientNet: Module, ImageClassifier {
    /// The architecture this model was built from.
    public let config: EfficientNetConfig
    let convStem: Conv2d, bn1: BatchNorm2d
    let blocks: ModuleList<Sequential>
    let convHead: Conv2d, bn2: BatchNorm2d
    let headDropout: Dropout
    /// The head (timm's `classifier`); nil when `numClasses` is 0.
    public let classifier: Linear?

    /// Builds the model, initialised after timm's `_init_weight_goog`: conv weights with variance 2/fan_out
    /// (uniform, where timm draws them normal), linear weights U(±1/√out_features), biases zero.
    public init(_ config: EfficientNetConfig) throws {
        self.config = config
        let padding: ConvPadding? = config.tfSamePadding ? .same : nil
        let stemChannels = config.fixesStemAndHead ? 32 : config.roundedChannels(32)
        convStem = try Conv2d(3, stemChannels, kernel: 3, stride: 2, padding: padding, bias: false)
        bn1 = try BatchNorm2d(stemChannels, epsilon: config.bnEpsilon)
        let definitions = try decodeArchitecture(
            config.architecture, depthMultiplier: config.depthMultiplier,
            fixFirstLast: config.fixesStemAndHead)
        let options = BlockBuildOptions(
            padding: padding, bnEpsilon: config.bnEpsilon, activation: .relu6,
            roundChannels: config.roundedChannels, dropPathRate: config.dropPathRate)
        let (stages, trunkChannels) = try buildStages(inChannels: stemChannels, stages: definitions, options: options)
        blocks = ModuleList(stages)
        // MobileNet-V2 widens the head with the multiplier but never below 1280.
        let headChannels = config.fixesStemAndHead ? 1280 : max(1280, config.roundedChannels(1280))
        convHead = try Conv2d(trunkChannels, headChannels, kernel: 1, padding: padding, bias: false)
        bn2 = try BatchNorm2d(headChannels, epsilon: config.bnEpsilon)
        headDropout = Dropout(config.dropRate)
        classifier = config.numClasses > 0 ? try Linear(headChannels, config.numClasses) : nil
        super.init()
        register("head_drop", headDropout)
        register("conv_stem", convStem)
        register("bn1", bn1)
        register("blocks", blocks)
        register("conv_head", convHead)
        register("bn2", bn2)
        if let classifier { register("classifier", classifier) }
        applyEfficientNetInitialization()
    }

    /// Classes of the head (0 when it is removed).
    public var numClasses: Int { classifier?.outFeatures ?? 0 }
    /// Channels of `conv_head` (1280 unless a MobileNet-V2 multiplier widens it).
    public var numFeatures: Int { convHead.outChannels }
    /// Blocks per stage (`blocks.<stage>.<index>`).
    public var stageDepths: [Int] { blocks.items.map(\.layers.count) }

    /// Stem, blocks and `conv_head` → BN → ReLU6: `[N, 3, H, W]` images to `[N, numFeatures, H/32, W/32]`.
    /// Throws `ModelError.unsupportedInput` for any other input rank or channel count.
    public func forwardFeatures(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[1] == 3 else {
            throw ModelError.unsupportedInput(
                model: config.variant.rawValue, shape: input.shape, reason: "must be (B, 3, H, W)")
        }
        var x = try bn1.fused(after: convStem, activation: .relu6, input)
        for stage in blocks.items { x = try stage(x) }
        return try bn2.fused(after: convHead, activation: .relu6, x)
    }

    /// Global average pool and dropout, then the classifier unless `preLogits` (or the head is removed).
    public func forwardHead(_ features: Tensor, preLogits: Bool) throws -> Tensor {
        let pooled = try headDropout(features.globalAvgPool2d())
        guard !preLogits, let classifier else { return pooled }
        return try classifier(pooled)
    }
}

// MARK: - The efficientnet_pytorch naming

extension EfficientNet: RemapsForeignCheckpoints {
    /// Whether `dict` uses the naming of `efficientnet_pytorch` / `efficientnet_lite_pytorch`
    /// (`_conv_stem`, `_bn0`, `_blocks.N.…`, `_conv_head`, `_bn1`, `_fc`).
    public static func usesEfficientNetPyTorchNaming(_ dict: StateDict) -> Bool {
        dict.contains("_conv_stem.weight")
    }

    /// Renames an `efficientnet_pytorch` state dict to timm's keys. That package numbers blocks flatly
    /// (`_blocks.0` … `_blocks.15`); timm nests them by stage, so `stageDepths` (blocks per stage of the
    /// target model) turns the flat index into `blocks.<stage>.<index>`. A block without `_expand_conv`
    /// is timm's depthwise-separable block, whose BN and conv names shift by one.
    public static func remapEfficientNetPyTorchKeys(_ dict: StateDict, stageDepths: [Int]) throws -> StateDict {
        let stageOfBlock = stageDepths.enumerated().flatMap { stage, depth in (0..<depth).map { (stage, $0) } }
        let expandedBlocks = Set(
            dict.keys.compactMap { key -> Int? in
                let parts = key.split(separator: ".")
                return parts.count > 2 && parts[0] == "_blocks" && parts[2] == "_expand_conv" ? Int(parts[1]) : nil
            })
        let topLevel = [
            "_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier",
        ]
        let separableNames = [
            "_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2",
            "_se_reduce": "se.conv_reduce", "_se_expand": "se.conv_expand",
        ]
        let invertedNames = [
            "_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
            "_project_conv": "conv_pwl", "_bn2": "bn3", "_se_reduce": "se.conv_reduce", "_se_expand": "se.conv_expand",
        ]
        return try dict.mappingKeys { key in
            let parts = key.split(separator: ".").map(String.init)
            if parts.count == 2, let module = topLevel[parts[0]] { return module + "." + parts[1] }
            guard parts.count >= 4, parts[0] == "_blocks", let flat = Int(parts[1]),
                stageOfBlock.indices.contains(flat),
                let module = (expandedBlocks.contains(flat) ? invertedNames : separableNames)[parts[2]]
            else {
                throw WeightsError.unexpectedKeys([key])
            }
            let (stage, index) = stageOfBlock[flat]
            return (["blocks", String(stage), String(index), module] + parts[3...]).joined(separator: ".")
        }
    }

    /// `dict` under timm's keys: remapped when it uses the `efficientnet_pytorch` naming, else unchanged.
    /// Throws `WeightsError.unexpectedKeys` for a key that naming does not have or a block this model lacks,
    /// `WeightsError.duplicateKey` when two keys map to one.
    public func timmNamed(_ dict: StateDict) throws -> StateDict {
        Self.usesEfficientNetPyTorchNaming(dict)
            ? try Self.remapEfficientNetPyTorchKeys(dict, stageDepths: stageDepths) : dict
    }
}

// MARK: - Presets

/// The registry's EfficientNet-Lites and MobileNet-V2s and the keyword arguments they accept.
public enum EfficientNetFamily {
    static let accepted: Set<String> = [
        "channel_multiplier", "depth_multiplier", "fix_stem_head", "pad_type", "bn_eps",
        "drop_rate", "drop_path_rate",
    ]

    static func lite(
        _ name: String, channels: Double, depth: Double, inputSize: Int, cropPct: Float,
        interpolation: ResampleFilter, parameters: Int, gflops: Double
    ) -> ModelEntry {
        let pretrained = PretrainedConfig(
            tag: "in1k", inputSize: inputSize, mean: PretrainedConfig.inceptionMean,
            std: PretrainedConfig.inceptionStd, cropPct: cropPct, interpolation: interpolation)
        return ModelEntry(
            name: name, family: "efficientnet_lite", pretrained: pretrained, parameterCount: parameters, gflops: gflops,
            preset: try EfficientNetConfig(
                variant: .efficientNetLite, channelMultiplier: channels, depthMultiplier: depth, tfSamePadding: true,
                bnEpsilon: 1e-3),
            accepted: accepted, build: EfficientNet.init)
    }

    static func mobileNetV2(
        _ name: String, channels: Double, tag: String, parameters: Int, gflops: Double
    ) -> ModelEntry {
        ModelEntry(
            name: name, family: "mobilenetv2", pretrained: .init(tag: tag), parameterCount: parameters, gflops: gflops,
            preset: try EfficientNetConfig(variant: .mobileNetV2, channelMultiplier: channels), accepted: accepted,
            build: EfficientNet.init)
    }

    /// tf_efficientnet_lite0…4 (TensorFlow ports: "same" padding, BN eps 1e-3) and mobilenetv2_035…140.
    /// Counts, FLOPs and pretrained configs from scripts/timm-registry-facts.py (timm 1.0.31).
    public static let entries: [ModelEntry] = [
        lite(
            "tf_efficientnet_lite0", channels: 1.0, depth: 1.0, inputSize: 224, cropPct: 0.875, interpolation: .bicubic,
            parameters: 4_652_008, gflops: 0.77),
        lite(
            "tf_efficientnet_lite1", channels: 1.0, depth: 1.1, inputSize: 240, cropPct: 0.882, interpolation: .bicubic,
            parameters: 5_416_680, gflops: 1.2),
        lite(
            "tf_efficientnet_lite2", channels: 1.1, depth: 1.2, inputSize: 260, cropPct: 0.89, interpolation: .bicubic,
            parameters: 6_092_072, gflops: 1.719),
        lite(
            "tf_efficientnet_lite3", channels: 1.2, depth: 1.4, inputSize: 300, cropPct: 0.904,
            interpolation: .bilinear, parameters: 8_197_096, gflops: 3.215),
        lite(
            "tf_efficientnet_lite4", channels: 1.4, depth: 1.8, inputSize: 380, cropPct: 0.92, interpolation: .bilinear,
            parameters: 13_006_568, gflops: 7.887),
        mobileNetV2("mobilenetv2_035", channels: 0.35, tag: "untrained", parameters: 1_677_128, gflops: 0.119),
        mobileNetV2("mobilenetv2_050", channels: 0.5, tag: "lamb_in1k", parameters: 1_968_680, gflops: 0.194),
        mobileNetV2("mobilenetv2_075", channels: 0.75, tag: "untrained", parameters: 2_636_424, gflops: 0.418),
        mobileNetV2("mobilenetv2_100", channels: 1.0, tag: "ra_in1k", parameters: 3_504_872, gflops: 0.602),
        mobileNetV2("mobilenetv2_140", channels: 1.4, tag: "ra_in1k", parameters: 6_108_776, gflops: 1.164),
    ]
}
