// Vision Transformer (ViT).
//
// "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale", Dosovitskiy et al., 2020
// — arXiv:2010.11929
// Layout and names follow timm's `vision_transformer.py`: `patch_embed.proj`, `cls_token`, `pos_embed`
// (1, 1 + N, C), pre-norm `blocks.i` (norm1/attn.qkv/attn.proj/norm2/mlp.fc1/fc2), final `norm`, then
// class-token or average pooling (`fc_norm` replaces `norm` with average pooling) and `head`.
// Inputs whose patch grid differs from `img_size` get the position embedding resampled (antialiased bicubic),
// as timm does with `dynamic_img_size=True` (and when it loads 224 weights into a 384 model).

import NN
import Tensors
import VisionIO
import Weights

/// The architecture of a plain ViT, under timm's `vision_transformer.py` keyword names.
public struct VisionTransformerConfig: ModelConfig {
    /// How the head pools the tokens (timm's `global_pool`): the class token (`token`) or the mean of the
    /// patch tokens (`avg`, which moves the final norm after pooling as `fc_norm`).
    public enum GlobalPool: String, Sendable { case token, avg }
    /// timm's `img_size`, in pixels: the size the position embedding is learned for. Other sizes divisible by
    /// `patchSize` run with it resampled.
    public var imageHeight = 224, imageWidth = 224
    /// Side of the square patches embedded as tokens, in pixels (timm's `patch_size`).
    public var patchSize = 16
    /// Token width (timm's `embed_dim`).
    public var embedDim = 768
    /// Number of transformer blocks (timm's `depth`).
    public var depth = 12
    /// Attention heads per block (timm's `num_heads`), dividing `embedDim`.
    public var heads = 12
    /// Hidden width of each MLP as a multiple of `embedDim` (timm's `mlp_ratio`).
    public var mlpRatio: Float = 4
    /// Whether the qkv projection has a bias (timm's `qkv_bias`).
    public var qkvBias = true
    /// Whether a learned class token is prepended to the patch tokens (timm's `class_token`).
    public var classToken = true
    /// Pooling of the head; `token` needs `classToken`.
    public var globalPool: GlobalPool = .token
    /// Classes of the head (timm's `num_classes`); 0 builds no classifier.
    public var numClasses = 1000
    /// timm's `drop_path_rate`: stochastic depth of the last block, rising linearly from 0 at the first.
    public var dropPathRate: Float = 0

    var gridSize: (Int, Int) { (imageHeight / patchSize, imageWidth / patchSize) }

    /// ViT-B/16 at 224 unless told otherwise (vit_small_patch16_224: `embedDim: 384, heads: 6`).
    ///
    /// - Parameters:
    ///   - imageHeight: Height the position embedding is learned for, in pixels, a multiple of `patchSize`.
    ///   - imageWidth: Width the position embedding is learned for, in pixels, a multiple of `patchSize`.
    ///   - patchSize: Patch side, in pixels.
    ///   - embedDim: Token width.
    ///   - depth: Number of blocks.
    ///   - heads: Attention heads per block, dividing `embedDim`.
    ///   - mlpRatio: MLP hidden width over `embedDim`.
    ///   - qkvBias: Give the qkv projection a bias.
    ///   - classToken: Prepend a learned class token.
    ///   - globalPool: Pooling of the head; `.token` needs `classToken`.
    ///   - numClasses: Classes of the head; 0 for none.
    ///   - dropPathRate: Stochastic-depth rate of the last block, in `[0, 1]`.
    /// - Throws: `ModelError.invalidArgument` when a value is out of bounds, the image size is not divisible by
    ///   `patchSize`, `embedDim` not by `heads`, or `.token` pooling comes without a class token.
    public init(
        imageHeight: Int = 224, imageWidth: Int = 224, patchSize: Int = 16, embedDim: Int = 768, depth: Int = 12,
        heads: Int = 12, mlpRatio: Float = 4, qkvBias: Bool = true, classToken: Bool = true,
        globalPool: GlobalPool = .token, numClasses: Int = 1000, dropPathRate: Float = 0
    ) throws {
        (self.imageHeight, self.imageWidth, self.patchSize) = (imageHeight, imageWidth, patchSize)
        (self.embedDim, self.depth, self.heads, self.mlpRatio) = (embedDim, depth, heads, mlpRatio)
        (self.qkvBias, self.classToken, self.globalPool) = (qkvBias, classToken, globalPool)
        (self.numClasses, self.dropPathRate) = (numClasses, dropPathRate)
        self = try checked()
    }

