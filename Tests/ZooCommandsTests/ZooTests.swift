import Foundation
import XCTest

@testable import ZooCommands

/// The command line's frame: JSON for stdout, Foundation's file errors made one line, the exit statuses.
final class ZooTests: XCTestCase {
    func testNonFiniteNumbersAreJSONNull() throws {
        struct Row: Encodable {
            var loss: Double
            var top1: Double
            var name: String
        }
        XCTAssertEqual(
            try jsonString(Row(loss: .nan, top1: .infinity, name: "a"), pretty: false),
            #"{"loss":null,"name":"a","top1":null}"#)
    }

    /// Keys sorted, slashes unescaped, pretty or one line.
    func testJSONIsKeySortedWithSlashesAsWritten() throws {
        let value = ["path": "a/b.png", "class": "cat"]
        XCTAssertEqual(try jsonString(value, pretty: false), #"{"class":"cat","path":"a/b.png"}"#)
        XCTAssertEqual(try jsonString([1.5], pretty: true), "[\n  1.5\n]")
    }

    /// A Cocoa file error becomes "<path>: <description>"; any other error passes through as it is.
    func testFoundationFileErrorsBecomeOneLineNamingTheFile() {
        let missing = CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: "/no/such/file.png"])
        let readable = "\(Zoo.readable(missing))"
        XCTAssertTrue(readable.hasPrefix("/no/such/file.png: "), readable)
        XCTAssertFalse(readable.contains("\n"), readable)
        XCTAssertFalse(readable.contains("NSCocoaErrorDomain"), readable)
        let other = CommandError(file: "x", problem: "y")
        XCTAssertEqual("\(Zoo.readable(other))", "x: y")
    }

    /// Every subcommand is reachable by its name.
    func testSubcommandNames() {
        let names = Zoo.configuration.subcommands.map { $0.configuration.commandName }
        XCTAssertEqual(
            Set(names.compactMap { $0 }),
            [
                "classify", "download", "forward", "preprocess", "models", "train", "eval", "pretrain-mae", "rf",
                "eval-detections", "bench",
            ])
        XCTAssertEqual("\(InputsFailed())", "some inputs failed (see the messages above)")
    }
}
