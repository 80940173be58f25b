// Swin Transformer.
//
// "Swin Transformer: Hierarchical Vision Transformer using Shifted Windows", Liu et al., 2021 — arXiv:2103.14030
// Layout and names follow timm 1.0's `swin_transformer.py`: `patch_embed.proj` + `patch_embed.norm` giving
// (B, H, W, C) tokens; `layers.i` with a PatchMerging `downsample` (norm + reduction) at the start of stages
// 1…3 and `blocks.j` (norm1, window attention with `relative_position_bias_table`, norm2, mlp); odd blocks
// shift the windows by half a window; final `norm`, average over H and W, `head.fc`.
// The relative position index and the shifted-window masks are not in timm's state dict (non-persistent
// buffers): they are rebuilt here, the masks for each feature size met at run time.

import NN
import Tensors
import Weights

/// The architecture of a Swin Transformer (v1), under timm's `swin_transformer.py` keyword names.
public struct SwinTransformerConfig: ModelConfig {
    /// timm's `img_size`, in pixels: the input side the window sizes are fitted to (a window larger than a
    /// stage's feature map at this size shrinks to it). Other sizes run too.
    public var imageSize = 224
    /// Side of the square patches embedded as tokens, in pixels (timm's `patch_size`).
    public var patchSize = 4
    /// Channels of the first stage (timm's `embed_dim`); each later stage doubles them.
    public var embedDim = 96
    /// Blocks per stage (timm's `depths`); as many stages as `heads`.
    public var depths = [2, 2, 6, 2]
    /// Attention heads per stage (timm's `num_heads`), each dividing its stage's width.
    public var heads = [3, 6, 12, 24]
    /// Side of the attention windows, in tokens (timm's `window_size`).
    public var windowSize = 7
    /// Hidden width of each MLP as a multiple of its input width (timm's `mlp_ratio`).
    public var mlpRatio: Float = 4
    /// Classes of the head (timm's `num_classes`); 0 builds no classifier.
    public var numClasses = 1000
    /// timm's `drop_path_rate`: stochastic depth of the last block, rising linearly from 0 at the first.
    public var dropPathRate: Float = 0

    /// swin_tiny_patch4_window7_224's architecture unless told otherwise.
    ///
    /// - Parameters:
    ///   - imageSize: The input side, in pixels, the windows are fitted to.
    ///   - patchSize: Patch side, in pixels.
    ///   - embedDim: Channels of the first stage.
    ///   - depths: Blocks per stage.
    ///   - heads: Attention heads per stage, one per entry of `depths`.
    ///   - windowSize: Attention window side, in tokens.
    ///   - mlpRatio: MLP hidden width over its input width.
    ///   - numClasses: Classes of the head; 0 for none.
    ///   - dropPathRate: Stochastic-depth rate of the last block, in `[0, 1]`.
    /// - Throws: `ModelError.invalidArgument` when a value is out of bounds, `depths` and `heads` differ in
    ///   length, or a head count does not divide its stage's width.
    public init(
        imageSize: Int = 224, patchSize: Int = 4, embedDim: Int = 96, depths: [Int] = [2, 2, 6, 2],
        heads: [Int] = [3, 6, 12, 24], windowSize: Int = 7, mlpRatio: Float = 4, numClasses: Int = 1000,
        dropPathRate: Float = 0
    ) throws {
        (self.imageSize, self.patchSize, self.embedDim, self.depths) = (imageSize, patchSize, embedDim, depths)
        (self.heads, self.windowSize, self.mlpRatio) = (heads, windowSize, mlpRatio)
        (self.numClasses, self.dropPathRate) = (numClasses, dropPathRate)
        self = try checked()
    }

    /// `img_size`, `patch_size`, `embed_dim`, `depths`, `num_heads`, `window_size`, `mlp_ratio`, `num_classes`
    /// and `drop_path_rate`.
    public var arguments: ModelArguments {
        [
            "img_size": .int(imageSize), "patch_size": .int(patchSize), "embed_dim": .int(embedDim),
            "depths": .ints(depths), "num_heads": .ints(heads), "window_size": .int(windowSize),
            "mlp_ratio": .float(mlpRatio), "num_classes": .int(numClasses), "drop_path_rate": .float(dropPathRate),
        ]
    }

