// Masked autoencoder (MAE) pretraining of a ViT.
//
// "Masked Autoencoders Are Scalable Vision Learners", He et al., 2021 — arXiv:2111.06377
// Layout and names follow the paper's reference code (`models_mae.py`, built from timm blocks): a ViT encoder
// (`patch_embed.proj`, `cls_token`, `pos_embed`, `blocks.i`, `norm`) that sees only the kept patches, and a
// light decoder (`decoder_embed`, `mask_token`, `decoder_pos_embed`, `decoder_blocks.i`, `decoder_norm`,
// `decoder_pred`) that predicts the pixels of every patch. Masking keeps the patches with the smallest noise
// (argsort of uniform noise, injectable for tests); the loss is the mean squared error on removed patches,
// against per-patch normalised pixels when `norm_pix_loss`. Position embeddings are fixed 2-D sin-cos
// (buffers, as `requires_grad=False` in the reference). Not an ImageClassifier: its forward returns
// (loss, pred, mask), so it has its own registry; `encoderStateDict()` exports a timm ViT state dict.
//
// Decoders: base uses the paper's 512-d, 8 blocks, 16 heads; the paper has no tiny/small models, so these
// use 128-d × 4 blocks × 4 heads (tiny) and 256-d × 4 blocks × 8 heads (small), keeping the decoder
// under a third of the encoder's cost as the paper recommends.

import Foundation
import NN
import Tensors
import Weights

/// An MAE's encoder and decoder under the keyword arguments of the reference `models_mae.py` (timm's names).
public struct MaskedAutoencoderConfig: ModelConfig {
    /// Side of the square input and of each patch, in pixels (`img_size`, `patch_size`).
    public var imageSize = 224, patchSize = 16
    /// Encoder width, blocks and attention heads (`embed_dim`, `depth`, `num_heads`).
    public var embedDim = 768, depth = 12, heads = 12
    /// Decoder width, blocks and attention heads (`decoder_embed_dim`, `decoder_depth`, `decoder_num_heads`).
    public var decoderEmbedDim = 512, decoderDepth = 8, decoderHeads = 16
    /// MLP hidden width as a multiple of the block width, in encoder and decoder alike (`mlp_ratio`).
    public var mlpRatio: Float = 4
    /// Whether the loss targets each patch's pixels normalised to zero mean and unit variance (`norm_pix_loss`).
    public var normPixLoss = true
    /// Fraction of the patches hidden from the encoder (`mask_ratio`, in [0, 1)).
    public var maskRatio: Float = 0.75

    /// Patches per side.
    public var gridSize: Int { imageSize / patchSize }
    /// Patches per image (L).
    public var patches: Int { gridSize * gridSize }
    /// Patches the encoder sees: ⌊L · (1 − maskRatio)⌋, as the reference's `int(L * (1 - mask_ratio))`.
    public var keptPatches: Int { Int(Float(patches) * (1 - maskRatio)) }

    /// mae_vit_base_patch16's architecture unless told otherwise.
    public init(
        imageSize: Int = 224, patchSize: Int = 16, embedDim: Int = 768, depth: Int = 12, heads: Int = 12,
        decoderEmbedDim: Int = 512, decoderDepth: Int = 8, decoderHeads: Int = 16, mlpRatio: Float = 4,
        normPixLoss: Bool = true, maskRatio: Float = 0.75
    ) throws {
        (self.imageSize, self.patchSize, self.embedDim, self.depth, self.heads) =
            (imageSize, patchSize, embedDim, depth, heads)
        (self.decoderEmbedDim, self.decoderDepth, self.decoderHeads) = (decoderEmbedDim, decoderDepth, decoderHeads)
        (self.mlpRatio, self.normPixLoss, self.maskRatio) = (mlpRatio, normPixLoss, maskRatio)
        self = try checked()
    }

