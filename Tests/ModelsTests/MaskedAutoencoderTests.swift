import NN
import Randomness
import Tensors
import Weights
import XCTest
import ZooTestSupport

@testable import Models

final class MaskedAutoencoderTests: XCTestCase {
    func fixtureModel() throws -> MaskedAutoencoder {
        guard let fixture = try Fixtures.parityManifest().first(where: { $0.name == "mae_tiny" }) else {
            throw XCTSkip("no mae_tiny fixture")
        }
        let model = try MaskedAutoencoderRegistry.create("mae_vit_tiny_patch16", parityArguments(fixture.timmArguments))
        try model.load(Fixtures.parityWeights("mae_tiny"))
        return model
    }

    /// Loss, per-patch prediction and mask from the reference MAE for the fixture's images and noise.
    func testParity() throws {
        let model = try fixtureModel()
        let io = try Fixtures.parityIO("mae_tiny")
        let images = try Tensor(shape: io["input"]!.shape, scalars: io["input"]!.values)
        let noise = try Tensor(shape: io["noise"]!.shape, scalars: io["noise"]!.values)
        let (loss, pred, mask) = try withoutGrad { try model(images, noise: noise) }
        XCTAssertEqual(mask.scalars, io["mask"]!.values)
        XCTAssertEqual(pred.shape, io["pred"]!.shape)
        Fixtures.assertParity(pred.scalars, io["pred"]!.values, "mae_tiny pred")
        Fixtures.assertParity([loss.item], io["loss"]!.values, "mae_tiny loss")
        print(
            "parity mae_tiny: loss \(loss.item) vs \(io["loss"]!.values[0]); pred max |diff| \(zip(pred.scalars, io["pred"]!.values).map { abs($0 - $1) }.max() ?? .nan)"
        )
    }