    /// `img_size` (as `[H, W]`), `patch_size`, `embed_dim`, `depth`, `num_heads`, `mlp_ratio`, `qkv_bias`,
    /// `class_token`, `global_pool`, `num_classes`, `drop_path_rate`, and `dynamic_img_size` (always true).
    public var arguments: ModelArguments {
        [
            "img_size": .ints([imageHeight, imageWidth]), "patch_size": .int(patchSize), "embed_dim": .int(embedDim),
            "depth": .int(depth), "num_heads": .int(heads), "mlp_ratio": .float(mlpRatio), "qkv_bias": .bool(qkvBias),
            "class_token": .bool(classToken), "global_pool": .string(globalPool.rawValue),
            "num_classes": .int(numClasses), "drop_path_rate": .float(dropPathRate),
            "dynamic_img_size": .bool(true),  // always: other input sizes get a resampled position embedding
        ]
    }

    /// Reads timm's keyword arguments (those `arguments` lists; `img_size` an integer or an `[H, W]` pair),
    /// ViT-B/16's values at 224 for those absent.
    ///
    /// - Throws: `ModelError.invalidArgument` for a value of the wrong type or out of bounds, a `global_pool`
    ///   other than `token` (with a class token) or `avg`, `dynamic_img_size` false, `img_size` not divisible
    ///   by `patch_size`, or `embed_dim` not by `num_heads`.
    public init(_ arguments: ModelArguments) throws {
        (imageHeight, imageWidth) = try arguments.size("img_size", default: 224)
        patchSize = try arguments.int("patch_size", default: patchSize)
        embedDim = try arguments.int("embed_dim", default: embedDim)
        depth = try arguments.int("depth", default: depth)
        heads = try arguments.int("num_heads", default: heads)
        mlpRatio = try arguments.float("mlp_ratio", default: mlpRatio)
        qkvBias = try arguments.bool("qkv_bias", default: qkvBias)
        classToken = try arguments.bool("class_token", default: classToken)
        let pool = try arguments.string("global_pool", default: "token")
        guard let globalPool = GlobalPool(rawValue: pool), globalPool == .avg || classToken else {
            throw ModelError.invalidArgument(
                model: arguments.model, argument: "global_pool", reason: "must be 'token' (with a class token) or 'avg'"
            )
        }
        self.globalPool = globalPool
        numClasses = try arguments.int("num_classes", default: numClasses)
        dropPathRate = try arguments.float("drop_path_rate", default: 0)
        // The zoo's ViT always resamples the position embedding for other input sizes.
        guard try arguments.bool("dynamic_img_size", default: true) else {
            throw ModelError.invalidArgument(
                model: arguments.model, argument: "dynamic_img_size",
                reason: "only true is implemented (other input sizes get a resampled position embedding)")
        }
        guard patchSize > 0, imageHeight % patchSize == 0, imageWidth % patchSize == 0, heads > 0, embedDim % heads == 0
        else {
            throw ModelError.invalidArgument(
                model: arguments.model, argument: "img_size/patch_size/num_heads",
                reason: "needs img_size divisible by patch_size and embed_dim by num_heads")
        }
    }
}

/// Vision Transformer, parameter names and outputs as timm's `VisionTransformer` (`vit_*_patch16/32_224`),
/// with a position embedding resampled for other input sizes as timm's `dynamic_img_size=True`.
public final class VisionTransformer: Module, ImageClassifier {
    /// Measured slower image by image (3 % at batch 8, Zen 3: tokens are small next to the cache, and a batch
    /// makes taller GEMMs): the batch stays whole.
    public var infersImageByImage: Bool { false }
    /// The architecture this model was built with.
    public let config: VisionTransformerConfig
    let patchEmbed: PatchEmbed
    let classToken: Tensor?
    let positionEmbedding: Tensor
    let blocks: ModuleList<TransformerBlock>
    let norm: LayerNorm?, fcNorm: LayerNorm?
    /// The classifier (`head`); nil when `numClasses` is 0.
    public let head: Linear?

