import Foundation
import XCTest
import ZooTestSupport

@testable import Models

/// The generated table of timm's pretrained tags, against the configs timm itself reports
/// (Fixtures/timm_pretrained_cfgs.json, written by scripts/timm-pretrained-tags.py from timm).
final class PretrainedTagsTests: XCTestCase {
    private struct TimmConfig: Decodable {
        var hfHubId: String
        var inputSize: [Int]
        var mean: [Double]
        var std: [Double]
        var cropPct: Double
        var interpolation: String
        var numClasses: Int
    }

    func testEveryTagAgreesWithTimm() throws {
        let url = Fixtures.packageRoot.appendingPathComponent("Tests/ModelsTests/Fixtures/timm_pretrained_cfgs.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let timm = try decoder.decode([String: TimmConfig].self, from: Data(contentsOf: url))
        XCTAssertEqual(Set(PretrainedConfig.timmTags.keys), Set(timm.keys))
        for (key, ours) in PretrainedConfig.timmTags {
            guard let theirs = timm[key] else { continue }
            XCTAssertEqual(ours.hubID, theirs.hfHubId, key)
            XCTAssertEqual(ours.inputSize, theirs.inputSize, key)
            // Float32 here, Python floats there.
            for (a, b) in zip(ours.mean + ours.std, theirs.mean + theirs.std) {
                XCTAssertEqual(Double(a), b, accuracy: 1e-7, key)
            }
            XCTAssertEqual(ours.mean.count + ours.std.count, theirs.mean.count + theirs.std.count, key)
            XCTAssertEqual(Double(ours.cropPct), theirs.cropPct, accuracy: 1e-7, key)
            XCTAssertEqual(ours.interpolation.rawValue, theirs.interpolation, key)
            XCTAssertEqual(ours.numClasses, theirs.numClasses, key)
        }
    }

    /// Each key is `model.tag` for a registered model, and its config carries that tag.
    func testKeysNameARegisteredModelAndTheTag() {
        let models = Set(ModelRegistry.names)
        for (key, config) in PretrainedConfig.timmTags {
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            XCTAssertEqual(parts.count, 2, key)
            XCTAssertTrue(models.contains(parts[0]), "\(key): no such model")
            XCTAssertEqual(config.tag, parts.last, key)
        }
    }
}
