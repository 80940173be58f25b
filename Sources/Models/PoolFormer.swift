// PoolFormer (MetaFormer with pooling as the token mixer).
//
// "MetaFormer Is Actually What You Need for Vision", Yu et al., 2021 — arXiv:2111.11418
// Layout and names follow timm's `metaformer.py` for poolformer v1: `stem.conv` (7×7 stride 4, pad 2),
// `stages.i.downsample.conv` (3×3 stride 2, stages 1…3), `stages.i.blocks.j` with `norm1`/`norm2` =
// GroupNorm with one group, token mixer avgpool3×3(x) − x (count_include_pad=False), `layer_scale1/2.scale`,
// `mlp.fc1/fc2` as 1×1 convs with GELU; head: global average pool, `head.norm` (LayerNorm over channels,
// eps 1e-6), `head.fc`.

import NN
import Tensors

/// The architecture of a PoolFormer (v1), under timm's `metaformer.py` keyword names.
public struct PoolFormerConfig: ModelConfig {
    /// Blocks per stage (timm's `depths`); as many stages as `dims`.
    public var depths = [2, 2, 6, 2]
    /// Channels per stage (timm's `dims`); a stage whose width differs from the previous stage's starts
    /// with a stride-2 downsample conv.
    public var dims = [64, 128, 320, 512]
    /// timm's fixed MLP ratio.
    public var mlpRatio: Int { 4 }
    /// Initial value of every layer-scale gain (timm's `layer_scale_init_values`).
    public var layerScaleInit: Float = 1e-5
    /// Classes of the head (timm's `num_classes`); 0 builds no classifier.
    public var numClasses = 1000
    /// timm's `drop_path_rate`: stochastic depth of the last block, rising linearly from 0 at the first.
    public var dropPathRate: Float = 0

    /// poolformer_s12's architecture unless told otherwise.
    ///
    /// - Parameters:
    ///   - depths: Blocks per stage.
    ///   - dims: Channels per stage, one per entry of `depths`.
    ///   - layerScaleInit: Initial layer-scale gain (1e-5 for s12/s24, 1e-6 for s36).
    ///   - numClasses: Classes of the head; 0 for none.
    ///   - dropPathRate: Stochastic-depth rate of the last block, in `[0, 1]`.
    /// - Throws: `ModelError.invalidArgument` when a value is out of bounds or `depths` and `dims` differ in
    ///   length.
    public init(
        depths: [Int] = [2, 2, 6, 2], dims: [Int] = [64, 128, 320, 512], layerScaleInit: Float = 1e-5,
        numClasses: Int = 1000, dropPathRate: Float = 0
    ) throws {
        (self.depths, self.dims, self.layerScaleInit) = (depths, dims, layerScaleInit)
        (self.numClasses, self.dropPathRate) = (numClasses, dropPathRate)
        self = try checked()
    }

    /// `depths`, `dims`, `layer_scale_init_values`, `num_classes` and `drop_path_rate`.
    public var arguments: ModelArguments {
        [
            "depths": .ints(depths), "dims": .ints(dims), "layer_scale_init_values": .float(layerScaleInit),
            "num_classes": .int(numClasses), "drop_path_rate": .float(dropPathRate),
        ]
    }

    /// Reads timm's keyword arguments (`depths`, `dims`, `layer_scale_init_values`, `num_classes`,
    /// `drop_path_rate`), poolformer_s12's values for those absent.
    ///
    /// - Throws: `ModelError.invalidArgument` for a value of the wrong type or out of bounds, or when `depths`
    ///   and `dims` do not list one entry per stage.
    public init(_ arguments: ModelArguments) throws {
        depths = try arguments.ints("depths", default: depths)
        dims = try arguments.ints("dims", default: dims)
        layerScaleInit = try arguments.float("layer_scale_init_values", default: layerScaleInit)
        numClasses = try arguments.int("num_classes", default: numClasses)
        dropPathRate = try arguments.float("drop_path_rate", default: 0)
        guard !depths.isEmpty, depths.count == dims.count, depths.allSatisfy({ $0 >= 1 }) else {
            throw ModelError.invalidArgument(
                model: arguments.model, argument: "depths/dims", reason: "must list one depth and one width per stage")
        }
    }
}

