// VOLO: Vision Outlooker.
//
// "VOLO: Vision Outlooker for Visual Recognition", Yuan et al., 2021 — arXiv:2106.13112
// Layout and names follow timm's `volo.py`: a conv stem (`patch_embed.conv.0…8`: three conv-BN-ReLU, the first
// stride 2) and `patch_embed.proj`; `network.0` Outlookers (outlook attention: `attn.v`, `attn.attn` predicting
// a k²×k² attention per pooled location, unfold/fold aggregation, `attn.proj`), `network.1` a strided conv
// downsample, then `pos_embed` and Transformer stages `network.2…`; `post_network` class-attention blocks on a
// prepended `cls_token`; `norm`; `head` on the class token plus half the max over tokens of `aux_head`
// (token labelling), as timm's inference forward.

import NN
import Tensors

/// The architecture of a VOLO, under timm's `volo.py` keyword names.
public struct VoloConfig: ModelConfig {
    /// timm's `img_size`, in pixels: the only input size the model takes (its position grid is fixed by it).
    public var imageSize = 224
    /// Blocks per stage (timm's `layers`): Outlookers, then three Transformer stages.
    public var layers = [4, 4, 8, 2]
    /// Width per stage (timm's `embed_dims`); stages 1…3 share one width.
    public var embedDims = [192, 384, 384, 384]
    /// Attention heads per stage (timm's `num_heads`), each dividing its stage's width.
    public var heads = [6, 12, 12, 12]
    /// Downsampling of the stem and patch projection, in pixels per token: 4, 8 or 16 (timm's `patch_size`).
    public var patchSize = 8
    /// Channels of the conv stem (timm's `stem_hidden_dim`).
    public var stemHiddenDim = 64
    /// Hidden width of each MLP as a multiple of its input width (timm's `mlp_ratio`).
    public var mlpRatio: Float = 3
    /// Classes of `head` and `aux_head` (timm's `num_classes`); 0 builds neither.
    public var numClasses = 1000
    /// timm's `drop_path_rate`, applied, as in timm, to the Transformer stages only: the rate of block i of
    /// all blocks (Outlookers counted) is `dropPathRate · i / (total − 1)`.
    public var dropPathRate: Float = 0
    /// Outlook attention geometry (timm's fixed defaults) and the pooling of the position grid.
    var kernel: Int { 3 }
    var padding: Int { 1 }
    var stride: Int { 2 }
    var poolingScale: Int { 2 }
    /// Class-attention blocks of `post_network` (timm's default `post_layers=('ca', 'ca')`).
    var classAttentionBlocks: Int { 2 }

    /// volo_d1_224's architecture unless told otherwise.
    ///
    /// - Parameters:
    ///   - imageSize: The input side, in pixels, a multiple of 2 · `patchSize`.
    ///   - layers: Blocks per stage, four entries.
    ///   - embedDims: Width per stage, four entries, the last three equal.
    ///   - heads: Attention heads per stage, four entries.
    ///   - patchSize: Pixels per token after the stem and projection: 4, 8 or 16.
    ///   - stemHiddenDim: Channels of the conv stem.
    ///   - mlpRatio: MLP hidden width over its input width.
    ///   - numClasses: Classes of the heads; 0 for none.
    ///   - dropPathRate: Stochastic-depth rate of the last block, in `[0, 1]`.
    /// - Throws: `ModelError.invalidArgument` when a value is out of bounds or the stages, widths, heads, patch
    ///   size or image size break the rules above.
    public init(
        imageSize: Int = 224, layers: [Int] = [4, 4, 8, 2], embedDims: [Int] = [192, 384, 384, 384],
        heads: [Int] = [6, 12, 12, 12], patchSize: Int = 8, stemHiddenDim: Int = 64, mlpRatio: Float = 3,
        numClasses: Int = 1000, dropPathRate: Float = 0
    ) throws {
        (self.imageSize, self.layers, self.embedDims, self.heads) = (imageSize, layers, embedDims, heads)
        (self.patchSize, self.stemHiddenDim, self.mlpRatio) = (patchSize, stemHiddenDim, mlpRatio)
        (self.numClasses, self.dropPathRate) = (numClasses, dropPathRate)
        self = try checked()
    }