    /// Reads timm's keyword arguments (those `arguments` lists), swin_tiny_patch4_window7_224's values for
    /// those absent.
    ///
    /// - Throws: `ModelError.invalidArgument` for a value of the wrong type or out of bounds, when `depths` and
    ///   `num_heads` differ in length, or when a head count does not divide its stage's width.
    public init(_ arguments: ModelArguments) throws {
        imageSize = try arguments.int("img_size", default: imageSize)
        patchSize = try arguments.int("patch_size", default: patchSize)
        embedDim = try arguments.int("embed_dim", default: embedDim)
        depths = try arguments.ints("depths", default: depths)
        heads = try arguments.ints("num_heads", default: heads)
        windowSize = try arguments.int("window_size", default: windowSize)
        mlpRatio = try arguments.float("mlp_ratio", default: mlpRatio)
        numClasses = try arguments.int("num_classes", default: numClasses)
        dropPathRate = try arguments.float("drop_path_rate", default: 0)
        guard !depths.isEmpty, depths.count == heads.count, windowSize >= 1, patchSize >= 1,
            heads.enumerated().allSatisfy({ (embedDim << $0.offset) % $0.element == 0 })
        else {
            throw ModelError.invalidArgument(
                model: arguments.model, argument: "depths/num_heads/window_size",
                reason: "needs one head count per stage dividing its width, and a positive window")
        }
    }
}

/// Window self-attention with a learned bias per relative offset (`attn.qkv`, `attn.proj`,
/// `attn.relative_position_bias_table` of shape ((2w−1)², heads)).
final class WindowAttention: Module {
    let attention: MultiHeadAttention
    let biasTable: Tensor
    let window: Int
    /// For each (query, key) pair of a window, its row of the bias table, repeated per head: (N·N·heads).
    let tableIndex: [Int]
    private var cachedBias: Tensor?

    init(dim: Int, heads: Int, window: Int) throws {
        attention = try MultiHeadAttention(dim: dim, heads: heads)
        self.window = window
        biasTable = try Initialization.truncatedNormal([(2 * window - 1) * (2 * window - 1), heads], std: 0.02)
        let n = window * window
        var index = [Int]()
        index.reserveCapacity(n * n * heads)
        for i in 0..<n {
            for j in 0..<n {
                let row =
                    (i / window - j / window + window - 1) * (2 * window - 1) + (i % window - j % window + window - 1)
                index.append(contentsOf: repeatElement(row, count: heads))
            }
        }
        tableIndex = index
        super.init()
        register("qkv", attention.qkv)
        register(parameter: "relative_position_bias_table", biasTable)
        register("proj", attention.proj)
    }

    /// (heads, N, N) bias; cached for gradient-free inference.
    func relativePositionBias() throws -> Tensor {
        if !GradMode.isEnabled, let cachedBias { return cachedBias }
        let n = window * window
        let heads = attention.heads
        let bias = try biasTable.gather(axis: 0, indices: tableIndex, indexShape: [n * n, heads])
            .reshaped([n, n, heads]).permuted([2, 0, 1])
        cachedBias = GradMode.isEnabled ? nil : bias
        return bias
    }

    /// Windows (B·nW, N, C); `mask` (nW, 1, N, N) keeps shifted windows from attending across image seams.
    func callAsFunction(_ windows: Tensor, mask: Tensor?) throws -> Tensor {
        try attention(windows, additive: [relativePositionBias()] + (mask.map { [$0] } ?? []))
    }

    override func didChangeMode() { cachedBias = nil }
}

final class SwinBlock: Module, Layer {
    let norm1: LayerNorm, attn: WindowAttention, norm2: LayerNorm, mlp: Mlp
    let window: Int, shifted: Bool
    let dropPath: DropPath
    private var masks: [[Int]: Tensor] = [:]

