import XCTest

@testable import Weights

/// Error messages: one line naming the file, the key and what was expected; long key lists are cut short.
final class WeightsErrorTests: XCTestCase {
    func testErrorDescriptions() {
        XCTAssertEqual(
            "\(WeightsError.shapeMismatch(key: "fc.weight", expected: [10, 64], actual: [1000, 64]))",
            "'fc.weight': expected shape [10, 64], got [1000, 64]")
        XCTAssertEqual(
            "\(WeightsError.missingKeys(["a", "b", "c", "d", "e", "f"]))", "missing 6 key(s): a, b, c, d, e, …")
    }

    /// At most five keys are listed; a sixth turns into "…", five do not.
    func testKeyListsShowFiveKeys() {
        XCTAssertEqual(
            "\(WeightsError.unexpectedKeys(["a", "b", "c", "d", "e"]))", "unexpected 5 key(s): a, b, c, d, e")
        XCTAssertEqual("\(WeightsError.missingKeys(["only"]))", "missing 1 key(s): only")
    }

    func testFileErrorsNameTheFileAndTheCulprit() {
        XCTAssertEqual(
            "\(WeightsError.forbiddenPickleOpcode(path: "m.pth", opcode: 0x52, offset: 17))",
            "m.pth: pickle opcode 0x52 at byte 17 is not allowed in a state dict; refusing to load")
        XCTAssertEqual(
            "\(WeightsError.truncated(path: "w.safetensors", needed: 100, available: 8))",
            "w.safetensors: truncated: needs 100 bytes, has 8")
        XCTAssertEqual(
            "\(WeightsError.forbiddenPickleGlobal(path: "m.pth", module: "os", name: "system"))",
            "m.pth: pickle refers to os.system, which a state dict never needs; refusing to load")
    }
}
