import Tensors
import XCTest

@testable import Models

final class RegistryTests: XCTestCase {
    /// Every registered model builds from its name alone with exactly timm's parameter count.
    func testEveryModelBuildsWithTimmParameterCount() throws {
        for entry in ModelRegistry.entries {
            let model = try entry.create()
            XCTAssertEqual(model.parameterCount, entry.parameterCount, entry.name)
            XCTAssertEqual(model.numClasses, 1000, entry.name)
        }
    }

    func testUnknownNamesSuggestTheNearest() {
        XCTAssertThrowsError(try ModelRegistry.create("resnet5")) { error in
            guard case ModelError.unknownModel(let name, let suggestions) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "resnet5")
            XCTAssertTrue(suggestions.contains("resnet50"), "\(suggestions)")
        }
        XCTAssertThrowsError(try ModelRegistry.create("resnet18", ["layerz": [1, 1, 1, 1]])) { error in
            XCTAssertTrue("\(error)".contains("layerz"))
        }
        XCTAssertThrowsError(try ModelRegistry.create("resnet18", ["layers": "four"]))
    }

    func testEditDistance() {
        XCTAssertEqual(editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(editDistance("", "abc"), 3)
        XCTAssertEqual(editDistance("resnet50", "resnet50"), 0)
    }

    func testMakeDivisibleMatchesTimm() {
        // timm.layers.make_divisible: (32·0.25 → 8), (2 → 8), (100 → 104), (91 → 88 would be < 0.9·91? no: 88 ≥ 81.9)
        XCTAssertEqual(makeDivisible(8), 8)
        XCTAssertEqual(makeDivisible(2), 8)
        XCTAssertEqual(makeDivisible(100), 104)
        XCTAssertEqual(makeDivisible(91), 88)
        XCTAssertEqual(makeDivisible(16 * 0.35), 8)
    }
}