    /// `img_size`, `patch_size`, `embed_dim`, `depth`, `num_heads`, the three `decoder_` sizes, `mlp_ratio`,
    /// `norm_pix_loss` and `mask_ratio`.
    public var arguments: ModelArguments {
        [
            "img_size": .int(imageSize), "patch_size": .int(patchSize), "embed_dim": .int(embedDim),
            "depth": .int(depth), "num_heads": .int(heads), "decoder_embed_dim": .int(decoderEmbedDim),
            "decoder_depth": .int(decoderDepth), "decoder_num_heads": .int(decoderHeads),
            "mlp_ratio": .float(mlpRatio), "norm_pix_loss": .bool(normPixLoss), "mask_ratio": .float(maskRatio),
        ]
    }

    /// Reads the keyword arguments over mae_vit_base_patch16's; throws `ModelError.invalidArgument` for a value
    /// of the wrong type or out of bounds, an `img_size` not a multiple of `patch_size`, a width not a multiple
    /// of 4 (the sin-cos embedding) and of its head count, or a `mask_ratio` outside [0, 1).
    public init(_ arguments: ModelArguments) throws {
        imageSize = try arguments.int("img_size", default: imageSize)
        patchSize = try arguments.int("patch_size", default: patchSize)
        embedDim = try arguments.int("embed_dim", default: embedDim)
        depth = try arguments.int("depth", default: depth)
        heads = try arguments.int("num_heads", default: heads)
        decoderEmbedDim = try arguments.int("decoder_embed_dim", default: decoderEmbedDim)
        decoderDepth = try arguments.int("decoder_depth", default: decoderDepth)
        decoderHeads = try arguments.int("decoder_num_heads", default: decoderHeads)
        mlpRatio = try arguments.float("mlp_ratio", default: mlpRatio)
        normPixLoss = try arguments.bool("norm_pix_loss", default: normPixLoss)
        maskRatio = try arguments.float("mask_ratio", default: maskRatio)
        guard patchSize > 0, imageSize % patchSize == 0, embedDim % heads == 0, decoderEmbedDim % decoderHeads == 0,
            embedDim % 4 == 0, decoderEmbedDim % 4 == 0, maskRatio >= 0, maskRatio < 1
        else {
            throw ModelError.invalidArgument(
                model: arguments.model, argument: "img_size/embed_dim/mask_ratio",
                reason: "needs img_size divisible by patch_size, widths by heads and 4, 0 ≤ mask_ratio < 1")
        }
    }
}

/// MAE's `get_2d_sincos_pos_embed` with a zero class-token row: (1, 1 + g², dim), each patch
/// [sin(x·ω), cos(x·ω), sin(y·ω), cos(y·ω)] with ω_k = 10000^(−k/(dim/4)).
func sinCosPositionEmbedding(dim: Int, gridSize: Int) throws -> Tensor {
    let quarter = dim / 4
    var values = [Float](repeating: 0, count: dim)  // class token
    for y in 0..<gridSize {
        for x in 0..<gridSize {
            for coordinate in [x, y] {
                let angles = (0..<quarter).map {
                    Double(coordinate) / Foundation.pow(10000, Double($0) / Double(quarter))
                }
                values += angles.map { Float(Foundation.sin($0)) } + angles.map { Float(Foundation.cos($0)) }
            }
        }
    }
    return try Tensor(shape: [1, 1 + gridSize * gridSize, dim], scalars: values)
}

/// MAE pretraining with the reference `models_mae.py` layout: a ViT encoder on the kept patches and a light
/// decoder that predicts every patch's pixels. Not an `ImageClassifier`; `encoderStateDict()` exports the ViT.
public final class MaskedAutoencoder: Module {
    /// The architecture this model was built from.
    public let config: MaskedAutoencoderConfig
    let patchEmbed: PatchEmbed
    let classToken: Tensor, positionEmbedding: Tensor
    let blocks: ModuleList<TransformerBlock>
    let norm: LayerNorm
    let decoderEmbed: Linear
    let maskToken: Tensor, decoderPositionEmbedding: Tensor
    let decoderBlocks: ModuleList<TransformerBlock>
    let decoderNorm: LayerNorm, decoderPred: Linear

