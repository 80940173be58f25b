import Foundation
import XCTest
import ZooTestSupport

@testable import Weights

/// Every shared parity fixture (written by the reference `safetensors` package from timm) loads with the
/// header's key count, the right shapes and the right values.
final class ParityFixtureTests: XCTestCase {
    func testAllParityFixturesLoad() throws {
        let directory = try Fixtures.parityDirectory()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".safetensors") }.sorted()
        XCTAssertEqual(
            files, parityReferences.map(\.file).sorted(), "fixtures added or removed; regenerate the table below")
        for reference in parityReferences where files.contains(reference.file) {
            let dict = try loadSafetensors(directory.appendingPathComponent(reference.file))
            XCTAssertEqual(dict.count, reference.keyCount, reference.file)
            XCTAssertEqual(dict.reduce(0) { $0 + $1.tensor.elementCount }, reference.elementCount, reference.file)
            for spot in reference.spots {
                guard let tensor = dict[spot.key] else {
                    XCTFail("\(reference.file): no key \(spot.key)")
                    continue
                }
                XCTAssertEqual(tensor.shape, spot.shape, "\(reference.file) \(spot.key)")
                for (index, value) in spot.values {
                    XCTAssertEqual(tensor.values[index], value, "\(reference.file) \(spot.key)[\(index)]")
                }
            }
        }
    }

    func testParityFixturesLoadThroughDispatchAndSurviveARoundTrip() throws {
        let directory = try Fixtures.parityDirectory()
        let source = directory.appendingPathComponent("resnet18_tiny.safetensors")
        let original = try loadWeights(source)
        let copy = try makeTemporaryDirectory(self).appendingPathComponent("copy.safetensors")
        try saveSafetensors(original, to: copy)
        XCTAssertEqual(try loadSafetensors(copy), original)
    }
}

private struct Spot {
    var key: String
    var shape: [Int]
    /// (flat row-major index, value)
    var values: [(Int, Float)]
}

private struct ParityReference {
    var file: String
    var keyCount: Int
    var elementCount: Int
    var spots: [Spot]
}

