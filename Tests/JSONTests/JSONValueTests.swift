import Foundation
import JSON
import XCTest

final class JSONValueTests: XCTestCase {
    func testParsesEveryKind() throws {
        let value = try JSONValue.parse(Data(#"{"a": [1, 2.5, true, null, "x"], "b": {}}"#.utf8))
        let object = try value.object(at: "")
        XCTAssertEqual(
            try object.required("a", in: "").array(at: "a"),
            [.number(1), .number(2.5), .bool(true), .null, .string("x")])
        XCTAssertEqual(try object.required("b", in: ""), .object([:]))
    }

    func testSyntaxErrorsSayWhere() {
        XCTAssertThrowsError(try JSONValue.parse(Data(#"{"a": }"#.utf8))) { error in
            let shape = error as? JSONShapeError
            XCTAssertEqual(shape?.path, "")
            XCTAssertTrue(shape?.problem.hasPrefix("invalid JSON (") == true, "\(error)")
        }
    }

    /// Each accessor names the path and both the expected and the actual kind.
    func testWrongTypesNameThePath() {
        XCTAssertEqual(
            shapeError { try JSONValue.string("3").number(at: "boxes[2].score") },
            JSONShapeError(path: "boxes[2].score", problem: "expected a number, got a string"))
        XCTAssertEqual(
            shapeError { try JSONValue.number(2.5).integer(at: "id") },
            JSONShapeError(path: "id", problem: "expected an integer, got 2.5"))
        // 2^53 + 2 is a double, but beyond it ids could collide: refused.
        XCTAssertEqual(
            shapeError { try JSONValue.number(9_007_199_254_740_994).integer(at: "id") }?.problem,
            "expected an integer, got 9.007199254740994e+15")
        XCTAssertEqual(
            shapeError { try [String: JSONValue]().required("bbox", in: "annotations[3]") },
            JSONShapeError(path: "annotations[3].bbox", problem: "missing field"))
        XCTAssertEqual(
            shapeError { try [String: JSONValue]().required("images", in: "") },
            JSONShapeError(path: "images", problem: "missing field"))
    }

    /// COCO writes `iscrowd` as 0/1: both spellings are flags, other numbers are not.
    func testFlagsAcceptBooleansAndZeroOrOne() throws {
        XCTAssertEqual(try JSONValue.number(1).flag(at: "iscrowd"), true)
        XCTAssertEqual(try JSONValue.bool(false).flag(at: "iscrowd"), false)
        XCTAssertEqual(
            shapeError { try JSONValue.number(2).flag(at: "iscrowd") }?.problem,
            "expected a boolean or 0/1, got a number")
    }

    private func shapeError<T>(_ body: () throws -> T) -> JSONShapeError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? JSONShapeError
        }
    }
}