    /// `img_size`, `layers`, `embed_dims`, `num_heads`, `patch_size`, `stem_hidden_dim`, `mlp_ratio`,
    /// `num_classes` and `drop_path_rate`.
    public var arguments: ModelArguments {
        [
            "img_size": .int(imageSize), "layers": .ints(layers), "embed_dims": .ints(embedDims),
            "num_heads": .ints(heads), "patch_size": .int(patchSize), "stem_hidden_dim": .int(stemHiddenDim),
            "mlp_ratio": .float(mlpRatio), "num_classes": .int(numClasses), "drop_path_rate": .float(dropPathRate),
        ]
    }

    /// Reads timm's keyword arguments (those `arguments` lists), volo_d1_224's values for those absent.
    ///
    /// - Throws: `ModelError.invalidArgument` for a value of the wrong type or out of bounds, or unless there
    ///   are 4 stages with stages 1…3 of equal width, each width divisible by its heads, `patch_size` 4, 8 or
    ///   16, and `img_size` divisible by 2 · `patch_size`.
    public init(_ arguments: ModelArguments) throws {
        imageSize = try arguments.int("img_size", default: imageSize)
        layers = try arguments.ints("layers", default: layers)
        embedDims = try arguments.ints("embed_dims", default: embedDims)
        heads = try arguments.ints("num_heads", default: heads)
        patchSize = try arguments.int("patch_size", default: patchSize)
        stemHiddenDim = try arguments.int("stem_hidden_dim", default: stemHiddenDim)
        mlpRatio = try arguments.float("mlp_ratio", default: mlpRatio)
        numClasses = try arguments.int("num_classes", default: numClasses)
        dropPathRate = try arguments.float("drop_path_rate", default: 0)
        guard layers.count == 4, embedDims.count == 4, heads.count == 4, [4, 8, 16].contains(patchSize),
            zip(embedDims, heads).allSatisfy({ $0 % $1 == 0 }), embedDims[1...].allSatisfy({ $0 == embedDims[1] }),
            imageSize % (patchSize * poolingScale) == 0
        else {
            throw ModelError.invalidArgument(
                model: arguments.model, argument: "layers/embed_dims/num_heads/img_size",
                reason:
                    "needs 4 stages (stages 1…3 of equal width), widths divisible by heads, img_size by 2·patch_size")
        }
    }
}

/// Outlook attention on (B, H, W, C): each pooled location predicts a k²×k² attention over its k×k window
/// of values; the weighted windows are folded back (overlaps summed).
final class OutlookAttention: Module {
    let v: Linear, attn: Linear, proj: Linear
    let heads: Int, kernel: Int, padding: Int, stride: Int
    let scale: Float

    init(dim: Int, heads: Int, kernel: Int, padding: Int, stride: Int) throws {
        v = try Linear(dim, dim, bias: false)
        attn = try Linear(dim, kernel * kernel * kernel * kernel * heads)
        proj = try Linear(dim, dim)
        self.heads = heads
        self.kernel = kernel
        self.padding = padding
        self.stride = stride
        scale = 1 / Float(dim / heads).squareRoot()
        super.init()
        register("v", v)
        register("attn", attn)
        register("proj", proj)
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        let (b, height, width, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let kk = kernel * kernel
        let headDim = c / heads
        let (h, w) = ((height + stride - 1) / stride, (width + stride - 1) / stride)
        let windows = try v(input).permuted([0, 3, 1, 2])
            .unfold(kernel: (kernel, kernel), stride: (stride, stride), padding: Padding2d(padding))
            .reshaped([b, heads, headDim, kk, h * w]).permuted([0, 1, 4, 3, 2])  // B, heads, L, k², D
        let pooled = try input.permuted([0, 3, 1, 2]).avgPool2d(
            kernel: (stride, stride), stride: (stride, stride), ceilMode: true)
        let weights = try
            (attn(pooled.permuted([0, 2, 3, 1])).reshaped([b, h * w, heads, kk, kk])
            .permuted([0, 2, 1, 3, 4]) * scale).softmax()  // B, heads, L, k², k²
        let folded = try weights.matmul(windows).permuted([0, 1, 4, 3, 2]).reshaped([b, c * kk, h * w])
            .fold(
                outputSize: (height, width), kernel: (kernel, kernel), stride: (stride, stride),
                padding: Padding2d(padding))
        return try proj(folded.permuted([0, 2, 3, 1]))
    }
}

/// x + attn(norm1(x)), x + mlp(norm2(x)) with outlook attention, on (B, H, W, C).
final class Outlooker: Module, Layer {
    let norm1: LayerNorm, attn: OutlookAttention, norm2: LayerNorm, mlp: Mlp
    let dropPath: DropPath

