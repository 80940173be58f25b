// MLP-Mixer.
//
// "MLP-Mixer: An all-MLP Architecture for Vision", Tolstikhin et al., 2021 — arXiv:2105.01601
// Layout and names follow timm's `mlp_mixer.py`: patch `stem.proj`, `blocks.i` with a token-mixing MLP
// (`norm1`, `mlp_tokens` across the N patches, hidden N·0.5·dim/N = dim/2) and a channel MLP (`norm2`,
// `mlp_channels`, hidden 4·dim), final `norm`, mean over tokens, `head`. The token MLP fixes the number
// of patches, so the input size is fixed by `img_size`.

import NN
import Tensors

/// An MLP-Mixer architecture under timm's `MlpMixer` keyword arguments.
public struct MlpMixerConfig: ModelConfig {
    /// Side of the square input in pixels (timm's `img_size`); the token MLP fixes it.
    public var imageSize = 224
    /// Side of each square patch in pixels (timm's `patch_size`); must divide `imageSize`.
    public var patchSize = 16
    /// Mixer blocks (timm's `num_blocks`).
    public var blocks = 8
    /// Channels per token (timm's `embed_dim`).
    public var embedDim = 512
    /// timm's fixed (0.5, 4.0) MLP ratios of the token and channel mixers.
    public var tokenMlpRatio: Float { 0.5 }
    /// The channel MLP's hidden width as a multiple of `embedDim` (timm's fixed 4.0).
    public var channelMlpRatio: Float { 4 }
    /// Classes of the head (timm's `num_classes`); 0 removes it.
    public var numClasses = 1000
    /// Stochastic depth of every block's two residual branches, the same in each (timm's `drop_path_rate`).
    public var dropPathRate: Float = 0

    var tokens: Int { (imageSize / patchSize) * (imageSize / patchSize) }

    /// mixer_s16_224's architecture unless told otherwise.
    public init(
        imageSize: Int = 224, patchSize: Int = 16, blocks: Int = 8, embedDim: Int = 512, numClasses: Int = 1000,
        dropPathRate: Float = 0
    ) throws {
        (self.imageSize, self.patchSize, self.blocks, self.embedDim) = (imageSize, patchSize, blocks, embedDim)
        (self.numClasses, self.dropPathRate) = (numClasses, dropPathRate)
        self = try checked()
    }

    /// `img_size`, `patch_size`, `num_blocks`, `embed_dim`, `num_classes` and `drop_path_rate`.
    public var arguments: ModelArguments {
        [
            "img_size": .int(imageSize), "patch_size": .int(patchSize), "num_blocks": .int(blocks),
            "embed_dim": .int(embedDim), "num_classes": .int(numClasses), "drop_path_rate": .float(dropPathRate),
        ]
    }

    /// Reads timm's keyword arguments over mixer_s16_224's; throws `ModelError.invalidArgument` for a value of the
    /// wrong type or out of bounds, or an `img_size` that `patch_size` does not divide.
    public init(_ arguments: ModelArguments) throws {
        imageSize = try arguments.int("img_size", default: imageSize)
        patchSize = try arguments.int("patch_size", default: patchSize)
        blocks = try arguments.int("num_blocks", default: blocks)
        embedDim = try arguments.int("embed_dim", default: embedDim)
        numClasses = try arguments.int("num_classes", default: numClasses)
        dropPathRate = try arguments.float("drop_path_rate", default: 0)
        guard patchSize > 0, imageSize % patchSize == 0, blocks >= 1 else {
            throw ModelError.invalidArgument(
                model: arguments.model, argument: "img_size/patch_size",
                reason: "needs img_size divisible by patch_size")
        }
    }
}

/// x + mlp_tokens(norm1(x)ᵀ)ᵀ, then x + mlp_channels(norm2(x)).
final class MixerBlock: Module, Layer {
    let norm1: LayerNorm, mlpTokens: Mlp, norm2: LayerNorm, mlpChannels: Mlp
    let dropPath: DropPath

    init(dim: Int, tokens: Int, tokenHidden: Int, channelHidden: Int, dropPath: Float) throws {
        norm1 = try LayerNorm(dim, epsilon: 1e-6)
        mlpTokens = try Mlp(inFeatures: tokens, hiddenFeatures: tokenHidden)
        norm2 = try LayerNorm(dim, epsilon: 1e-6)
        mlpChannels = try Mlp(inFeatures: dim, hiddenFeatures: channelHidden)
        self.dropPath = DropPath(dropPath)
        super.init()
        register("drop_path", self.dropPath)
        register("norm1", norm1)
        register("mlp_tokens", mlpTokens)
        register("norm2", norm2)
        register("mlp_channels", mlpChannels)
    }