/// timm `Scale` on NCHW: a learned per-channel gain `scale`.
final class ChannelScale: Module, Layer {
    let scale: Tensor
    init(_ channels: Int, initialValue: Float) throws {
        scale = try Tensor(repeating: initialValue, shape: [channels])
        super.init()
        register(parameter: "scale", scale)
    }
    func callAsFunction(_ input: Tensor) throws -> Tensor { try input * scale.reshaped([scale.count, 1, 1]) }
}

/// x + ls1·(pool(n1(x)) − n1(x)), then x + ls2·mlp(n2(x)).
final class PoolFormerBlock: Module, Layer {
    let norm1: GroupNorm, layerScale1: ChannelScale
    let norm2: GroupNorm, fc1: Conv2d, fc2: Conv2d, layerScale2: ChannelScale
    let dropPath: DropPath

    init(dim: Int, hidden: Int, layerScaleInit: Float, dropPath: Float) throws {
        norm1 = try GroupNorm(groups: 1, channels: dim)
        layerScale1 = try ChannelScale(dim, initialValue: layerScaleInit)
        norm2 = try GroupNorm(groups: 1, channels: dim)
        fc1 = try Conv2d(dim, hidden, kernel: 1)
        fc2 = try Conv2d(hidden, dim, kernel: 1)
        layerScale2 = try ChannelScale(dim, initialValue: layerScaleInit)
        self.dropPath = DropPath(dropPath)
        super.init()
        register("drop_path", self.dropPath)
        register("norm1", norm1)
        register("layer_scale1", layerScale1)
        register("norm2", norm2)
        let mlp = Module()
        mlp.register("fc1", fc1)
        mlp.register("fc2", fc2)
        register("mlp", mlp)
        register("layer_scale2", layerScale2)
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        let normed = try norm1(input)
        // Padded cells are left out of each average (count_include_pad=False), so borders are not darkened.
        let pooled = try normed.avgPool2d(kernel: (3, 3), stride: (1, 1), padding: Padding2d(1), countIncludePad: false)
        let x = try input + dropPath(layerScale1(pooled - normed))
        let mlpOut = try fc2(fc1(norm2(x)).activatedInPlace(.gelu))
        return try x + dropPath(layerScale2(mlpOut))
    }
}

final class PoolFormerStage: Module, Layer {
    let downsample: Conv2d?
    let blocks: ModuleList<PoolFormerBlock>

    init(inChannels: Int, outChannels: Int, blocks: [PoolFormerBlock]) throws {
        downsample =
            inChannels == outChannels
            ? nil : try Conv2d(inChannels, outChannels, kernel: 3, stride: 2, padding: .symmetric(1))
        self.blocks = ModuleList(blocks)
        super.init()
        if let downsample {
            let wrapper = Module()
            wrapper.register("conv", downsample)
            register("downsample", wrapper)
        }
        register("blocks", self.blocks)
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        var x = try downsample.map { try $0(input) } ?? input
        for block in blocks.items { x = try block(x) }
        return x
    }
}

/// PoolFormer v1, parameter names and outputs as timm's `MetaFormer` for `poolformer_s12/s24/s36`.
public final class PoolFormer: Module, ImageClassifier {
    /// The architecture this model was built with.
    public let config: PoolFormerConfig
    let stemConv: Conv2d
    let stages: ModuleList<PoolFormerStage>
    let headNorm: LayerNorm
    /// The classifier (`head.fc`); nil when `numClasses` is 0.
    public let fc: Linear?