    init(dim: Int, heads: Int, config: VoloConfig, mlpRatio: Float, dropPath: Float) throws {
        norm1 = try LayerNorm(dim)
        attn = try OutlookAttention(
            dim: dim, heads: heads, kernel: config.kernel, padding: config.padding, stride: config.stride)
        norm2 = try LayerNorm(dim)
        mlp = try Mlp(inFeatures: dim, hiddenFeatures: Int(Float(dim) * mlpRatio))
        self.dropPath = DropPath(dropPath)
        super.init()
        register("drop_path", self.dropPath)
        register("norm1", norm1)
        register("attn", attn)
        register("norm2", norm2)
        register("mlp", mlp)
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        let x = try input + dropPath(attn(norm1(input)))
        return try x + dropPath(mlp(norm2(x)))
    }
}

/// Class attention: only the class token queries (`q`), all tokens give keys and values (`kv`).
final class ClassAttentionBlock: Module, Layer {
    let norm1: LayerNorm, q: Linear, kv: Linear, proj: Linear, norm2: LayerNorm, mlp: Mlp
    let heads: Int

    init(dim: Int, heads: Int, mlpRatio: Float) throws {
        norm1 = try LayerNorm(dim)
        q = try Linear(dim, dim, bias: false)
        kv = try Linear(dim, 2 * dim, bias: false)
        proj = try Linear(dim, dim)
        norm2 = try LayerNorm(dim)
        mlp = try Mlp(inFeatures: dim, hiddenFeatures: Int(Float(dim) * mlpRatio))
        self.heads = heads
        super.init()
        register("norm1", norm1)
        let attn = Module()
        attn.register("kv", kv)
        attn.register("q", q)
        attn.register("proj", proj)
        register("attn", attn)
        register("norm2", norm2)
        register("mlp", mlp)
    }

    /// (B, 1 + N, C) → the same with the class token updated.
    func callAsFunction(_ input: Tensor) throws -> Tensor {
        let (b, n, c) = (input.shape[0], input.shape[1], input.shape[2])
        let headDim = c / heads
        let normed = try norm1(input)
        let keysValues = try kv(normed).reshaped([b, n, 2, heads, headDim]).permuted([2, 0, 3, 1, 4])
        let keys = try keysValues.slice(axis: 0, 0..<1).reshaped([b, heads, n, headDim])
        let values = try keysValues.slice(axis: 0, 1..<2).reshaped([b, heads, n, headDim])
        let query = try q(normed.slice(axis: 1, 0..<1)).reshaped([b, heads, 1, headDim])
        let attended = try Tensor.attention(query: query, key: keys, value: values).reshaped([b, 1, c])
        var classToken = try input.slice(axis: 1, 0..<1) + proj(attended)
        classToken = try classToken + mlp(norm2(classToken))
        return try Tensor.concat([classToken, input.slice(axis: 1, 1..<n)], axis: 1)
    }
}

/// VOLO, parameter names and outputs as timm's `VOLO` (`volo_d1_224`, `volo_d2_224`), with token labelling's
/// `aux_head` in the logits as timm's inference forward.
public final class Volo: Module, ImageClassifier {
    /// The architecture this model was built with.
    public let config: VoloConfig
    let stemConvs: [Conv2d], stemNorms: [BatchNorm2d], patchProjection: Conv2d
    let outlookers: ModuleList<Outlooker>
    let downsample: Conv2d
    let transformerStages: [ModuleList<TransformerBlock>]
    let positionEmbedding: Tensor, classToken: Tensor
    let postNetwork: ModuleList<ClassAttentionBlock>
    let norm: LayerNorm
    /// The classifier on the class token (`head`) and the per-token classifier of token labelling
    /// (`aux_head`); both nil when `numClasses` is 0.
    public let head: Linear?, auxHead: Linear?