    /// Builds encoder and decoder; class and mask tokens are drawn with std 0.02, the position embeddings are
    /// fixed sin-cos buffers.
    public init(_ config: MaskedAutoencoderConfig) throws {
        self.config = config
        patchEmbed = try PatchEmbed(patchSize: config.patchSize, embedDim: config.embedDim)
        classToken = try Initialization.truncatedNormal([1, 1, config.embedDim], std: 0.02)
        positionEmbedding = try sinCosPositionEmbedding(dim: config.embedDim, gridSize: config.gridSize)
        blocks = ModuleList(
            try (0..<config.depth).map { _ in
                try TransformerBlock(dim: config.embedDim, heads: config.heads, mlpRatio: config.mlpRatio)
            })
        norm = try LayerNorm(config.embedDim, epsilon: 1e-6)
        decoderEmbed = try Linear(config.embedDim, config.decoderEmbedDim)
        maskToken = try Initialization.truncatedNormal([1, 1, config.decoderEmbedDim], std: 0.02)
        decoderPositionEmbedding = try sinCosPositionEmbedding(dim: config.decoderEmbedDim, gridSize: config.gridSize)
        decoderBlocks = ModuleList(
            try (0..<config.decoderDepth).map { _ in
                try TransformerBlock(dim: config.decoderEmbedDim, heads: config.decoderHeads, mlpRatio: config.mlpRatio)
            })
        decoderNorm = try LayerNorm(config.decoderEmbedDim, epsilon: 1e-6)
        decoderPred = try Linear(config.decoderEmbedDim, config.patchSize * config.patchSize * 3)
        super.init()
        register("patch_embed", patchEmbed)
        register(parameter: "cls_token", classToken)
        register(buffer: "pos_embed", positionEmbedding)
        register("blocks", blocks)
        register("norm", norm)
        register("decoder_embed", decoderEmbed)
        register(parameter: "mask_token", maskToken)
        register(buffer: "decoder_pos_embed", decoderPositionEmbedding)
        register("decoder_blocks", decoderBlocks)
        register("decoder_norm", decoderNorm)
        register("decoder_pred", decoderPred)
    }

    /// (B, 3, H, W) → (B, L, p·p·3), each patch's pixels in (row, column, channel) order.
    public func patchify(_ images: Tensor) throws -> Tensor {
        let (b, p, g) = (images.shape[0], config.patchSize, config.gridSize)
        return try images.reshaped([b, 3, g, p, g, p]).permuted([0, 2, 4, 3, 5, 1]).reshaped([b, g * g, p * p * 3])
    }

    /// patchify's inverse: (B, L, p·p·3) → (B, 3, H, W), to view predictions as images.
    public func unpatchify(_ patches: Tensor) throws -> Tensor {
        let (b, p, g) = (patches.shape[0], config.patchSize, config.gridSize)
        guard patches.shape == [b, g * g, p * p * 3] else {
            throw ModelError.unsupportedInput(
                model: "mae", shape: patches.shape, reason: "must be (B, \(g * g), \(p * p * 3))")
        }
        return try patches.reshaped([b, g, g, p, p, 3]).permuted([0, 5, 1, 3, 2, 4]).reshaped([b, 3, g * p, g * p])
    }

    /// Self-supervised loss on the removed patches, the prediction for every patch (B, L, p·p·3) and the mask
    /// (B, L; 1 = removed). `noise` (B, L) decides which patches are kept (smallest first); drawn when nil.
    public func callAsFunction(
        _ images: Tensor, noise: Tensor? = nil
    ) throws -> (loss: Tensor, pred: Tensor, mask: Tensor) {
        let encoded = try forwardEncoder(images, noise: noise)
        let pred = try forwardDecoder(encoded.latent, restore: encoded.restore)
        return (try loss(images, pred: pred, mask: encoded.mask), pred, encoded.mask)
    }

