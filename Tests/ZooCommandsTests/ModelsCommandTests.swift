import Foundation
import XCTest
import ZooTestSupport

/// timm 1.0.31: `m = timm.create_model(name)`; `sum(p.numel() for p in m.parameters())` and `m.pretrained_cfg["tag"]`.
private let timmModels: [String: (Int, String)] = [
    "resnet18": (11_689_512, "a1_in1k"),
    "resnet34": (21_797_672, "a1_in1k"),
    "resnet50": (25_557_032, "a1_in1k"),
    "resnet101": (44_549_160, "a1h_in1k"),
    "resnet152": (60_192_808, "a1h_in1k"),
    "seresnet50": (28_088_024, "a1_in1k"),
    "seresnet101": (49_326_872, "untrained"),
    "tf_efficientnet_lite0": (4_652_008, "in1k"),
    "tf_efficientnet_lite1": (5_416_680, "in1k"),
    "tf_efficientnet_lite2": (6_092_072, "in1k"),
    "tf_efficientnet_lite3": (8_197_096, "in1k"),
    "tf_efficientnet_lite4": (13_006_568, "in1k"),
    "mobilenetv2_035": (1_677_128, "untrained"),
    "mobilenetv2_050": (1_968_680, "lamb_in1k"),
    "mobilenetv2_075": (2_636_424, "untrained"),
    "mobilenetv2_100": (3_504_872, "ra_in1k"),
    "mobilenetv2_140": (6_108_776, "ra_in1k"),
    "mobilenetv3_small_050": (1_593_224, "lamb_in1k"),
    "mobilenetv3_small_075": (2_041_872, "lamb_in1k"),
    "mobilenetv3_small_100": (2_542_856, "lamb_in1k"),
    "mobilenetv3_large_075": (3_993_528, "untrained"),
    "mobilenetv3_large_100": (5_483_032, "ra_in1k"),
    "densenet121": (7_978_856, "ra_in1k"),
    "densenet169": (14_149_480, "tv_in1k"),
    "densenet201": (20_013_928, "tv_in1k"),
    "vit_tiny_patch16_224": (5_717_416, "augreg_in21k_ft_in1k"),
    "vit_small_patch16_224": (22_050_664, "augreg_in21k_ft_in1k"),
    "vit_base_patch16_224": (86_567_656, "augreg2_in21k_ft_in1k"),
    "vit_base_patch32_224": (88_224_232, "augreg_in21k_ft_in1k"),
    "mixer_s16_224": (18_528_264, "untrained"),
    "mixer_b16_224": (59_880_472, "goog_in21k_ft_in1k"),
    "poolformer_s12": (11_915_176, "sail_in1k"),
    "poolformer_s24": (21_388_968, "sail_in1k"),
    "poolformer_s36": (30_862_760, "sail_in1k"),
    "swin_tiny_patch4_window7_224": (28_288_354, "ms_in1k"),
    "swin_small_patch4_window7_224": (49_606_258, "ms_in22k_ft_in1k"),
    "swin_base_patch4_window7_224": (87_768_224, "ms_in22k_ft_in1k"),
    "volo_d1_224": (26_632_040, "sail_in1k"),
    "volo_d2_224": (58_678_336, "sail_in1k"),
]

/// `zoo models --json` end to end.
final class ModelsCommandTests: XCTestCase {
    struct Row: Decodable {
        var name: String, family: String, params: Int, gflops: Double, inputSize: [Int]
        var pretrainedTag: String, cropPct: Float, interpolation: String, mean: [Float], std: [Float]
    }

    func testJSONListsEveryFamilyWithTimmParameterCounts() throws {
        let zoo = try builtZoo()
        let (status, stdout, stderr) = try runZoo(zoo, ["models", "--json"])
        XCTAssertEqual(status, 0, stderr)
        let rows = try snakeCaseDecoder.decode([Row].self, from: Data(stdout.utf8))
        XCTAssertEqual(
            Set(rows.map(\.family)),
            [
                "resnet", "seresnet", "mobilenetv2", "mobilenetv3", "efficientnet_lite", "densenet",
                "vit", "swin", "mixer", "poolformer", "volo",
            ])
        XCTAssertEqual(Set(rows.map(\.name)).count, rows.count, "duplicate names")
        let byName = Dictionary(uniqueKeysWithValues: rows.map { ($0.name, $0) })
        for (name, (parameters, tag)) in timmModels {
            let row = try XCTUnwrap(byName[name], "\(name) missing from `zoo models`")
            XCTAssertEqual(row.params, parameters, name)
            XCTAssertEqual(row.pretrainedTag, tag, name)
        }
        XCTAssertEqual(byName["resnet50"]?.cropPct, 0.95)
        XCTAssertEqual(byName["vit_small_patch16_224"]?.mean, [0.5, 0.5, 0.5])
        for row in rows {
            XCTAssertEqual(row.inputSize.count, 3, row.name)
            XCTAssertGreaterThan(row.params, 0, row.name)
            XCTAssertGreaterThan(row.gflops, 0, row.name)
        }
    }

    /// `zoo models --json` lists every Hub tag timm has for our models with timm's pretrained config
    /// (`Tests/ModelsTests/Fixtures/timm_pretrained_cfgs.json`, written by scripts/timm-pretrained-tags.py).
    func testModelsJSONAgreesWithTimmForEveryTag() throws {
        struct TimmConfig: Decodable, Equatable {
            var hfHubId: String, inputSize: [Int], mean: [Float], std: [Float], cropPct: Float,
                interpolation: String
            var numClasses: Int
        }
        struct Row: Decodable {
            var name: String
            var tags: [Tag]
        }
        struct Tag: Decodable {
            var name: String, hfHubId: String?, inputSize: [Int], mean: [Float], std: [Float], cropPct: Float
            var interpolation: String, numClasses: Int
        }
        let fixture = Fixtures.packageRoot.appendingPathComponent(
            "Tests/ModelsTests/Fixtures/timm_pretrained_cfgs.json")
        let timm = try snakeCaseDecoder.decode([String: TimmConfig].self, from: Data(contentsOf: fixture))
        let (status, stdout, stderr) = try runZoo(try builtZoo(), ["models", "--json"])
        XCTAssertEqual(status, 0, stderr)
        let tags = try snakeCaseDecoder.decode([Row].self, from: Data(stdout.utf8)).flatMap(\.tags)
        XCTAssertEqual(Set(tags.map(\.name)), Set(timm.keys))
        for tag in tags {
            let ours = TimmConfig(
                hfHubId: tag.hfHubId ?? "", inputSize: tag.inputSize, mean: tag.mean, std: tag.std,
                cropPct: tag.cropPct, interpolation: tag.interpolation, numClasses: tag.numClasses)
            XCTAssertEqual(ours, timm[tag.name], tag.name)
        }
        XCTAssertTrue(tags.contains { $0.name == "vit_small_patch16_224.augreg_in21k" && $0.numClasses == 21843 })
    }

}