    /// Builds the layers of `config`: `pos_embed` and `cls_token` truncated-normal with std 0.02 as in timm,
    /// the other layers with PyTorch's defaults (random weights are zeros inside `Initialization.skipping`).
    ///
    /// - Throws: `TensorError.outOfMemory` when the weights exceed the tensor memory budget.
    public init(_ config: VoloConfig) throws {
        self.config = config
        let hidden = config.stemHiddenDim
        let dims = config.embedDims
        stemConvs = [
            try Conv2d(3, hidden, kernel: 7, stride: 2, padding: .symmetric(3), bias: false),
            try Conv2d(hidden, hidden, kernel: 3, bias: false), try Conv2d(hidden, hidden, kernel: 3, bias: false),
        ]
        stemNorms = try (0..<3).map { _ in try BatchNorm2d(hidden) }
        patchProjection = try Conv2d(
            hidden, dims[0], kernel: config.patchSize / 2, stride: config.patchSize / 2, padding: .symmetric(0))
        let total = config.layers.reduce(0, +)
        // timm passes drop_path_rate to the Transformer stages only; the Outlookers keep rate 0.
        outlookers = ModuleList(
            try (0..<config.layers[0]).map { _ in
                try Outlooker(
                    dim: dims[0], heads: config.heads[0], config: config, mlpRatio: config.mlpRatio, dropPath: 0)
            })
        downsample = try Conv2d(dims[0], dims[1], kernel: 2, stride: 2, padding: .symmetric(0))
        transformerStages = try (1..<4).map { stage in
            let before = config.layers[..<stage].reduce(0, +)
            return ModuleList(
                try (0..<config.layers[stage]).map { i in
                    try TransformerBlock(
                        dim: dims[stage], heads: config.heads[stage], mlpRatio: config.mlpRatio, qkvBias: false,
                        normEpsilon: 1e-5,
                        dropPath: DropPath.linearRate(config.dropPathRate, block: before + i, of: total))
                })
        }
        let grid = config.imageSize / config.patchSize / config.poolingScale
        positionEmbedding = try Initialization.truncatedNormal([1, grid, grid, dims[3]], std: 0.02)
        classToken = try Initialization.truncatedNormal([1, 1, dims[3]], std: 0.02)
        postNetwork = ModuleList(
            try (0..<config.classAttentionBlocks).map { _ in
                try ClassAttentionBlock(dim: dims[3], heads: config.heads[3], mlpRatio: config.mlpRatio)
            })
        norm = try LayerNorm(dims[3])
        head = config.numClasses > 0 ? try Linear(dims[3], config.numClasses) : nil
        auxHead = config.numClasses > 0 ? try Linear(dims[3], config.numClasses) : nil
        super.init()
        register(parameter: "pos_embed", positionEmbedding)
        register(parameter: "cls_token", classToken)
        let patchEmbed = Module()
        let stem = Module()
        for (i, (conv, bn)) in zip(stemConvs, stemNorms).enumerated() {
            stem.register("\(3 * i)", conv)
            stem.register("\(3 * i + 1)", bn)
        }
        patchEmbed.register("conv", stem)
        patchEmbed.register("proj", patchProjection)
        register("patch_embed", patchEmbed)
        let network = Module()
        let downsampleWrapper = Module()
        downsampleWrapper.register("proj", downsample)
        network.register("0", outlookers)
        network.register("1", downsampleWrapper)
        for (i, stage) in transformerStages.enumerated() { network.register("\(i + 2)", stage) }
        register("network", network)
        register("post_network", postNetwork)
        if let auxHead { register("aux_head", auxHead) }
        register("norm", norm)
        if let head { register("head", head) }
    }

    /// Classes of `head`; 0 without one.
    public var numClasses: Int { head?.outFeatures ?? 0 }
    /// Width of the last stage and the class token, `embedDims[3]`.
    public var numFeatures: Int { config.embedDims[3] }