    /// The encoder on the kept patches: latent (B, 1 + kept, C) with the class token first, the mask and,
    /// per image, each patch's place in the kept-first order (to undo the shuffle).
    public func forwardEncoder(
        _ images: Tensor, noise: Tensor? = nil
    ) throws -> (latent: Tensor, mask: Tensor, restore: [[Int]]) {
        let (b, l) = (images.shape.first ?? 0, config.patches)
        guard images.rank == 4, images.shape[1] == 3, images.shape[2] == config.imageSize,
            images.shape[3] == config.imageSize
        else {
            throw ModelError.unsupportedInput(
                model: "mae", shape: images.shape, reason: "must be (B, 3, \(config.imageSize), \(config.imageSize))")
        }
        let noise = try noise ?? TrainingRandomness.draw { try Tensor.uniform([b, l], using: &$0) }
        guard noise.shape == [b, l] else {
            throw ModelError.unsupportedInput(
                model: "mae", shape: noise.shape, reason: "noise must be (\(b), \(l)), one value per patch")
        }
        // Random masking: sort patches by noise; the first `kept` stay visible.
        let kept = config.keptPatches
        let values = noise.scalars
        let shuffle = (0..<b).map { row in (0..<l).sorted { (values[row * l + $0], $0) < (values[row * l + $1], $1) } }
        var restore = [[Int]](repeating: [Int](repeating: 0, count: l), count: b)
        var maskValues = [Float](repeating: 0, count: b * l)
        for row in 0..<b {
            for (rank, patch) in shuffle[row].enumerated() {
                restore[row][patch] = rank
                maskValues[row * l + patch] = rank < kept ? 0 : 1
            }
        }
        var x = try patchEmbed(images) + positionEmbedding.slice(axis: 1, 1..<l + 1)
        x = try x.selectRows(shuffle.map { Array($0.prefix(kept)) })
        let classRow = try classToken + positionEmbedding.slice(axis: 1, 0..<1)
        x = try Tensor.concat([classRow.expanded(to: [b, 1, config.embedDim]), x], axis: 1)
        for block in blocks.items { x = try block(x) }
        return (try norm(x), try Tensor(shape: [b, l], scalars: maskValues), restore)
    }

    /// Mask tokens fill the removed places, everything returns to image order, the decoder predicts each
    /// patch's pixels: (B, L, p·p·3).
    public func forwardDecoder(_ latent: Tensor, restore: [[Int]]) throws -> Tensor {
        let (b, l, d) = (latent.shape[0], config.patches, config.decoderEmbedDim)
        let kept = latent.shape[1] - 1
        var x = try decoderEmbed(latent)
        let shuffled = try Tensor.concat(
            [x.slice(axis: 1, 1..<kept + 1), maskToken.expanded(to: [b, l - kept, d])], axis: 1)
        x =
            try Tensor.concat([x.slice(axis: 1, 0..<1), shuffled.selectRows(restore)], axis: 1)
            + decoderPositionEmbedding
        for block in decoderBlocks.items { x = try block(x) }
        return try decoderPred(decoderNorm(x)).slice(axis: 1, 1..<l + 1)
    }

    /// Mean squared error per patch, averaged over the removed patches only.
    public func loss(_ images: Tensor, pred: Tensor, mask: Tensor) throws -> Tensor {
        var target = try patchify(images).detached()
        if config.normPixLoss {
            let mean = try target.mean(axes: [2], keepDims: true)
            let variance = try target.variance(axes: [2], keepDims: true)
            target = try (target - mean) / (variance + 1e-6).sqrt()
        }
        let perPatch = try (pred - target).squared().mean(axes: [2])
        let removed = mask.scalars.reduce(0, +)
        return try (perPatch * mask).sum() * (1 / max(removed, 1))
    }

    /// The encoder under timm ViT keys (`patch_embed.*`, `cls_token`, `pos_embed`, `blocks.*`, `norm.*`):
    /// loads strictly into `vit_*_patch16_224` built with `num_classes: 0` (or non-strictly with a head).
    public func encoderStateDict() -> StateDict {
        let encoderKeys = ["patch_embed.", "blocks.", "norm."]
        return StateDict(
            exportStateDict().filter { entry in
                entry.key == "cls_token" || entry.key == "pos_embed" || encoderKeys.contains { entry.key.hasPrefix($0) }
            }.map { ($0.key, $0.tensor) })
    }
}

