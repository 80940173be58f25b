import ArgumentParser
import Foundation
import XCTest

@testable import ZooCommands

/// tf-slim alexnet_v2 to pool5: Araujo et al. (Distill 2019) give r 195, S 32, P 64.
private let alexnetSpec = """
    [{"name": "conv1", "kind": "conv", "kernel": 11, "stride": 4, "padding": "valid"},
     {"name": "pool1", "kind": "pool", "kernel": 3, "stride": 2},
     {"name": "conv2", "kind": "conv", "kernel": 5, "padding": "same"},
     {"name": "pool2", "kind": "pool", "kernel": 3, "stride": 2},
     {"name": "conv3", "kind": "conv", "kernel": 3, "padding": 1},
     {"name": "conv4", "kind": "conv", "kernel": 3, "padding": 1},
     {"name": "conv5", "kind": "conv", "kernel": 3, "padding": 1},
     {"name": "pool5", "kind": "pool", "kernel": 3, "stride": 2}]
    """

final class ReceptiveFieldCommandTests: XCTestCase {
    private func spec(_ text: String = alexnetSpec) throws -> String {
        try scratchDirectory(self, files: ["layers.json": text]).appendingPathComponent("layers.json").path
    }

    private func output(_ arguments: [String]) throws -> String {
        let command = try XCTUnwrap(try Zoo.parseAsRoot(arguments) as? ReceptiveFieldCommand)
        return try command.output()
    }

    func testJSON() throws {
        let text = try output(["rf", "--spec", try spec(), "--json", "--input-size", "224"])
        XCTAssertTrue(text.hasPrefix(#"{"rf":195,"stride":32,"padding":64,"input_size":224,"#), text)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let layers = try XCTUnwrap(object["layers"] as? [[String: Any]])
        XCTAssertEqual(
            layers.map { $0["name"] as? String },
            ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"])
        XCTAssertEqual(layers.last?["output_size"] as? Int, 5)
    }

    func testTable() throws {
        let text = try output(["rf", "--spec", try spec()])
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertTrue(lines[0].hasPrefix("layer"))
        XCTAssertEqual(lines.count, 2 + 8 + 2)  // header, rule, 8 layers, blank, summary
        XCTAssertEqual(lines.last, "receptive field 195, stride 32, padding 64")
    }

    func testErrors() throws {
        let unknown = try XCTUnwrap(commandError(["rf", "--model", "resnt50"]))
        XCTAssertEqual(Zoo.exitCode(for: unknown), .validationFailure)
        XCTAssertTrue(
            Zoo.message(for: unknown).hasPrefix("unknown model 'resnt50'; did you mean 'resnet50'"),
            Zoo.message(for: unknown))
        XCTAssertNil(commandError(["rf", "--model", "resnet50"]))
        XCTAssertEqual(Zoo.exitCode(for: try XCTUnwrap(commandError(["rf"]))), .validationFailure)
        XCTAssertEqual(
            Zoo.exitCode(for: try XCTUnwrap(commandError(["rf", "--spec", "x.json", "--input-size", "0"]))),
            .validationFailure)
        let path = try spec(#"[{"kind": "conv", "kernel": 3}, {"kind": "pool"}]"#)
        let malformed = try XCTUnwrap(commandError(["rf", "--spec", path]))
        XCTAssertEqual(Zoo.exitCode(for: malformed), .failure)
        XCTAssertEqual(Zoo.message(for: malformed), "\(path): [1].kernel: missing field")
        let tooSmall = try XCTUnwrap(commandError(["rf", "--spec", try spec(), "--input-size", "8"]))
        XCTAssertTrue(
            Zoo.message(for: tooSmall).contains("conv1: kernel 11 (dilated) is larger than the padded input 8"))
    }
}

/// `zoo rf --model` through the binary.
final class ReceptiveFieldBinaryTests: XCTestCase {
    /// ResNet-50 to the last stage: receptive field 427, stride 32 (Araujo et al., Distill 2019, Table 1).
    func testResNet50() throws {
        let zoo = try builtZoo()
        let (status, stdout, stderr) = try runZoo(zoo, ["rf", "--model", "resnet50", "--json"])
        XCTAssertEqual(status, 0, stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["rf"] as? Int, 427)
        XCTAssertEqual(object["stride"] as? Int, 32)
        XCTAssertFalse((object["layers"] as? [Any] ?? []).isEmpty)
    }
}