    func callAsFunction(_ input: Tensor) throws -> Tensor {
        let mixedTokens = try mlpTokens(norm1(input).transposed(1, 2)).transposed(1, 2)
        let x = try input + dropPath(mixedTokens)
        return try x + dropPath(mlpChannels(norm2(x)))
    }
}

/// MLP-Mixer with timm's `mlp_mixer.py` layout and parameter names; takes only `img_size` square inputs.
public final class MlpMixer: Module, ImageClassifier {
    /// Measured slower image by image (3 % at batch 8, Zen 3: tokens are small next to the cache, and a batch
    /// makes taller GEMMs): the batch stays whole.
    public var infersImageByImage: Bool { false }
    /// The architecture this model was built from.
    public let config: MlpMixerConfig
    let stem: PatchEmbed
    let blocks: ModuleList<MixerBlock>
    let norm: LayerNorm
    /// The classifier (timm's `head`); nil when `numClasses` is 0.
    public let head: Linear?

    /// Builds the model with PyTorch's default layer initialisation (not timm's `_init_weights` for Mixer).
    public init(_ config: MlpMixerConfig) throws {
        self.config = config
        let dim = config.embedDim
        stem = try PatchEmbed(patchSize: config.patchSize, embedDim: dim)
        // timm: drop_path_rate is applied uniformly to every block.
        blocks = ModuleList(
            try (0..<config.blocks).map { _ in
                try MixerBlock(
                    dim: dim, tokens: config.tokens, tokenHidden: Int(config.tokenMlpRatio * Float(dim)),
                    channelHidden: Int(config.channelMlpRatio * Float(dim)), dropPath: config.dropPathRate)
            })
        norm = try LayerNorm(dim, epsilon: 1e-6)
        head = config.numClasses > 0 ? try Linear(dim, config.numClasses) : nil
        super.init()
        register("stem", stem)
        register("blocks", blocks)
        register("norm", norm)
        if let head { register("head", head) }
    }

    /// Classes of the head (0 when it is removed).
    public var numClasses: Int { head?.outFeatures ?? 0 }
    /// Channels per token (`embedDim`).
    public var numFeatures: Int { config.embedDim }

    /// Patch embedding, mixer blocks and final norm: `[N, 3, S, S]` images (S = `imageSize`) to tokens
    /// `[N, (S/patchSize)², embedDim]`. Throws `ModelError.unsupportedInput` for any other input shape.
    public func forwardFeatures(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[1] == 3, input.shape[2] == config.imageSize,
            input.shape[3] == config.imageSize
        else {
            throw ModelError.unsupportedInput(
                model: "mixer", shape: input.shape,
                reason: "must be (B, 3, \(config.imageSize), \(config.imageSize)): the token MLP fixes the patch count")
        }
        var x = try stem(input)
        for block in blocks.items { x = try block(x) }
        return try norm(x)
    }

    /// Mean over the tokens, then the head unless `preLogits` (or the head is removed).
    public func forwardHead(_ features: Tensor, preLogits: Bool) throws -> Tensor {
        let pooled = try features.mean(axes: [1])
        guard !preLogits, let head else { return pooled }
        return try head(pooled)
    }
}

/// The registry's MLP-Mixers and the keyword arguments they accept.
public enum MlpMixerFamily {
    static let accepted: Set<String> = ["img_size", "patch_size", "num_blocks", "embed_dim", "drop_path_rate"]

    static func entry(_ name: String, blocks: Int, dim: Int, tag: String, parameters: Int, gflops: Double) -> ModelEntry
    {
        ModelEntry(
            name: name, family: "mixer",
            pretrained: .init(
                tag: tag, mean: PretrainedConfig.inceptionMean, std: PretrainedConfig.inceptionStd, cropPct: 0.875),
            parameterCount: parameters, gflops: gflops,
            preset: try MlpMixerConfig(patchSize: 16, blocks: blocks, embedDim: dim), accepted: accepted,
            build: MlpMixer.init)
    }

    /// mixer_s16_224 (no pretrained weights) and mixer_b16_224, both patch 16 at 224 × 224.
    /// Counts, FLOPs and pretrained configs from scripts/timm-registry-facts.py (timm 1.0.31).
    public static let entries: [ModelEntry] = [
        entry("mixer_s16_224", blocks: 8, dim: 512, tag: "untrained", parameters: 18_528_264, gflops: 7.554),
        entry("mixer_b16_224", blocks: 12, dim: 768, tag: "goog_in21k_ft_in1k", parameters: 59_880_472, gflops: 25.204),
    ]
}
