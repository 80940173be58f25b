import JSON
import XCTest

final class JSONOutputTests: XCTestCase {
    /// Keys keep their order, numbers print in Python's repr form, non-finite numbers become null.
    func testTextKeepsOrderAndPythonNumbers() {
        let value = JSONOutput.object([
            ("z", .int(3)), ("a", .number(0.1)), ("n", .number(.nan)), ("list", .array([.bool(true), .null])),
            ("s", .string("a \"quote\"\n")),
        ])
        XCTAssertEqual(value.text, #"{"z":3,"a":0.1,"n":null,"list":[true,null],"s":"a \"quote\"\n"}"#)
    }
}