// Read independently with Python's json + struct (no torch, no safetensors package):
//   n = struct.unpack('<Q', b[:8])[0]; header = json.loads(b[8:8+n]); header.pop('__metadata__', None)
//   keyCount = len(header); elementCount = sum(prod(shape)); spots: the first and middle F32 tensors and the
//   last tensor in data order plus the first I64 one; value i = struct.unpack('<f' or '<q', data[begin + i*size:…]).
private let parityReferences: [ParityReference] = [
    ParityReference(
        file: "densenet121_tiny.io.safetensors", keyCount: 2, elementCount: 24596,
        spots: [
            Spot(
                key: "input", shape: [2, 3, 64, 64], values: [(0, -1.0408011674880981), (24575, 0.5476584434509277)]),
            Spot(key: "output", shape: [2, 10], values: [(0, 0.8069777488708496), (19, 0.23971283435821533)]),
        ]),
    ParityReference(
        file: "densenet121_tiny.safetensors", keyCount: 127, elementCount: 30031,
        spots: [
            Spot(key: "features.denseblock1.denselayer1.norm1.num_batches_tracked", shape: [], values: [(0, 0.0)]),
            Spot(
                key: "features.denseblock3.denselayer2.conv1.weight", shape: [32, 24, 1, 1],
                values: [(0, -0.20179061591625214), (767, -0.034877192229032516)]),
            Spot(
                key: "features.transition3.norm.weight", shape: [32],
                values: [(0, 0.986988365650177), (31, 1.211730718612671)]),
        ]),
    ParityReference(
        file: "mae_tiny.io.safetensors", keyCount: 5, elementCount: 12353,
        spots: [
            Spot(
                key: "input", shape: [2, 3, 32, 32], values: [(0, -0.07664429396390915), (6143, 0.6937316656112671)]),
            Spot(key: "mask", shape: [2, 16], values: [(0, 1.0), (31, 1.0)]),
            Spot(key: "pred", shape: [2, 16, 192], values: [(0, -0.2830069661140442), (6143, -0.9125126600265503)]),
        ]),
    ParityReference(
        file: "mae_tiny.safetensors", keyCount: 50, elementCount: 88016,
        spots: [
            Spot(
                key: "blocks.0.attn.proj.bias", shape: [48],
                values: [(0, -0.018013255670666695), (47, -0.056540217250585556)]),
            Spot(
                key: "decoder_blocks.0.attn.proj.bias", shape: [32],
                values: [(0, -0.0836920514702797), (31, -0.05953133851289749)]),
            Spot(
                key: "pos_embed", shape: [1, 17, 48], values: [(0, -0.03246520459651947), (815, -0.041382208466529846)]),
        ]),
    ParityReference(
        file: "mixer_tiny.io.safetensors", keyCount: 2, elementCount: 24596,
        spots: [
            Spot(
                key: "input", shape: [2, 3, 64, 64], values: [(0, -1.0408011674880981), (24575, 0.5476584434509277)]),
            Spot(key: "output", shape: [2, 10], values: [(0, -0.32051751017570496), (19, 0.007373929023742676)]),
        ]),
    ParityReference(
        file: "mixer_tiny.safetensors", keyCount: 30, elementCount: 118826,
        spots: [
            Spot(
                key: "blocks.0.mlp_channels.fc1.bias", shape: [256],
                values: [(0, 0.09242034703493118), (255, -0.18440018594264984)]),
            Spot(
                key: "blocks.1.mlp_channels.fc2.weight", shape: [64, 256],
                values: [(0, 0.06456341594457626), (16383, -0.03874699026346207)]),
            Spot(
                key: "stem.proj.weight", shape: [64, 3, 16, 16],
                values: [(0, -0.05505020171403885), (49151, 0.03003368154168129)]),
        ]),
    ParityReference(
        file: "mobilenetv2_035.io.safetensors", keyCount: 2, elementCount: 24596,
        spots: [
            Spot(
                key: "input", shape: [2, 3, 64, 64], values: [(0, -1.0408011674880981), (24575, 0.5476584434509277)]),
            Spot(key: "output", shape: [2, 10], values: [(0, -0.5649138689041138), (19, -0.06726304441690445)]),
        ]),
    ParityReference(
        file: "mobilenetv2_035.safetensors", keyCount: 314, elementCount: 423070,
        spots: [
            Spot(key: "blocks.0.0.bn1.num_batches_tracked", shape: [], values: [(0, 0.0)]),
            Spot(
                key: "blocks.3.3.bn1.running_mean", shape: [144],
                values: [(0, -0.025743579491972923), (143, -0.2729701101779938)]),
            Spot(
                key: "conv_stem.weight", shape: [16, 3, 3, 3],
                values: [(0, -0.29360106587409973), (431, 0.4334658086299896)]),
        ]),
    ParityReference(
        file: "mobilenetv3_small_050.io.safetensors", keyCount: 2, elementCount: 24596,
        spots: [
            Spot(
                key: "input", shape: [2, 3, 64, 64], values: [(0, -1.0408011674880981), (24575, 0.5476584434509277)]),
            Spot(key: "output", shape: [2, 10], values: [(0, -0.004776583984494209), (19, -0.22165483236312866)]),
        ]),
    ParityReference(
        file: "mobilenetv3_small_050.safetensors", keyCount: 244, elementCount: 585004,
        spots: [
            Spot(key: "blocks.0.0.bn1.num_batches_tracked", shape: [], values: [(0, 0.0)]),
            Spot(
                key: "blocks.3.0.bn2.bias", shape: [72], values: [(0, -0.22046108543872833), (71, 0.08722903579473495)]),
            Spot(
                key: "conv_stem.weight", shape: [16, 3, 3, 3],
                values: [(0, -0.29360106587409973), (431, 0.4334658086299896)]),
        ]),
    ParityReference(
        file: "poolformer_tiny.io.safetensors", keyCount: 2, elementCount: 24596,
        spots: [
            Spot(
                key: "input", shape: [2, 3, 64, 64], values: [(0, -1.0408011674880981), (24575, 0.5476584434509277)]),
            Spot(key: "output", shape: [2, 10], values: [(0, 0.19071878492832184), (19, 0.28457891941070557)]),
        ]),
    ParityReference(
        file: "poolformer_tiny.safetensors", keyCount: 52, elementCount: 112570,
        spots: [
            Spot(key: "head.fc.bias", shape: [10], values: [(0, -0.14355190098285675), (9, 0.12531250715255737)]),
            Spot(
                key: "stages.2.blocks.0.layer_scale1.scale", shape: [48],
                values: [(0, 1.2220410108566284), (47, 1.058555245399475)]),
            Spot(
                key: "stem.conv.weight", shape: [16, 3, 7, 7],
                values: [(0, -0.12582902610301971), (2351, 0.02016172930598259)]),
        ]),
    ParityReference(
        file: "resnet18_tiny.io.safetensors", keyCount: 2, elementCount: 24596,
        spots: [
            Spot(
                key: "input", shape: [2, 3, 64, 64], values: [(0, -1.0408011674880981), (24575, 0.5476584434509277)]),
            Spot(key: "output", shape: [2, 10], values: [(0, 0.3072514533996582), (19, -0.8677853345870972)]),
        ]),
    ParityReference(
        file: "resnet18_tiny.safetensors", keyCount: 80, elementCount: 92727,
        spots: [
            Spot(key: "bn1.num_batches_tracked", shape: [], values: [(0, 0.0)]),
            Spot(
                key: "layer2.0.downsample.1.bias", shape: [16],
                values: [(0, 0.03639386221766472), (15, -0.08555035293102264)]),
            Spot(
                key: "layer4.0.downsample.1.weight", shape: [64],
                values: [(0, 1.0901790857315063), (63, 0.9066104292869568)]),
        ]),
    ParityReference(
        file: "resnet50_tiny.io.safetensors", keyCount: 2, elementCount: 24596,
        spots: [
            Spot(
                key: "input", shape: [2, 3, 64, 64], values: [(0, -1.0408011674880981), (24575, 0.5476584434509277)]),
            Spot(key: "output", shape: [2, 10], values: [(0, -0.277559757232666), (19, -0.24759450554847717)]),
        ]),
    ParityReference(
        file: "resnet50_tiny.safetensors", keyCount: 122, elementCount: 148830,
        spots: [
            Spot(key: "bn1.num_batches_tracked", shape: [], values: [(0, 0.0)]),
            Spot(
                key: "layer2.1.bn2.bias", shape: [16], values: [(0, -0.07344508171081543), (15, 0.048970188945531845)]),
            Spot(
                key: "layer4.0.downsample.1.weight", shape: [256],
                values: [(0, 1.0294026136398315), (255, 1.4126948118209839)]),
        ]),
    ParityReference(
        file: "seresnet50_tiny.io.safetensors", keyCount: 2, elementCount: 24596,
        spots: [
            Spot(
                key: "input", shape: [2, 3, 64, 64], values: [(0, -1.0408011674880981), (24575, 0.5476584434509277)]),
            Spot(key: "output", shape: [2, 10], values: [(0, -0.12882907688617706), (19, -0.2081914097070694)]),
        ]),
    ParityReference(
        file: "seresnet50_tiny.safetensors", keyCount: 120, elementCount: 156387,
        spots: [
            Spot(key: "bn1.num_batches_tracked", shape: [], values: [(0, 0.0)]),
            Spot(
                key: "layer2.0.se.fc1.bias", shape: [8], values: [(0, 0.13701064884662628), (7, -0.02668001689016819)]),
            Spot(
                key: "layer4.0.se.fc2.weight", shape: [256, 16, 1, 1],
                values: [(0, -0.12875379621982574), (4095, -0.03944675624370575)]),
        ]),
    ParityReference(
        file: "swin_tiny_window4.io.safetensors", keyCount: 2, elementCount: 24596,
        spots: [
            Spot(
                key: "input", shape: [2, 3, 64, 64], values: [(0, -1.0408011674880981), (24575, 0.5476584434509277)]),
            Spot(key: "output", shape: [2, 10], values: [(0, -1.854953408241272), (19, -0.9973584413528442)]),
        ]),
    ParityReference(
        file: "swin_tiny_window4.safetensors", keyCount: 82, elementCount: 806185,
        spots: [
            Spot(key: "head.fc.bias", shape: [10], values: [(0, -0.14892767369747162), (9, -0.16268500685691833)]),
            Spot(
                key: "layers.2.blocks.0.norm1.weight", shape: [96],
                values: [(0, 0.8832365274429321), (95, 1.040371060371399)]),
            Spot(
                key: "patch_embed.proj.weight", shape: [24, 3, 4, 4],
                values: [(0, -0.2202008068561554), (1151, -0.05556907132267952)]),
        ]),
    ParityReference(
        file: "tf_efficientnet_lite0_tiny.io.safetensors", keyCount: 2, elementCount: 24596,
        spots: [
            Spot(
                key: "input", shape: [2, 3, 64, 64], values: [(0, -1.0408011674880981), (24575, 0.5476584434509277)]),
            Spot(key: "output", shape: [2, 10], values: [(0, 0.0859932005405426), (19, 0.10082238912582397)]),
        ]),
    ParityReference(
        file: "tf_efficientnet_lite0_tiny.safetensors", keyCount: 188, elementCount: 699401,
        spots: [
            Spot(key: "blocks.0.0.bn1.num_batches_tracked", shape: [], values: [(0, 0.0)]),
            Spot(
                key: "blocks.4.0.bn3.bias", shape: [56],
                values: [(0, -0.041264574974775314), (55, 0.006581231486052275)]),
            Spot(
                key: "conv_stem.weight", shape: [32, 3, 3, 3],
                values: [(0, -0.29360106587409973), (863, -0.2274976372718811)]),
        ]),
    ParityReference(
        file: "vit_tiny_patch16_tiny.io.safetensors", keyCount: 2, elementCount: 24596,
        spots: [
            Spot(
                key: "input", shape: [2, 3, 64, 64], values: [(0, -1.0408011674880981), (24575, 0.5476584434509277)]),
            Spot(key: "output", shape: [2, 10], values: [(0, 2.0026462078094482), (19, 0.6979265809059143)]),
        ]),
    ParityReference(
        file: "vit_tiny_patch16_tiny.safetensors", keyCount: 32, elementCount: 1_043_146,
        spots: [
            Spot(
                key: "blocks.0.attn.proj.bias", shape: [192],
                values: [(0, -0.14865867793560028), (191, -0.0905819907784462)]),
            Spot(
                key: "blocks.1.mlp.fc1.bias", shape: [768],
                values: [(0, 0.027248749509453773), (767, 0.010381425730884075)]),
            Spot(
                key: "pos_embed", shape: [1, 17, 192],
                values: [(0, -0.009951019659638405), (3263, 0.0005888515152037144)]),
        ]),
    ParityReference(
        file: "volo_tiny.io.safetensors", keyCount: 2, elementCount: 24596,
        spots: [
            Spot(
                key: "input", shape: [2, 3, 64, 64], values: [(0, -1.0408011674880981), (24575, 0.5476584434509277)]),
            Spot(key: "output", shape: [2, 10], values: [(0, -1.5974284410476685), (19, 0.3358634114265442)]),
        ]),
    ParityReference(
        file: "volo_tiny.safetensors", keyCount: 100, elementCount: 346312,
        spots: [
            Spot(key: "patch_embed.conv.1.num_batches_tracked", shape: [], values: [(0, 0.0)]),
            Spot(
                key: "network.4.0.mlp.fc2.weight", shape: [64, 192],
                values: [(0, -0.01996568590402603), (12287, -0.1830267310142517)]),
            Spot(
                key: "post_network.1.norm2.weight", shape: [64],
                values: [(0, 0.5928769111633301), (63, 0.9332162141799927)]),
        ]),
]