    /// Builds the layers of `config`, convs and linears with PyTorch's default uniform initialisation drawn
    /// from the generator of the enclosing `Initialization.using` scope (zeros inside `Initialization.skipping`).
    ///
    /// - Throws: `TensorError.outOfMemory` when the weights exceed the tensor memory budget.
    public init(_ config: PoolFormerConfig) throws {
        self.config = config
        stemConv = try Conv2d(3, config.dims[0], kernel: 7, stride: 4, padding: .symmetric(2))
        let total = config.depths.reduce(0, +)
        var stages: [PoolFormerStage] = []
        var previous = config.dims[0]
        var index = 0
        for (depth, dim) in zip(config.depths, config.dims) {
            let blocks = try (0..<depth).map { _ -> PoolFormerBlock in
                defer { index += 1 }
                return try PoolFormerBlock(
                    dim: dim, hidden: dim * config.mlpRatio, layerScaleInit: config.layerScaleInit,
                    dropPath: DropPath.linearRate(config.dropPathRate, block: index, of: total))
            }
            stages.append(try PoolFormerStage(inChannels: previous, outChannels: dim, blocks: blocks))
            previous = dim
        }
        self.stages = ModuleList(stages)
        headNorm = try LayerNorm(previous, epsilon: 1e-6)
        fc = config.numClasses > 0 ? try Linear(previous, config.numClasses) : nil
        super.init()
        let stem = Module()
        stem.register("conv", stemConv)
        register("stem", stem)
        register("stages", self.stages)
        let head = Module()
        head.register("norm", headNorm)
        if let fc { head.register("fc", fc) }
        register("head", head)
    }

    /// Classes of `fc`; 0 without one.
    public var numClasses: Int { fc?.outFeatures ?? 0 }
    /// Channels of the last stage, the width the head reads.
    public var numFeatures: Int { config.dims.last ?? 0 }

    /// Stem and stages on normalised images `[B, 3, H, W]`, as timm's `forward_features`.
    ///
    /// - Returns: The last feature map `[B, numFeatures, H/32, W/32]` (for sides divisible by 32).
    /// - Throws: `ModelError.unsupportedInput` for an input not of shape `[B, 3, H, W]`; tensor errors from
    ///   the layers.
    public func forwardFeatures(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[1] == 3 else {
            throw ModelError.unsupportedInput(model: "poolformer", shape: input.shape, reason: "must be (B, 3, H, W)")
        }
        var x = try stemConv(input)
        for stage in stages.items { x = try stage(x) }
        return x
    }

    /// Global average pool, `head.norm`, then `head.fc`, as timm's `forward_head`.
    ///
    /// - Parameters:
    ///   - features: The output of `forwardFeatures`, `[B, C, H, W]`.
    ///   - preLogits: Stop after the norm, returning the pooled features.
    /// - Returns: Logits `[B, numClasses]`, or the normalised pooled features `[B, numFeatures]` when
    ///   `preLogits` is set or there is no classifier.
    /// - Throws: Tensor errors for features of the wrong shape.
    public func forwardHead(_ features: Tensor, preLogits: Bool) throws -> Tensor {
        let pooled = try headNorm(features.globalAvgPool2d())
        guard !preLogits, let fc else { return pooled }
        return try fc(pooled)
    }
}

/// The registry's PoolFormer models: timm's `poolformer_s12`, `poolformer_s24` and `poolformer_s36`.
public enum PoolFormerFamily {
    static let accepted: Set<String> = ["depths", "dims", "layer_scale_init_values", "drop_path_rate"]

    static func entry(
        _ name: String, depths: [Int], layerScale: Double = 1e-5, parameters: Int, gflops: Double
    ) -> ModelEntry {
        ModelEntry(
            name: name, family: "poolformer", pretrained: .init(tag: "sail_in1k", cropPct: 0.9),
            parameterCount: parameters,
            gflops: gflops,
            preset: try PoolFormerConfig(depths: depths, layerScaleInit: Float(layerScale)), accepted: accepted,
            build: PoolFormer.init)
    }

    /// The models, with their `sail_in1k` defaults. Counts, FLOPs and pretrained configs from
    /// scripts/timm-registry-facts.py (timm 1.0.31).
    public static let entries: [ModelEntry] = [
        entry("poolformer_s12", depths: [2, 2, 6, 2], parameters: 11_915_176, gflops: 3.625),
        entry("poolformer_s24", depths: [4, 4, 12, 4], parameters: 21_388_968, gflops: 6.784),
        entry("poolformer_s36", depths: [6, 6, 18, 6], layerScale: 1e-6, parameters: 30_862_760, gflops: 9.944),
    ]
}
