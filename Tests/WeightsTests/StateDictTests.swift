import XCTest

@testable import Weights

final class StateDictTests: XCTestCase {
    private let one = WeightTensor(shape: [1], values: [1])
    private let two = WeightTensor(shape: [2], values: [1, 2])

    func testKeepsInsertionOrderAndReplacesInPlace() {
        var dict = StateDict()
        dict["b"] = one
        dict["a"] = two
        dict["b"] = two
        XCTAssertEqual(dict.keys, ["b", "a"])
        XCTAssertEqual(dict["b"], two)
        dict["b"] = nil
        XCTAssertEqual(dict.keys, ["a"])
        XCTAssertEqual(dict.count, 1)
        XCTAssertNil(dict["b"])
        XCTAssertEqual(dict.map(\.key), ["a"])
    }

    func testMappingKeysRenamesDropsAndRefusesCollisions() throws {
        let dict = StateDict([("_fc.weight", two), ("_fc.bias", one), ("_swish", one)])
        let renamed = try dict.mappingKeys { key in
            key == "_swish" ? nil : key.replacingOccurrences(of: "_fc", with: "classifier")
        }
        XCTAssertEqual(renamed.keys, ["classifier.weight", "classifier.bias"])
        XCTAssertEqual(renamed["classifier.weight"], two)
        XCTAssertThrowsWeightsError(.duplicateKey(key: "same"), try dict.mappingKeys { _ in "same" })
    }

    func testVerifyReportsMissingUnexpectedAndShapeMismatch() throws {
        let dict = StateDict([("w", two), ("b", one)])
        XCTAssertNoThrow(try dict.verify(expectedShapes: [("w", [2]), ("b", [1])]))
        XCTAssertThrowsWeightsError(
            .missingKeys(["c"]), try dict.verify(expectedShapes: [("w", [2]), ("b", [1]), ("c", [1])]))
        XCTAssertThrowsWeightsError(.unexpectedKeys(["b"]), try dict.verify(expectedShapes: [("w", [2])]))
        XCTAssertNoThrow(try dict.verify(expectedShapes: [("w", [2])], allowUnexpected: true))
        XCTAssertThrowsWeightsError(
            .shapeMismatch(key: "w", expected: [1, 2], actual: [2]),
            try dict.verify(expectedShapes: [("w", [1, 2]), ("b", [1])]))
    }
}
