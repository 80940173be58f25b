import Foundation
import XCTest
import ZooTestSupport

/// `zoo classify` end to end: the default model (tf_efficientnet_lite0 with its real ImageNet weights) on real photos.
final class ClassifyCommandTests: XCTestCase {
    struct Prediction: Decodable {
        var index: Int
        var label: String
        var prob: Float
    }
    struct Entry: Decodable {
        var file: String
        var top: [Prediction]?
        var error: String?
    }

    /// Arguments that select the default weights: implicit when the binary finds them in its checkout, else explicit.
    private func defaultWeightsArguments() throws -> [String] {
        let weights = try Fixtures.efficientNetLite0Weights()
        let bundled = Fixtures.packageRoot.appendingPathComponent("zoo/weights/efficientnet-lite0.pth")
        return weights.standardizedFileURL == bundled.standardizedFileURL ? [] : ["--weights", weights.path]
    }

    private func imagenetLabels() throws -> [String] {
        let text = try String(
            contentsOf: Fixtures.packageRoot.appendingPathComponent("zoo/imagenet_labels.txt"), encoding: .utf8)
        return text.split(separator: "\n").map(String.init)
    }

    /// One call with a folder (two photos and a damaged file) and a missing path: the photos are still classified,
    /// each failure gets one stderr line naming it and a `{"file", "error"}` entry, and the exit status is 1.
    func testFolderDamagedAndMissingInputs() throws {
        let zoo = try builtZoo()
        let samples = try Fixtures.samplesDirectory()
        let weights = try defaultWeightsArguments()
        let dir = try scratchDirectory(self, files: [:])
        let photos = dir.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        for name in ["chelsea.png", "coffee.png"] {
            try FileManager.default.copyItem(
                at: samples.appendingPathComponent(name), to: photos.appendingPathComponent(name))
        }
        var generator = SystemRandomNumberGenerator()
        try Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(
            to: photos.appendingPathComponent("x.png"))
        // skipped: not an image extension
        try Data("not an image".utf8).write(to: photos.appendingPathComponent("notes.txt"))
        let missing = dir.appendingPathComponent("missing.jpg").path

        let (status, stdout, stderr) = try runZoo(zoo, ["classify", "--json"] + weights + [photos.path, missing])
        XCTAssertEqual(status, 1, stderr)
        let errors = errorLines(stderr)
        XCTAssertEqual(errors.count, 2, stderr)
        let damagedLines = errors.filter { $0.contains("x.png") }
        XCTAssertEqual(damagedLines.count, 1, stderr)
        // The line names the file once (decoder messages already start with the path).
        XCTAssertEqual(damagedLines.first.map { $0.components(separatedBy: "x.png").count - 1 }, 1, stderr)
        XCTAssertEqual(errors.filter { $0.contains(missing) }.count, 1, stderr)

        let entries = try JSONDecoder().decode([Entry].self, from: Data(stdout.utf8))
        XCTAssertEqual(entries.count, 4, stdout)  // chelsea, coffee, x.png from the folder; missing.jpg
        XCTAssertFalse(entries.contains { $0.file.hasSuffix("notes.txt") }, stdout)
        let byName = Dictionary(
            entries.map { (URL(fileURLWithPath: $0.file).lastPathComponent, $0) }, uniquingKeysWith: { a, _ in a })
        for name in ["x.png", "missing.jpg"] {
            let entry = try XCTUnwrap(byName[name], "no entry for \(name)")
            XCTAssertNil(entry.top, name)
            XCTAssertFalse(try XCTUnwrap(entry.error, name).isEmpty, name)
        }
        XCTAssertEqual(byName["missing.jpg"]?.file, missing)

        let labels = try imagenetLabels()
        XCTAssertEqual(labels.count, 1000)
        var top: [String: [Prediction]] = [:]
        for name in ["chelsea.png", "coffee.png"] {
            let entry = try XCTUnwrap(byName[name], "no entry for \(name)")
            XCTAssertNil(entry.error, name)
            let predictions = try XCTUnwrap(entry.top, name)
            XCTAssertEqual(predictions.count, 5, name)
            XCTAssertEqual(
                predictions.map(\.prob), predictions.map(\.prob).sorted(by: >), "\(name): probabilities not descending")
            XCTAssertLessThanOrEqual(predictions.map(\.prob).reduce(0, +), 1 + 1e-5, name)
            for p in predictions {
                XCTAssertTrue((0..<1000).contains(p.index), "\(name): index \(p.index)")
                XCTAssertTrue(p.prob > 0 && p.prob <= 1, "\(name): prob \(p.prob)")
                if labels.indices.contains(p.index) { XCTAssertEqual(p.label, labels[p.index], name) }
            }
            top[name] = predictions
        }
        // ImageNet classes 281–285 are the domestic cats; 967 espresso, 968 cup.
        XCTAssertTrue(
            top["chelsea.png"]!.contains { (281...285).contains($0.index) }, "chelsea.png: \(top["chelsea.png"]!)")
        XCTAssertTrue([967, 968].contains(top["coffee.png"]![0].index), "coffee.png: \(top["coffee.png"]![0])")
    }

    func testBadUsageExitsTwo() throws {
        let zoo = try builtZoo()
        let (unknown, _, unknownError) = try runZoo(zoo, ["classify", "--model", "resnt50", "x.png"])
        XCTAssertEqual(unknown, 2, unknownError)
        let firstLine = unknownError.split(separator: "\n").first ?? ""
        XCTAssertTrue(
            firstLine.contains("unknown model 'resnt50'") && firstLine.contains("did you mean 'resnet50'"), unknownError
        )

        let (unknownTag, _, unknownTagError) = try runZoo(zoo, ["classify", "--model", "resnet18.nope", "x.png"])
        XCTAssertEqual(unknownTag, 2, unknownTagError)
        XCTAssertTrue(
            unknownTagError.split(separator: "\n").first?.contains(
                "resnet18: no pretrained tag 'nope' on the Hub (tags: a1_in1k,") ?? false,
            unknownTagError)

        let (both, _, bothError) = try runZoo(zoo, ["classify", "--pretrained", "--weights", "w.safetensors", "x.png"])
        XCTAssertEqual(both, 2, bothError)
        XCTAssertTrue(bothError.contains("--pretrained and --weights exclude each other"), bothError)
    }
}