    /// `resolution` is the feature size at `img_size`: a window larger than it shrinks to it, as in timm.
    init(dim: Int, heads: Int, window: Int, shifted: Bool, resolution: Int, mlpRatio: Float, dropPath: Float) throws {
        self.window = min(window, resolution)
        self.shifted = shifted
        norm1 = try LayerNorm(dim)
        attn = try WindowAttention(dim: dim, heads: heads, window: self.window)
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

    /// (B, H, W, C) → (B, H, W, C).
    func callAsFunction(_ input: Tensor) throws -> Tensor {
        let x = try input + dropPath(windowAttention(norm1(input)))
        return try x + dropPath(mlp(norm2(x)))
    }

    private func windowAttention(_ input: Tensor) throws -> Tensor {
        let (b, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        // timm shifts only when the feature map is larger than the window.
        let shift = shifted && (h > window || w > window) ? window / 2 : 0
        var x = shift > 0 ? try input.rolled(shifts: [-shift, -shift], axes: [1, 2]) : input
        let (hp, wp) = ((h + window - 1) / window * window, (w + window - 1) / window * window)
        if hp > h { x = try Tensor.concat([x, Tensor(zeros: [b, hp - h, w, c])], axis: 1) }
        if wp > w { x = try Tensor.concat([x, Tensor(zeros: [b, hp, wp - w, c])], axis: 2) }
        let (rows, columns) = (hp / window, wp / window)
        let windows = try x.reshaped([b, rows, window, columns, window, c]).permuted([0, 1, 3, 2, 4, 5])
            .reshaped([b * rows * columns, window * window, c])
        let attended = try attn(windows, mask: shift > 0 ? shiftMask(height: hp, width: wp, shift: shift) : nil)
        x = try attended.reshaped([b, rows, columns, window, window, c]).permuted([0, 1, 3, 2, 4, 5]).reshaped([
            b, hp, wp, c,
        ])
        if hp > h { x = try x.slice(axis: 1, 0..<h) }
        if wp > w { x = try x.slice(axis: 2, 0..<w) }
        return shift > 0 ? try x.rolled(shifts: [shift, shift], axes: [1, 2]) : x
    }

    /// timm's `get_attn_mask`: label the 3×3 regions the shift brings together, −100 between different labels.
    private func shiftMask(height: Int, width: Int, shift: Int) throws -> Tensor {
        if let mask = masks[[height, width, shift]] { return mask }
        func region(_ i: Int, _ size: Int) -> Int { i < size - window ? 0 : (i < size - shift ? 1 : 2) }
        let (rows, columns, n) = (height / window, width / window, window * window)
        var values = [Float](repeating: 0, count: rows * columns * n * n)
        for r in 0..<rows {
            for col in 0..<columns {
                let labels = (0..<n).map { p in
                    region(r * window + p / window, height) * 3 + region(col * window + p % window, width)
                }
                let base = (r * columns + col) * n * n
                for i in 0..<n { for j in 0..<n where labels[i] != labels[j] { values[base + i * n + j] = -100 } }
            }
        }
        let mask = try Tensor(shape: [rows * columns, 1, n, n], scalars: values)
        masks[[height, width, shift]] = mask
        return mask
    }
}

/// 2×2 neighbourhoods concatenated (4C, in timm's order) → norm → reduction to 2C: (B, H, W, C) → (B, H/2, W/2, 2C).
final class PatchMerging: Module, Layer {
    let norm: LayerNorm, reduction: Linear

    init(dim: Int) throws {
        norm = try LayerNorm(4 * dim)
        reduction = try Linear(4 * dim, 2 * dim, bias: false)
        super.init()
        register("norm", norm)
        register("reduction", reduction)
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        var x = input
        let (b, c) = (x.shape[0], x.shape[3])
        if x.shape[1] % 2 == 1 { x = try Tensor.concat([x, Tensor(zeros: [b, 1, x.shape[2], c])], axis: 1) }
        if x.shape[2] % 2 == 1 { x = try Tensor.concat([x, Tensor(zeros: [b, x.shape[1], 1, c])], axis: 2) }
        let (h, w) = (x.shape[1] / 2, x.shape[2] / 2)
        let merged = try x.reshaped([b, h, 2, w, 2, c]).permuted([0, 1, 3, 4, 2, 5]).reshaped([b, h, w, 4 * c])
        return try reduction(norm(merged))
    }
}

final class SwinStage: Module, Layer {
    let downsample: PatchMerging?
    let blocks: ModuleList<SwinBlock>

    init(downsample: PatchMerging?, blocks: [SwinBlock]) {
        self.downsample = downsample
        self.blocks = ModuleList(blocks)
        super.init()
        if let downsample { register("downsample", downsample) }
        register("blocks", self.blocks)
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        var x = try downsample.map { try $0(input) } ?? input
        for block in blocks.items { x = try block(x) }
        return x
    }
}

/// Swin Transformer, parameter names and outputs as timm's `SwinTransformer` (`swin_*_patch4_window7_224`).
public final class SwinTransformer: Module, ImageClassifier {
    /// The architecture this model was built with.
    public let config: SwinTransformerConfig
    let patchEmbed: PatchEmbed
    let layers: ModuleList<SwinStage>
    let norm: LayerNorm
    /// The classifier (`head.fc`); nil when `numClasses` is 0.
    public let fc: Linear?

    /// Builds the layers of `config`, the relative-position bias tables truncated-normal (std 0.02) as in
    /// timm, the other layers with PyTorch's defaults (random weights are zeros inside `Initialization.skipping`).
    ///
    /// - Throws: `TensorError.outOfMemory` when the weights exceed the tensor memory budget.
    public init(_ config: SwinTransformerConfig) throws {
        self.config = config
        patchEmbed = try PatchEmbed(patchSize: config.patchSize, embedDim: config.embedDim, norm: true)
        let total = config.depths.reduce(0, +)
        var stages: [SwinStage] = []
        var index = 0
        var resolution = config.imageSize / config.patchSize
        for (i, (depth, heads)) in zip(config.depths, config.heads).enumerated() {
            let dim = config.embedDim << i
            if i > 0 { resolution = (resolution + 1) / 2 }
            let blocks = try (0..<depth).map { j -> SwinBlock in
                defer { index += 1 }
                return try SwinBlock(
                    dim: dim, heads: heads, window: config.windowSize, shifted: j % 2 == 1, resolution: resolution,
                    mlpRatio: config.mlpRatio,
                    dropPath: DropPath.linearRate(config.dropPathRate, block: index, of: total))
            }
            stages.append(SwinStage(downsample: i > 0 ? try PatchMerging(dim: dim / 2) : nil, blocks: blocks))
        }
        layers = ModuleList(stages)
        let features = config.embedDim << (config.depths.count - 1)
        norm = try LayerNorm(features)
        fc = config.numClasses > 0 ? try Linear(features, config.numClasses) : nil
        super.init()
        register("patch_embed", patchEmbed)
        register("layers", layers)
        register("norm", norm)
        if let fc {
            let head = Module()
            head.register("fc", fc)
            register("head", head)
        }
    }

    /// Classes of `fc`; 0 without one.
    public var numClasses: Int { fc?.outFeatures ?? 0 }
    /// Channels of the last stage: `embedDim` doubled once per stage after the first (768 for swin_tiny).
    public var numFeatures: Int { config.embedDim << (config.depths.count - 1) }

    /// (B, H/32, W/32, C) normalised features (NHWC, as timm).
    public func forwardFeatures(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[1] == 3, input.shape[2] % config.patchSize == 0,
            input.shape[3] % config.patchSize == 0
        else {
            throw ModelError.unsupportedInput(
                model: "swin", shape: input.shape,
                reason: "must be (B, 3, H, W) with H, W multiples of \(config.patchSize)")
        }
        var x = try patchEmbed(input).reshaped([
            input.shape[0], input.shape[2] / config.patchSize, input.shape[3] / config.patchSize, config.embedDim,
        ])
        for stage in layers.items { x = try stage(x) }
        return try norm(x)
    }

    /// Average over H and W, then `head.fc`, as timm's `forward_head`.
    ///
    /// - Parameters:
    ///   - features: The output of `forwardFeatures`, NHWC `[B, H, W, C]`.
    ///   - preLogits: Stop after pooling.
    /// - Returns: Logits `[B, numClasses]`, or the pooled features `[B, numFeatures]` when `preLogits` is set
    ///   or there is no classifier.
    /// - Throws: Tensor errors for features of the wrong shape.
    public func forwardHead(_ features: Tensor, preLogits: Bool) throws -> Tensor {
        let pooled = try features.mean(axes: [1, 2])
        guard !preLogits, let fc else { return pooled }
        return try fc(pooled)
    }

    /// Drops the derived buffers older checkpoints saved (`relative_position_index`, `attn_mask`), as timm's
    /// checkpoint filter does; they are rebuilt from the window size.
    public static func removingDerivedBuffers(_ dict: StateDict) throws -> StateDict {
        try dict.mappingKeys { $0.hasSuffix("relative_position_index") || $0.hasSuffix("attn_mask") ? nil : $0 }
    }
}

/// The registry's Swin Transformers: timm's `swin_tiny`, `swin_small` and `swin_base_patch4_window7_224`.
public enum SwinTransformerFamily {
    static let accepted: Set<String> = [
        "img_size", "patch_size", "embed_dim", "depths", "num_heads", "window_size", "mlp_ratio", "drop_path_rate",
    ]

    static func entry(
        _ name: String, dim: Int, depths: [Int], heads: [Int], tag: String, parameters: Int, gflops: Double
    ) -> ModelEntry {
        ModelEntry(
            name: name, family: "swin", pretrained: .init(tag: tag, cropPct: 0.9), parameterCount: parameters,
            gflops: gflops,
            preset: try SwinTransformerConfig(embedDim: dim, depths: depths, heads: heads, windowSize: 7),
            accepted: accepted, build: SwinTransformer.init)
    }

    /// The models with timm's default pretrained tags. Counts, FLOPs and pretrained configs from
    /// scripts/timm-registry-facts.py (timm 1.0.31).
    public static let entries: [ModelEntry] = [
        entry(
            "swin_tiny_patch4_window7_224", dim: 96, depths: [2, 2, 6, 2], heads: [3, 6, 12, 24], tag: "ms_in1k",
            parameters: 28_288_354, gflops: 8.981),
        entry(
            "swin_small_patch4_window7_224", dim: 96, depths: [2, 2, 18, 2], heads: [3, 6, 12, 24],
            tag: "ms_in22k_ft_in1k",
            parameters: 49_606_258, gflops: 17.482),
        entry(
            "swin_base_patch4_window7_224", dim: 128, depths: [2, 2, 18, 2], heads: [4, 8, 16, 32],
            tag: "ms_in22k_ft_in1k",
            parameters: 87_768_224, gflops: 30.862),
    ]
}
