import Foundation
import XCTest

@testable import ReceptiveFields

/// `zoo rf --spec` files: the layers they describe, and errors that name the field at fault.
final class ReceptiveFieldSpecTests: XCTestCase {
    private func specError(_ json: String) -> String? {
        do {
            _ = try parseReceptiveFieldSpec(Data(json.utf8))
            return nil
        } catch {
            return (error as? RFSpecError)?.description ?? "unexpected \(error)"
        }
    }

    func testParsesSpec() throws {
        let layers = try parseReceptiveFieldSpec(
            Data(
                """
                [{"name": "conv1", "kind": "conv", "kernel": 11, "stride": 4, "padding": 0},
                 {"kind": "pool", "kernel": [3, 3], "stride": [2, 2], "padding": "valid"},
                 {"kind": "conv", "kernel": 5, "padding": "same", "dilation": 1},
                 {"kind": "conv", "kernel": [3, 1], "padding": [1, 0]},
                 {"kind": "conv", "kernel": 2, "padding": [0, 0, 1, 1]},
                 {"kind": "parallel", "branches": [[{"kind": "conv", "kernel": 3, "padding": 1}], []]},
                 {"kind": "global_pool"}]
                """.utf8))
        XCTAssertEqual(layers.count, 7)
        XCTAssertEqual(layers[0], .conv("conv1", kernel: 11, stride: 4))
        XCTAssertEqual(layers[1], .pool(kernel: 3, stride: 2))
        XCTAssertEqual(layers[2].padding, .same)
        XCTAssertEqual(layers[3].kernel, RFPair(3, 1))
        XCTAssertEqual(layers[3].padding, .explicit(RFPadding(height: 1, width: 0)))
        XCTAssertEqual(layers[4].padding, .explicit(RFPadding(top: 0, left: 0, bottom: 1, right: 1)))
        XCTAssertEqual(layers[5], .branches([[.conv(kernel: 3, padding: 1)], []]))
        XCTAssertEqual(layers[6].kind, .globalPool)
    }

    func testSpecErrorsNameTheField() {
        XCTAssertEqual(specError(#"{"kind": "conv"}"#), "(top level): expected an array, got an object")
        XCTAssertEqual(specError(#"[{"kernel": 3}]"#), "[0].kind: missing field")
        XCTAssertEqual(specError(#"[{"kind": "conv"}]"#), "[0].kernel: missing field")
        XCTAssertEqual(
            specError(#"[{"kind": "conv", "kernel": 3}, {"kind": "deconv", "kernel": 3}]"#),
            #"[1].kind: unknown kind "deconv" (expected conv, pool, identity, global, global_pool or branches)"#)
        XCTAssertEqual(specError(#"[{"kind": "conv", "kernel": 0}]"#), "[0].kernel: must be a positive integer, got 0")
        XCTAssertEqual(
            specError(#"[{"kind": "conv", "kernel": [3, 3, 3]}]"#), "[0].kernel: expected k or [h, w], got 3 values")
        XCTAssertEqual(
            specError(#"[{"kind": "conv", "kernel": 3, "padding": "full"}]"#),
            #"[0].padding: unknown padding "full" (expected a number, "same" or "valid")"#)
        XCTAssertEqual(
            specError(#"[{"kind": "conv", "kernel": 3, "padding": -1}]"#), "[0].padding: must not be negative, got -1")
        XCTAssertEqual(specError(#"[{"kind": "conv", "kernel": "3"}]"#), "[0].kernel: expected a number, got a string")
        XCTAssertEqual(
            specError(#"[{"kind": "conv", "kernel": 3, "strides": 2}]"#),
            "[0].strides: unknown field (expected one of branches, dilation, kernel, kind, name, padding, stride)")
        XCTAssertEqual(
            specError(#"[{"kind": "branches", "branches": [[{"kind": "pool"}]]}]"#),
            "[0].branches[0][0].kernel: missing field")
        XCTAssertTrue(specError("[{")?.hasPrefix("(top level): invalid JSON") ?? false)
    }
}
