import Foundation
import XCTest

@testable import Models

/// Typed configurations: the labelled initialisers, their checks, and their Codable form (timm's keyword
/// arguments), which is also what `--model-args` and the registry's presets go through.
final class ModelConfigTests: XCTestCase {
    /// Every family's default, through JSON and back; the labelled initialiser's defaults are the adapter's.
    func testEveryConfigRoundTripsThroughTimmKeywordArguments() throws {
        func roundTrip<C: ModelConfig>(_ labelled: C) throws {
            let adapted = try C(ModelArguments())
            XCTAssertEqual(labelled, adapted, "\(C.self): labelled defaults vs keyword defaults")
            let json = try JSONEncoder().encode(labelled)
            XCTAssertEqual(try JSONDecoder().decode(C.self, from: json), labelled, "\(C.self)")
            let keys = try XCTUnwrap(JSONSerialization.jsonObject(with: json) as? [String: Any]).keys
            XCTAssertTrue(keys.allSatisfy { $0 == $0.lowercased() }, "\(C.self) writes timm's names: \(keys)")
        }
        try roundTrip(ResNetConfig())
        try roundTrip(DenseNetConfig())
        try roundTrip(EfficientNetConfig())
        try roundTrip(MobileNetV3Config())
        try roundTrip(MlpMixerConfig())
        try roundTrip(PoolFormerConfig())
        try roundTrip(VisionTransformerConfig())
        try roundTrip(SwinTransformerConfig())
        try roundTrip(VoloConfig())
        try roundTrip(MaskedAutoencoderConfig())
    }

    /// Registry entries are typed presets: every one checks, and builds the model the entry builds.
    func testRegistryPresetsAreTypedConfigs() throws {
        let resnet18 = try ModelRegistry.entry(named: "resnet18").preset()
        XCTAssertEqual(resnet18 as? ResNetConfig, try ResNetConfig(block: .basic, layers: [2, 2, 2, 2]))
        for entry in ModelRegistry.entries {
            XCTAssertNoThrow(try entry.preset(), entry.name)
        }
        let mae = try XCTUnwrap(MaskedAutoencoderRegistry.entries.first { $0.name == "mae_vit_tiny_patch16" })
        XCTAssertEqual(try mae.preset().embedDim, 192)
    }

    /// A typed ResNet-18 is timm's resnet18: the parameter count timm reports (11,689,512, the registry's).
    func testTypedConfigBuildsTheRegistryModel() throws {
        let typed = try ResNet(ResNetConfig(block: .basic, layers: [2, 2, 2, 2]))
        XCTAssertEqual(typed.parameterCount, try ModelRegistry.entry(named: "resnet18").parameterCount)
        let json = #"{"block": "basic", "layers": [2, 2, 2, 2], "num_classes": 10}"#
        let decoded = try JSONDecoder().decode(ResNetConfig.self, from: Data(json.utf8))
        XCTAssertEqual(decoded, try ResNetConfig(block: .basic, layers: [2, 2, 2, 2], numClasses: 10))
    }

    /// The labelled initialisers check what keyword arguments are checked for: the family's rules and bounds.
    func testLabelledInitialisersCheckTheirValues() {
        XCTAssertThrowsError(try ResNetConfig(layers: [2, 2])) { error in
            XCTAssertTrue("\(error)".contains("4 stages"), "\(error)")
        }
        XCTAssertThrowsError(try ResNetConfig(numClasses: 200_000)) { error in
            XCTAssertTrue("\(error)".contains("num_classes"), "\(error)")
        }
        XCTAssertThrowsError(try VisionTransformerConfig(embedDim: 100, heads: 3))
        XCTAssertThrowsError(try MaskedAutoencoderConfig(maskRatio: 1))
        XCTAssertThrowsError(try SwinTransformerConfig(depths: [2, 2], heads: [3, 6, 12]))
    }

    /// An argument the zoo does not implement is refused, never ignored (timm's ResNet `stem_width` only shapes
    /// deep stems, which the zoo does not build; ViT is always dynamic-size).
    func testUnimplementedArgumentsAreRefused() throws {
        XCTAssertThrowsError(try JSONDecoder().decode(ResNetConfig.self, from: Data(#"{"stem_width": 32}"#.utf8))) {
            guard case ModelError.unknownArgument(_, "stem_width", _) = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try ModelRegistry.create("resnet18", ["stem_width": 32])) {
            guard case ModelError.unknownArgument(_, "stem_width", _) = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try ModelRegistry.create("vit_small_patch16_224", ["dynamic_img_size": false]))
        XCTAssertNoThrow(try VisionTransformerConfig(["dynamic_img_size": true]))
    }
}
