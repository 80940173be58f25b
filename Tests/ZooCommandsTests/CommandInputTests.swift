import Foundation
import XCTest

@testable import ZooCommands

/// Input files: read, or one line naming the file and the problem.
final class CommandInputTests: XCTestCase {
    func testReadsTheFileOrNamesIt() throws {
        let dir = try scratchDirectory(self, files: ["a.json": "{}"])
        XCTAssertEqual(try readInputFile(dir.appendingPathComponent("a.json").path), Data("{}".utf8))
        let missing = dir.appendingPathComponent("missing.json").path
        XCTAssertThrowsError(try readInputFile(missing)) { error in
            XCTAssertEqual("\(error)", "\(missing): no such file")
        }
        XCTAssertThrowsError(try readInputFile(dir.path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(dir.path): cannot read ("), "\(error)")
        }
    }

    /// Errors from parsing a file are prefixed with it; an error that already names the file is kept as it is.
    func testAttributingPrefixesTheFile() throws {
        struct ParseError: Error, CustomStringConvertible {
            var description: String { "field 'images': expected an array" }
        }
        XCTAssertEqual(try attributing(to: "coco.json") { 42 }, 42)
        XCTAssertThrowsError(try attributing(to: "coco.json") { throw ParseError() }) { error in
            XCTAssertEqual("\(error)", "coco.json: field 'images': expected an array")
        }
        XCTAssertThrowsError(
            try attributing(to: "coco.json") { throw CommandError(file: "coco.json", problem: "no such file") }
        ) { error in
            XCTAssertEqual("\(error)", "coco.json: no such file")
        }
        // A command error has named its culprit already, even when that is not the file.
        XCTAssertThrowsError(try attributing(to: "w.pth") { throw CommandError("--model-args: bad") }) { error in
            XCTAssertEqual("\(error)", "--model-args: bad")
        }
    }
}