    /// Central finite differences of the loss against backward, for a few elements of several parameters.
    func testLossGradientMatchesFiniteDifferences() throws {
        let model = try fixtureModel()
        let io = try Fixtures.parityIO("mae_tiny")
        let images = try Tensor(shape: io["input"]!.shape, scalars: io["input"]!.values)
        let noise = try Tensor(shape: io["noise"]!.shape, scalars: io["noise"]!.values)
        try model(images, noise: noise).loss.backward()
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.tensor) })
        let lossValue = { try withoutGrad { Double(try model(images, noise: noise).loss.item) } }
        let epsilon: Float = 1e-2
        for name in [
            "patch_embed.proj.weight", "cls_token", "blocks.1.attn.qkv.weight", "norm.weight", "decoder_embed.bias",
            "mask_token", "decoder_blocks.0.mlp.fc1.weight", "decoder_pred.weight",
        ] {
            let parameter = try XCTUnwrap(parameters[name], name)
            let analytic = try XCTUnwrap(parameter.grad, name).scalars
            for i in stride(from: 0, to: parameter.count, by: max(1, parameter.count / 3)) {
                let original = parameter.scalars[i]
                parameter.withUnsafeMutableBufferPointer { $0[i] = original + epsilon }
                let plus = try lossValue()
                parameter.withUnsafeMutableBufferPointer { $0[i] = original - epsilon }
                let minus = try lossValue()
                parameter.withUnsafeMutableBufferPointer { $0[i] = original }
                let numeric = Float((plus - minus) / Double(2 * epsilon))
                XCTAssertEqual(analytic[i], numeric, accuracy: 2e-2 * max(1, abs(numeric)), "\(name)[\(i)]")
            }
        }
    }

    func testTrainingStepReachesEveryParameter() throws {
        let model = try MaskedAutoencoderRegistry.create(
            "mae_vit_tiny_patch16",
            [
                "img_size": 32, "patch_size": 8, "embed_dim": 16, "depth": 1,
                "num_heads": 2, "decoder_embed_dim": 8, "decoder_depth": 1,
                "decoder_num_heads": 2,
            ])
        model.train()
        var rng = RandomGenerator(seed: 11)
        let (loss, _, mask) = try model(Tensor.normal([2, 3, 32, 32], using: &rng))
        XCTAssertEqual(mask.scalars.reduce(0, +), 2 * 12)  // 75 % of 16 patches removed per image
        try loss.backward()
        for (name, parameter) in model.namedParameters() {
            let grad = try XCTUnwrap(parameter.grad, "\(name): no gradient")
            XCTAssertTrue(grad.scalars.contains { $0 != 0 }, "\(name): all-zero gradient")
        }
        XCTAssertFalse(
            model.namedParameters().contains { $0.name.contains("pos_embed") }, "sin-cos position embeddings are fixed")
    }

    /// The exported encoder loads strictly into the timm ViT and computes what the MAE encoder computes
    /// when nothing is masked (noise in patch order keeps the order).
    func testEncoderExportsAsTimmViT() throws {
        let mae = try fixtureModel()
        let unmasked = try MaskedAutoencoderRegistry.create(
            "mae_vit_tiny_patch16",
            [
                "img_size": 32, "patch_size": 8, "embed_dim": 48, "depth": 2,
                "num_heads": 3, "decoder_embed_dim": 32, "decoder_depth": 1,
                "decoder_num_heads": 2, "mask_ratio": 0,
            ])
        try unmasked.load(mae.exportStateDict())
        let vit = try ModelRegistry.create(
            "vit_tiny_patch16_224",
            [
                "img_size": 32, "patch_size": 8, "embed_dim": 48, "depth": 2,
                "num_heads": 3, "num_classes": 0,
            ])
        try vit.load(mae.encoderStateDict())
        let io = try Fixtures.parityIO("mae_tiny")
        let images = try Tensor(shape: io["input"]!.shape, scalars: io["input"]!.values)
        let order = try Tensor(shape: [2, 16], scalars: (0..<32).map { Float($0 % 16) })
        let (latent, mask, _) = try withoutGrad { try unmasked.forwardEncoder(images, noise: order) }
        XCTAssertEqual(mask.scalars, [Float](repeating: 0, count: 32))
        let features = try withoutGrad { try vit.forwardFeatures(images) }
        Fixtures.assertParity(features.scalars, latent.scalars, "mae encoder → vit")
    }

    /// patchify matches the reference's einsum layout (first patch = top-left p×p pixels, channel fastest)
    /// and unpatchify undoes it.
    func testPatchifyRoundTrip() throws {
        let model = try MaskedAutoencoderRegistry.create(
            "mae_vit_tiny_patch16",
            [
                "img_size": 4, "patch_size": 2, "embed_dim": 8, "depth": 1,
                "num_heads": 2, "decoder_embed_dim": 4, "decoder_depth": 1,
                "decoder_num_heads": 1,
            ])
        let images = try Tensor(shape: [1, 3, 4, 4], scalars: (0..<48).map(Float.init))
        let patches = try model.patchify(images)
        XCTAssertEqual(patches.shape, [1, 4, 12])
        // (c, y, x) ↦ 16c + 4y + x; patch 0 holds (y, x) ∈ {0,1}², each as (R, G, B).
        XCTAssertEqual(Array(patches.scalars[0..<12]), [0, 16, 32, 1, 17, 33, 4, 20, 36, 5, 21, 37])
        XCTAssertEqual(try model.unpatchify(patches).scalars, images.scalars)
    }

    /// Expected row: MAE's get_2d_sincos_pos_embed(8, 2, cls_token=True)[3] (patch x=0, y=1).
    func testSinCosPositionEmbedding() throws {
        let embedding = try sinCosPositionEmbedding(dim: 8, gridSize: 2)
        XCTAssertEqual(embedding.shape, [1, 5, 8])
        let row = Array(embedding.scalars[24..<32])
        let expected: [Float] = [0, 0, 1, 1, 0.841471, 0.01, 0.540302, 0.99995]
        for (a, e) in zip(row, expected) { XCTAssertEqual(a, e, accuracy: 1e-5) }
        XCTAssertEqual(Array(embedding.scalars[0..<8]), [Float](repeating: 0, count: 8))
    }

    func testPresetParameterCounts() throws {
        for entry in MaskedAutoencoderRegistry.entries {
            XCTAssertEqual(try entry.create().parameterCount, entry.parameterCount, entry.name)
        }
        XCTAssertThrowsError(try MaskedAutoencoderRegistry.create("mae_vit_tiny_patch16", ["depht": 2]))
        XCTAssertThrowsError(try MaskedAutoencoderRegistry.create("mae_vit_huge_patch14"))
    }
}
