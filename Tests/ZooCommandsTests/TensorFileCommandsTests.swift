import Foundation
import Models
import VisionIO
import XCTest
import ZooTestSupport

@testable import ZooCommands

/// `zoo preprocess` and `zoo forward` end to end: the tensor classify feeds the model, and a model's output for
/// a tensor, against the library and the timm parity fixtures (inputs and logits exported by make_parity.py).
final class TensorFileCommandsTests: XCTestCase {
    private var visionFixtures: URL { Fixtures.packageRoot.appendingPathComponent("Tests/VisionIOTests/Fixtures") }

    /// The binary writes exactly what the library's eval transform computes, as (1, 3, H, W).
    func testMatchesLibraryEvalTransform() throws {
        let zoo = try builtZoo()
        let photo = try Fixtures.samplesDirectory().appendingPathComponent("chelsea.png")
        let output = try scratchDirectory(self, files: [:]).appendingPathComponent("x.npy")
        let (status, _, stderr) = try runZoo(
            zoo, ["preprocess", "--model", "resnet50", photo.path, "--output", output.path])
        XCTAssertEqual(status, 0, stderr)
        let array = try NumpyArray.read(contentsOf: output)
        XCTAssertEqual(array.shape, [1, 3, 224, 224])
        let config = PreprocessConfig(try ModelRegistry.entry(named: "resnet50").pretrained)
        XCTAssertEqual(array.values, try config.evalTransform(try Image(contentsOf: photo)))
    }