    /// Builds the layers of `config`: `cls_token` truncated-normal with std 1e-6 and `pos_embed` with std
    /// 0.02 as in timm, the other layers with PyTorch's defaults (random weights are zeros inside
    /// `Initialization.skipping`).
    ///
    /// - Throws: `TensorError.outOfMemory` when the weights exceed the tensor memory budget.
    public init(_ config: VisionTransformerConfig) throws {
        self.config = config
        let dim = config.embedDim
        let (gh, gw) = config.gridSize
        let prefix = config.classToken ? 1 : 0
        patchEmbed = try PatchEmbed(patchSize: config.patchSize, embedDim: dim)
        classToken = config.classToken ? try Initialization.truncatedNormal([1, 1, dim], std: 1e-6) : nil
        positionEmbedding = try Initialization.truncatedNormal([1, prefix + gh * gw, dim], std: 0.02)
        blocks = ModuleList(
            try (0..<config.depth).map { i in
                try TransformerBlock(
                    dim: dim, heads: config.heads, mlpRatio: config.mlpRatio, qkvBias: config.qkvBias,
                    dropPath: DropPath.linearRate(config.dropPathRate, block: i, of: config.depth))
            })
        // timm: average pooling normalises after pooling (`fc_norm`), class-token pooling before (`norm`).
        norm = config.globalPool == .token ? try LayerNorm(dim, epsilon: 1e-6) : nil
        fcNorm = config.globalPool == .avg ? try LayerNorm(dim, epsilon: 1e-6) : nil
        head = config.numClasses > 0 ? try Linear(dim, config.numClasses) : nil
        super.init()
        if let classToken { register(parameter: "cls_token", classToken) }
        register(parameter: "pos_embed", positionEmbedding)
        register("patch_embed", patchEmbed)
        register("blocks", blocks)
        if let norm { register("norm", norm) }
        if let fcNorm { register("fc_norm", fcNorm) }
        if let head { register("head", head) }
    }

    /// Classes of `head`; 0 without one.
    public var numClasses: Int { head?.outFeatures ?? 0 }
    /// The token width, `embedDim`.
    public var numFeatures: Int { config.embedDim }
    var prefixTokens: Int { classToken == nil ? 0 : 1 }

    /// Patch tokens with class token and position embedding added: (B, prefix + N, C).
    func embed(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[1] == 3, input.shape[2] % config.patchSize == 0,
            input.shape[3] % config.patchSize == 0
        else {
            throw ModelError.unsupportedInput(
                model: "vit", shape: input.shape,
                reason: "must be (B, 3, H, W) with H, W multiples of \(config.patchSize)")
        }
        let grid = (input.shape[2] / config.patchSize, input.shape[3] / config.patchSize)
        var x = try patchEmbed(input)
        let position = try resamplePositionEmbedding(
            positionEmbedding, prefixTokens: prefixTokens, from: config.gridSize, to: grid)
        if let classToken {
            x = try Tensor.concat([classToken.expanded(to: [x.shape[0], 1, config.embedDim]), x], axis: 1)
        }
        return try x + position
    }

    /// Patch embedding, class token, position embedding (resampled when the patch grid differs from
    /// `img_size`'s), the blocks and, with token pooling, `norm`, as timm's `forward_features`.
    ///
    /// - Returns: Tokens `[B, 1 + N, embedDim]` with a class token, `[B, N, embedDim]` without, N the number
    ///   of patches.
    /// - Throws: `ModelError.unsupportedInput` for an input not of shape `[B, 3, H, W]` with H and W multiples
    ///   of `patchSize`; tensor errors from the layers.
    public func forwardFeatures(_ input: Tensor) throws -> Tensor {
        var x = try embed(input)
        for block in blocks.items { x = try block(x) }
        return try norm.map { try $0(x) } ?? x
    }

    /// The class token or the mean of the patch tokens, `fc_norm` with average pooling, then `head`, as
    /// timm's `forward_head`.
    ///
    /// - Parameters:
    ///   - features: The output of `forwardFeatures`, `[B, tokens, embedDim]`.
    ///   - preLogits: Stop before `head`.
    /// - Returns: Logits `[B, numClasses]`, or the pooled features `[B, embedDim]` when `preLogits` is set or
    ///   there is no classifier.
    /// - Throws: Tensor errors from the pooling and the layers (`features` must have rank 3).
    public func forwardHead(_ features: Tensor, preLogits: Bool) throws -> Tensor {
        let (b, n, c) = (features.shape[0], features.shape[1], features.shape[2])
        var pooled: Tensor
        switch config.globalPool {
        case .token: pooled = try features.slice(axis: 1, 0..<1).reshaped([b, c])
        case .avg: pooled = try features.slice(axis: 1, prefixTokens..<n).mean(axes: [1])
        }
        if let fcNorm { pooled = try fcNorm(pooled) }
        guard !preLogits, let head else { return pooled }
        return try head(pooled)
    }

    /// A checkpoint for another `img_size` made loadable here: its `pos_embed` grid (assumed square, as timm's
    /// `checkpoint_filter_fn` does) resampled to this model's grid. Other entries pass through unchanged.
    public func adaptingPositionEmbedding(_ dict: StateDict) throws -> StateDict {
        guard let stored = dict["pos_embed"], stored.shape.count == 3, stored.shape != positionEmbedding.shape else {
            return dict
        }
        let side = Int(Double(stored.shape[1] - prefixTokens).squareRoot().rounded())
        guard side * side == stored.shape[1] - prefixTokens, stored.shape[2] == config.embedDim else {
            throw WeightsError.shapeMismatch(key: "pos_embed", expected: positionEmbedding.shape, actual: stored.shape)
        }
        let resampled = try resamplePositionEmbedding(
            Tensor(shape: stored.shape, scalars: stored.values), prefixTokens: prefixTokens,
            from: (side, side), to: config.gridSize)
        var adapted = dict
        adapted["pos_embed"] = WeightTensor(shape: resampled.shape, values: resampled.scalars)
        return adapted
    }
}