    /// (B, 1 + N, C): the class token then the N tokens of the 1/16 grid, normalised.
    public func forwardFeatures(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[1] == 3, input.shape[2] == config.imageSize,
            input.shape[3] == config.imageSize
        else {
            throw ModelError.unsupportedInput(
                model: "volo", shape: input.shape,
                reason:
                    "must be (B, 3, \(config.imageSize), \(config.imageSize)): the position grid is fixed by img_size")
        }
        var x = input
        for (conv, bn) in zip(stemConvs, stemNorms) { x = try bn.fused(after: conv, activation: .relu, x) }
        x = try patchProjection(x).permuted([0, 2, 3, 1])  // B, H, W, C
        for block in outlookers.items { x = try block(x) }
        x = try downsample(x.permuted([0, 3, 1, 2])).permuted([0, 2, 3, 1]) + positionEmbedding
        let b = x.shape[0]
        let c = x.shape[3]
        x = try x.reshaped([b, -1, c])
        for stage in transformerStages { for block in stage.items { x = try block(x) } }
        x = try Tensor.concat([classToken.expanded(to: [b, 1, c]), x], axis: 1)
        for block in postNetwork.items { x = try block(x) }
        return try norm(x)
    }

    /// `head` on the class token plus half of each class's maximum over the other tokens of `aux_head`, as
    /// timm's `forward_head`.
    ///
    /// - Parameters:
    ///   - features: The output of `forwardFeatures`, `[B, 1 + N, numFeatures]`.
    ///   - preLogits: Return the class token without the heads.
    /// - Returns: Logits `[B, numClasses]`, or the class token `[B, numFeatures]` when `preLogits` is set or
    ///   there is no classifier.
    /// - Throws: Tensor errors from the layers (`features` must have rank 3).
    public func forwardHead(_ features: Tensor, preLogits: Bool) throws -> Tensor {
        let (b, n, c) = (features.shape[0], features.shape[1], features.shape[2])
        let pooled = try features.slice(axis: 1, 0..<1).reshaped([b, c])
        guard !preLogits, let head, let auxHead else { return pooled }
        // Token labelling: each class also scores its best-matching token.
        let tokenLogits = try auxHead(features.slice(axis: 1, 1..<n)).transposed(1, 2)  // B, classes, N
        let best = tokenLogits.argmaxLastAxis()
        let classes = tokenLogits.shape[1]
        let tokenMax = try tokenLogits.gather(axis: 2, indices: best, indexShape: [b, classes, 1]).reshaped([
            b, classes,
        ])
        return try head(pooled) + tokenMax * 0.5
    }
}

/// The registry's VOLOs: timm's `volo_d1_224` and `volo_d2_224`.
public enum VoloFamily {
    static let accepted: Set<String> = [
        "img_size", "layers", "embed_dims", "num_heads", "patch_size", "stem_hidden_dim", "mlp_ratio", "drop_path_rate",
    ]

    static func entry(
        _ name: String, layers: [Int], dims: [Int], heads: [Int], parameters: Int, gflops: Double
    ) -> ModelEntry {
        ModelEntry(
            name: name, family: "volo", pretrained: .init(tag: "sail_in1k", cropPct: 0.96), parameterCount: parameters,
            gflops: gflops,
            preset: try VoloConfig(layers: layers, embedDims: dims, heads: heads), accepted: accepted,
            build: Volo.init)
    }

    /// The models with their `sail_in1k` defaults. Counts, FLOPs and pretrained configs from
    /// scripts/timm-registry-facts.py (timm 1.0.31).
    public static let entries: [ModelEntry] = [
        entry(
            "volo_d1_224", layers: [4, 4, 8, 2], dims: [192, 384, 384, 384], heads: [6, 12, 12, 12],
            parameters: 26_632_040, gflops: 13.837),
        entry(
            "volo_d2_224", layers: [6, 4, 10, 4], dims: [256, 512, 512, 512], heads: [8, 16, 16, 16],
            parameters: 58_678_336, gflops: 28.611),
    ]
}