/// One MAE preset: its typed architecture and the timm ViT its encoder exports to.
public struct MaskedAutoencoderEntry: Sendable {
    /// The preset's name (`mae_vit_base_patch16`).
    public let name: String
    /// The timm ViT whose state dict `encoderStateDict()` produces.
    public let encoder: String
    /// Trainable parameters (the fixed sin-cos position embeddings are buffers).
    public let parameterCount: Int
    private let makePreset: @Sendable () throws -> MaskedAutoencoderConfig

    init(
        name: String, encoder: String, parameterCount: Int,
        preset: @autoclosure @escaping @Sendable () throws -> MaskedAutoencoderConfig
    ) {
        (self.name, self.encoder, self.parameterCount, makePreset) = (name, encoder, parameterCount, preset)
    }

    /// The typed architecture of this preset.
    public func preset() throws -> MaskedAutoencoderConfig { try makePreset() }
    /// The keyword arguments `create(_:)` accepts: every field of the configuration.
    public static let accepted: Set<String> = [
        "img_size", "patch_size", "embed_dim", "depth", "num_heads", "decoder_embed_dim",
        "decoder_depth", "decoder_num_heads", "mlp_ratio", "norm_pix_loss", "mask_ratio",
    ]

    /// A freshly initialised MAE of this preset, `arguments` overriding it; throws `ModelError.unknownArgument`
    /// for a key outside `accepted` and `ModelError.invalidArgument` for a value the configuration refuses.
    public func create(_ arguments: ModelArguments = [:]) throws -> MaskedAutoencoder {
        for key in arguments.values.keys.sorted() where !Self.accepted.contains(key) {
            throw ModelError.unknownArgument(model: name, argument: key, accepted: Array(Self.accepted))
        }
        var merged = arguments.merged(over: try preset().arguments)
        merged.model = name
        return try MaskedAutoencoder(MaskedAutoencoderConfig(merged))
    }
}

/// MAE presets by name (`zoo pretrain-mae --model mae_vit_…`); separate from ModelRegistry because an
/// MAE is not a classifier.
public enum MaskedAutoencoderRegistry {
    static func entry(
        _ name: String, encoder: String, dim: Int, heads: Int, decoder: (dim: Int, depth: Int, heads: Int),
        parameters: Int
    ) -> MaskedAutoencoderEntry {
        MaskedAutoencoderEntry(
            name: name, encoder: encoder, parameterCount: parameters,
            preset: try MaskedAutoencoderConfig(
                embedDim: dim, heads: heads, decoderEmbedDim: decoder.dim, decoderDepth: decoder.depth,
                decoderHeads: decoder.heads))
    }

    /// mae_vit_tiny_patch16, mae_vit_small_patch16 and mae_vit_base_patch16, exporting to the matching ViTs.
    /// Parameter counts from make_parity.py's MAEReference with these settings, position embeddings excluded.
    public static let entries: [MaskedAutoencoderEntry] = [
        entry(
            "mae_vit_tiny_patch16", encoder: "vit_tiny_patch16_224", dim: 192, heads: 3, decoder: (128, 4, 4),
            parameters: 6_403_840),
        entry(
            "mae_vit_small_patch16", encoder: "vit_small_patch16_224", dim: 384, heads: 6, decoder: (256, 4, 8),
            parameters: 25_045_760),
        entry(
            "mae_vit_base_patch16", encoder: "vit_base_patch16_224", dim: 768, heads: 12, decoder: (512, 8, 16),
            parameters: 111_655_680),
    ]

    /// A freshly initialised MAE of the preset `name`, `arguments` overriding it.
    /// - Parameters:
    ///   - name: an entry's name (`mae_vit_tiny_patch16`, …).
    ///   - arguments: keyword arguments from `MaskedAutoencoderEntry.accepted` (`img_size`, `mask_ratio`, …).
    /// - Returns: the model, in evaluation mode as every new `Module`.
    /// - Throws: `ModelError.unknownModel` with the nearest entries' names, or what
    ///   `MaskedAutoencoderEntry.create(_:)` throws.
    public static func create(_ name: String, _ arguments: ModelArguments = [:]) throws -> MaskedAutoencoder {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw ModelError.unknownModel(name: name, suggestions: nearestNames(to: name, among: entries.map(\.name)))
        }
        return try entry.create(arguments)
    }
}