    /// Against timm's own eval transform (`create_transform(**resolve_data_config(...))`), the tensors
    /// Tests/VisionIOTests/Fixtures/make_fixtures.py committed for five model / photo pairs.
    func testMatchesTimmReferenceTensors() throws {
        let zoo = try builtZoo()
        let samples = try Fixtures.samplesDirectory()
        let manifest = try XCTUnwrap(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: visionFixtures.appendingPathComponent("manifest.json")))
                as? [String: Any])
        let entries = try XCTUnwrap(manifest["preprocess"] as? [[String: Any]])
        XCTAssertFalse(entries.isEmpty)
        let dir = try scratchDirectory(self, files: [:])
        var compared = 0
        for entry in entries {
            let model = try XCTUnwrap(entry["model"] as? String)
            let image = try XCTUnwrap(entry["image"] as? String)
            let photo = samples.appendingPathComponent(image)
            // The references describe one version of each photo; another download is not this command's fault.
            let size = (try? FileManager.default.attributesOfItem(atPath: photo.path)[.size] as? NSNumber)?.intValue
            guard size == entry["bytes"] as? Int else { continue }
            let output = dir.appendingPathComponent("\(model).npy")
            let (status, _, stderr) = try runZoo(
                zoo, ["preprocess", "--model", model, photo.path, "--output", output.path])
            XCTAssertEqual(status, 0, "\(model): \(stderr)")
            let actual = try NumpyArray.read(contentsOf: output)
            let expected = try NumpyArray.read(
                contentsOf: visionFixtures.appendingPathComponent("preprocess")
                    .appendingPathComponent(try XCTUnwrap(entry["tensor"] as? String)))
            XCTAssertEqual(actual.shape, [1] + expected.shape, model)
            guard actual.values.count == expected.values.count else { continue }
            let diffs = zip(actual.values, expected.values).map { abs($0 - $1) }
            XCTAssertLessThanOrEqual(diffs.max() ?? .infinity, 1e-5, "\(model) on \(image): max |diff|")
            XCTAssertLessThanOrEqual(diffs.reduce(0, +) / Float(diffs.count), 1e-6, "\(model) on \(image): mean |diff|")
            compared += 1
        }
        if compared == 0 { throw XCTSkip("no sample photo matches the version the timm references were made from") }
    }

    /// `zoo preprocess` errors.
    func testErrors() throws {
        let zoo = try builtZoo()
        let dir = try scratchDirectory(self, files: ["bad.png": "not an image"])
        let bad = dir.appendingPathComponent("bad.png").path
        let (status, _, stderr) = try runZoo(
            zoo, ["preprocess", "--model", "resnet50", bad, "--output", dir.appendingPathComponent("x.npy").path])
        XCTAssertEqual(status, 1, stderr)
        XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
        XCTAssertTrue(stderr.contains(bad), stderr)
        XCTAssertEqual(try runZoo(zoo, ["preprocess", "--model", "resnt50", bad, "--output", "x.npy"]).0, 2)
    }

    // MARK: zoo forward

    /// Every classifier fixture through the binary: its timm arch, its timm kwargs verbatim from manifest.json,
    /// its random-weight safetensors; the logits must match timm's.
    func testEveryParityFixtureMatchesTimm() throws {
        let zoo = try builtZoo()
        let parity = try Fixtures.parityDirectory()
        let manifest = try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(contentsOf: parity.appendingPathComponent("manifest.json")))
                as? [String: Any])
        let fixtures = try XCTUnwrap(manifest["fixtures"] as? [[String: Any]]).filter {
            $0["name"] as? String != "mae_tiny"
        }
        XCTAssertGreaterThanOrEqual(fixtures.count, 12)
        let dir = try scratchDirectory(self, files: [:])
        for fixture in fixtures {
            let name = try XCTUnwrap(fixture["name"] as? String)
            let arch = try XCTUnwrap(fixture["timm_arch"] as? String)
            let kwargs = String(
                decoding: try JSONSerialization.data(
                    withJSONObject: try XCTUnwrap(fixture["timm_kwargs"] as? [String: Any]).filter {
                        !Fixtures.ignoredByTimm.contains($0.key)
                    }, options: [.sortedKeys]),
                as: UTF8.self)
            let io = try Fixtures.parityIO(name)
            let input = try XCTUnwrap(io["input"], name)
            let expected = try XCTUnwrap(io["output"], name)
            let x = dir.appendingPathComponent("\(name).x.npy")
            let y = dir.appendingPathComponent("\(name).y.npy")
            try NumpyArray.write(FloatArray(shape: input.shape, values: input.values), to: x)
            let (status, _, stderr) = try runZoo(
                zoo,
                [
                    "forward", "--model", arch, "--model-args", kwargs,
                    "--weights", parity.appendingPathComponent("\(name).safetensors").path,
                    "--input", x.path, "--output", y.path,
                ])
            XCTAssertEqual(status, 0, "\(name): \(stderr)")
            guard status == 0 else { continue }
            let output = try NumpyArray.read(contentsOf: y)
            XCTAssertEqual(output.shape, expected.shape, name)
            XCTAssertEqual(output.shape, fixture["output_shape"] as? [Int], name)
            Fixtures.assertParity(output.values, expected.values, name)
        }
    }

    /// Damaged weights files: exit status 1 and a single stderr line naming the file.
    func testDamagedWeightsFiles() throws {
        let zoo = try builtZoo()
        let parity = try Fixtures.parityDirectory()
        let weights = try Data(contentsOf: parity.appendingPathComponent("resnet18_tiny.safetensors"))
        let io = try Fixtures.parityIO("resnet18_tiny")
        let input = try XCTUnwrap(io["input"])
        let dir = try scratchDirectory(self, files: [:])
        let x = dir.appendingPathComponent("x.npy")
        try NumpyArray.write(FloatArray(shape: input.shape, values: input.values), to: x)

        // A safetensors file starts with a little-endian UInt64 header length, then the JSON header.
        var overlong = weights.prefix(200)
        let claimed = UInt64(weights.count) * 4
        overlong.replaceSubrange(0..<8, with: withUnsafeBytes(of: claimed.littleEndian) { Data($0) })
        var generator = SystemRandomNumberGenerator()
        let cases: [(String, Data)] = [
            ("truncated.safetensors", weights.prefix(100)),
            ("overlong-header.safetensors", Data(overlong)),
            ("garbage.safetensors", Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) })),
        ]
        for (file, bytes) in cases {
            let path = dir.appendingPathComponent(file).path
            try bytes.write(to: URL(fileURLWithPath: path))
            let (status, _, stderr) = try runZoo(
                zoo,
                [
                    "forward", "--model", "resnet18",
                    "--model-args",
                    #"{"layers": [1, 1, 1, 1], "channels": [8, 16, 32, 64], "num_classes": 10}"#,
                    "--weights", path, "--input", x.path, "--output", dir.appendingPathComponent("y.npy").path,
                ])
            XCTAssertEqual(status, 1, "\(file): \(stderr)")
            let lines = stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(file): \(stderr)")
            XCTAssertTrue(lines.first?.contains(path) ?? false, "\(file): \(stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("y.npy").path), file)
        }
    }

}