// MARK: - Position embedding resampling

/// The weights of torch's antialiased bicubic resize (F.interpolate(mode='bicubic', antialias=True,
/// align_corners=False), timm's default in `resample_abs_pos_embed`) as an (outSize, inSize) matrix: Pillow's
/// bicubic weights.
func bicubicResizeMatrix(from inSize: Int, to outSize: Int) -> [Float] {
    var matrix = [Float](repeating: 0, count: outSize * inSize)
    for (i, row) in ResampleFilter.bicubic.axisWeights(inSize: inSize, outSize: outSize).enumerated() {
        for (j, weight) in row.weights.enumerated() { matrix[i * inSize + row.first + j] = Float(weight) }
    }
    return matrix
}

/// timm's `resample_abs_pos_embed`: the grid part of (1, prefix + gh·gw, C) resized bicubically to `newGrid`,
/// prefix (class token) rows kept. Two matrix products (rows, then columns), so gradients flow through it.
func resamplePositionEmbedding(
    _ embedding: Tensor, prefixTokens: Int, from grid: (Int, Int), to newGrid: (Int, Int)
) throws -> Tensor {
    if grid == newGrid { return embedding }
    let c = embedding.shape[2]
    let (gh, gw) = grid
    let (nh, nw) = newGrid
    let rows = try Tensor(shape: [nh, gh], scalars: bicubicResizeMatrix(from: gh, to: nh))
    let columns = try Tensor(shape: [nw, gw], scalars: bicubicResizeMatrix(from: gw, to: nw))
    let patches = try embedding.slice(axis: 1, prefixTokens..<embedding.shape[1]).reshaped([gh, gw * c])
    let resizedRows = try rows.matmul(patches).reshaped([nh, gw, c]).transposed(0, 1).reshaped([gw, nh * c])
    let resized = try columns.matmul(resizedRows).reshaped([nw, nh, c]).transposed(0, 1).reshaped([1, nh * nw, c])
    guard prefixTokens > 0 else { return resized }
    return try Tensor.concat([embedding.slice(axis: 1, 0..<prefixTokens), resized], axis: 1)
}

/// The registry's ViTs: timm's `vit_tiny/small/base_patch16_224` and `vit_base_patch32_224`.
public enum VisionTransformerFamily {
    static let accepted: Set<String> = [
        "img_size", "patch_size", "embed_dim", "depth", "num_heads", "mlp_ratio", "qkv_bias",
        "class_token", "global_pool", "drop_path_rate", "dynamic_img_size",
    ]
    static let inception = PretrainedConfig(
        tag: "augreg_in21k_ft_in1k", mean: PretrainedConfig.inceptionMean,
        std: PretrainedConfig.inceptionStd, cropPct: 0.9)

    static func entry(
        _ name: String, patch: Int, dim: Int, heads: Int, tag: String = "augreg_in21k_ft_in1k",
        parameters: Int, gflops: Double
    ) -> ModelEntry {
        var pretrained = inception
        pretrained.tag = tag
        return ModelEntry(
            name: name, family: "vit", pretrained: pretrained, parameterCount: parameters, gflops: gflops,
            preset: try VisionTransformerConfig(patchSize: patch, embedDim: dim, depth: 12, heads: heads),
            accepted: accepted, build: VisionTransformer.init)
    }

    /// The models with timm's default pretrained tags (AugReg, Inception normalisation). Counts, FLOPs and
    /// pretrained configs from scripts/timm-registry-facts.py (timm 1.0.31).
    public static let entries: [ModelEntry] = [
        entry("vit_tiny_patch16_224", patch: 16, dim: 192, heads: 3, parameters: 5_717_416, gflops: 2.507),
        entry("vit_small_patch16_224", patch: 16, dim: 384, heads: 6, parameters: 22_050_664, gflops: 9.198),
        entry(
            "vit_base_patch16_224", patch: 16, dim: 768, heads: 12, tag: "augreg2_in21k_ft_in1k",
            parameters: 86_567_656, gflops: 35.128),
        entry("vit_base_patch32_224", patch: 32, dim: 768, heads: 12, parameters: 88_224_232, gflops: 8.818),
    ]
}
