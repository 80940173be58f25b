import Foundation
import VisionIO
import XCTest
import ZooTestSupport

/// `zoo forward` end to end against the timm parity fixtures (inputs and logits exported by make_parity.py).
final class ForwardCommandTests: XCTestCase {
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
