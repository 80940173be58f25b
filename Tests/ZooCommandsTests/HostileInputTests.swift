import Foundation
import Models
import VisionIO
import Weights
import XCTest
import ZooTestSupport

@testable import ZooCommands

/// The CLI as an attacker or a careless user drives it: absurd sizes, bombs, hostile weights, diverging and
/// empty runs, leftovers and races. Every case ends with an exit status, one line naming the culprit, in
/// bounded memory (`prlimit --as`) and bounded time (`timeout`).
final class HostileInputTests: XCTestCase {
    /// Runs zoo under a 2 GB address-space limit and a 120 s timeout (exit 124 if it hangs).
    private func runBounded(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let zoo = try builtZoo()
        let (status, stdout, stderr) = try runZoo(
            URL(fileURLWithPath: "/usr/bin/timeout"),
            ["120", "/usr/bin/prlimit", "--as=\(2 << 30)", "--", zoo.path] + arguments)
        XCTAssertNotEqual(status, 124, "zoo \(arguments.joined(separator: " ")) hung")
        return (status, stdout, stderr)
    }

    /// The first stderr line (ArgumentParser adds usage lines after a validation error).
    private func firstLine(_ stderr: String) -> String { String(stderr.split(separator: "\n").first ?? "") }

    private func assertRefused(
        _ arguments: [String], status expected: Int32, _ message: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let (status, _, stderr) = try runBounded(arguments)
        XCTAssertEqual(status, expected, "\(arguments): \(stderr)", file: file, line: line)
        XCTAssertTrue(firstLine(stderr).contains(message), "\(arguments): \(stderr)", file: file, line: line)
        XCTAssertFalse(
            stderr.contains("NSCocoaErrorDomain") || stderr.contains("Fatal error"), stderr, file: file, line: line)
    }

    func testAbsurdSizesAreRefusedByName() throws {
        let root = try stripedImageFolder(self)
        let (train, val) = (root.appendingPathComponent("train").path, root.appendingPathComponent("val").path)
        let training = [
            "train", train, "--val", val, "--model", "resnet18", "--output", root.appendingPathComponent("out").path,
        ]
        let input = root.appendingPathComponent("x.npy")
        try NumpyArray.write(
            FloatArray(shape: [1, 3, 64, 64], values: [Float](repeating: 0, count: 3 * 64 * 64)), to: input)
        let empty = root.appendingPathComponent("empty.npy")
        try NumpyArray.write(FloatArray(shape: [1, 3, 0, 32], values: []), to: empty)
        let forward = ["forward", "--input", input.path, "--output", root.appendingPathComponent("y.npy").path]
        let cases: [([String], Int32, String)] = [
            (["eval", val, "--img-size", "0"], 2, "--img-size must be between 8 and 4096, got 0"),
            (["eval", val, "--batch-size", "0"], 2, "--batch-size must be between 1 and 4096, got 0"),
            (["classify", "--batch-size", "-1", val], 2, "--batch-size must be between 1 and 4096, got -1"),
            (["bench", "--model", "resnet18", "--img-size", "0"], 2, "--img-size must be between 8 and 4096, got 0"),
            (
                ["pretrain-mae", train, "--output", "o", "--img-size", "100000"], 2,
                "--img-size must be between 8 and 4096, got 100000"
            ),
            (training + ["--lr", "-1"], 2, "--lr must be a positive number, got -1.0"),
            (training + ["--scale", "2"], 2, "--scale must be between 0.001 and 1.0, got 2.0"),
            (training + ["--label-smoothing", "1.5"], 2, "--label-smoothing must be between 0.0 and 0.99, got 1.5"),
            (training + ["--mixup", "-1"], 2, "--mixup must be between 0.0 and 1000.0, got -1.0"),
            (
                training + ["--batch-size", "4096", "--img-size", "4096"], 2,
                "--batch-size 4096 at --img-size 4096 needs 824.6 GB"
            ),
            (
                forward + ["--model-args", #"{"num_classes": 9223372036854775807}"#], 1,
                "--model-args: tf_efficientnet_lite0: argument 'num_classes' must be between 0 and 100000, got 9223372036854775807"
            ),
            (
                forward + ["--model-args", #"{"depth_multiplier": 1000}"#], 1,
                "argument 'depth_multiplier' must be between 0.01 and 16"
            ),
            (["forward", "--input", empty.path, "--output", root.appendingPathComponent("y.npy").path], 1, empty.path),
        ]
        for (arguments, status, message) in cases { try assertRefused(arguments, status: status, message) }
    }

    /// A 1×100000 PNG (under 500 bytes) passes the decoder's pixel limit; its resize for the model would not.
    func testAspectRatioBombIsRefusedAndTheRestClassified() throws {
        let dir = try scratchDirectory(self, files: [:])
        let bomb = dir.appendingPathComponent("tall.png")
        try Image(width: 1, height: 100_000).write(to: bomb)
        let photo = try Fixtures.samplesDirectory().appendingPathComponent("coffee.png")
        let (status, stdout, stderr) = try runBounded(["classify", bomb.path, photo.path])
        XCTAssertEqual(status, 1)
        XCTAssertEqual(
            errorLines(stderr),
            [
                "zoo: \(bomb.path): a 1×100000 image resized for the model would be 256×25600000 pixels "
                    + "(more than the limit of 89478485 pixels)"
            ])
        XCTAssertTrue(stdout.contains("espresso"), stdout)
    }

    /// Half of the real EfficientNet-Lite0 .pth (a legacy torch file): refused at once, naming the file.
    func testTruncatedWeightsAreRefusedQuickly() throws {
        let bytes = try Data(contentsOf: Fixtures.efficientNetLite0Weights())
        let cut = try scratchDirectory(self, files: [:]).appendingPathComponent("cut.pth")
        try bytes.prefix(bytes.count / 2).write(to: cut)
        let input = cut.deletingLastPathComponent().appendingPathComponent("x.npy")
        try NumpyArray.write(
            FloatArray(shape: [1, 3, 32, 32], values: [Float](repeating: 0, count: 3 * 32 * 32)), to: input)
        let start = Date()
        try assertRefused(
            ["forward", "--weights", cut.path, "--input", input.path, "--output", input.path], status: 1,
            "\(cut.path): truncated")
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
    }

    /// `--lr 1e6` diverges: training stops with an error (never "100 %"), and no non-finite weights become "best".
    func testDivergingTrainingIsAnError() throws {
        let root = try stripedImageFolder(self)
        let out = root.appendingPathComponent("out")
        let (status, stdout, stderr) = try runBounded([
            "train", root.appendingPathComponent("train").path,
            "--val", root.appendingPathComponent("val").path, "--model", "resnet18",
            "--img-size", "32", "--epochs", "3", "--batch-size", "4", "--lr", "1e6",
            "--output", out.path, "--json",
        ])
        XCTAssertEqual(status, 1, stderr)
        XCTAssertTrue(stderr.contains("training diverged: loss is"), stderr)
        XCTAssertFalse(stdout.contains("100"), stdout)
        let best = out.appendingPathComponent("best.safetensors")
        if FileManager.default.fileExists(atPath: best.path) {
            for (key, tensor) in try loadSafetensors(best) { XCTAssertTrue(tensor.values.allSatisfy(\.isFinite), key) }
        }
    }

    /// NaN weights: every prediction is wrong, and eval says why instead of printing an accuracy.
    func testNaNLogitsAreNeverCorrect() throws {
        let root = try stripedImageFolder(self)
        var weights = try ModelRegistry.create("resnet18", ["num_classes": 2]).exportStateDict()
        let fc = try XCTUnwrap(weights["fc.weight"])
        weights["fc.weight"] = WeightTensor(shape: fc.shape, values: [Float](repeating: .nan, count: fc.values.count))
        let url = root.appendingPathComponent("nan.safetensors")
        try saveSafetensors(weights, to: url)
        try assertRefused(
            [
                "eval", root.appendingPathComponent("val").path, "--model", "resnet18", "--weights", url.path,
                "--img-size", "32",
            ], status: 1,
            "\(url.path): the model's outputs are NaN or infinite for 12 of 12 images")
    }

    /// A folder where every image is corrupt: nothing to learn or score is an error, not "mean loss 0.0000".
    func testRunsWithoutUsableImagesFail() throws {
        let root = try scratchDirectory(self, files: [:])
        for dir in ["a/x", "a/y"] {
            let folder = root.appendingPathComponent(dir)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            // A PNG signature (so the folder lists them) and nothing decodable after it.
            let corrupt = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array("garbage".utf8))
            for i in 0..<4 { try corrupt.write(to: folder.appendingPathComponent("\(i).png")) }
        }
        let folder = root.appendingPathComponent("a").path
        let out = root.appendingPathComponent("out")
        for arguments in [
            [
                "pretrain-mae", folder, "--model", "mae_vit_tiny_patch16", "--img-size", "32", "--epochs", "1",
                "--batch-size", "2", "--output", out.path,
            ],
            [
                "train", folder, "--val", folder, "--model", "resnet18", "--img-size", "32", "--epochs", "1",
                "--batch-size", "2", "--output", out.path,
            ],
        ] {
            let (status, _, stderr) = try runBounded(arguments)
            XCTAssertEqual(status, 1, stderr)
            XCTAssertTrue(stderr.contains("\(folder): no usable images (every file failed to decode)"), stderr)
        }
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: out.appendingPathComponent("checkpoint.safetensors").path))
    }

    /// A killed run's temporary checkpoint is removed by the next run in that folder; a second run at the same
    /// time is refused; a resumed run's metrics.csv holds no row twice.
    func testOutputFolderLeftoversLockAndResume() throws {
        let root = try stripedImageFolder(self)
        let out = root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let leftover = out.appendingPathComponent(".checkpoint.safetensors.4242.99.tmp")
        try Data(count: 1024).write(to: leftover)
        let arguments = [
            "train", root.appendingPathComponent("train").path, "--val", root.appendingPathComponent("val").path,
            "--model", "resnet18", "--img-size", "32", "--batch-size", "6", "--output", out.path,
        ]

        // Another process holds the folder.
        let lock = open(out.appendingPathComponent(".lock").path, O_RDWR | O_CREAT, 0o644)
        XCTAssertEqual(flock(lock, LOCK_EX | LOCK_NB), 0)
        try assertRefused(
            arguments + ["--epochs", "1"], status: 1, "\(out.path): the output folder is in use by another zoo run")
        close(lock)

        var (status, _, stderr) = try runBounded(arguments + ["--epochs", "1"])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: leftover.path), "the killed run's temporary file is still there")

        // Rows logged after the checkpoint (a run killed mid-epoch) are dropped on resume, not repeated.
        let metrics = out.appendingPathComponent("metrics.csv")
        try (String(contentsOf: metrics, encoding: .utf8) + "2,9.99999,0,0,9.99999,0.1\n").write(
            to: metrics, atomically: true, encoding: .utf8)
        (status, _, stderr) = try runBounded(arguments + ["--epochs", "2", "--resume"])
        XCTAssertEqual(status, 0, stderr)
        let rows = try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(rows.map { $0.split(separator: ",")[0] }, ["1", "2"])
        XCTAssertFalse(rows.contains { $0.contains("9.99999") })
    }

    func testMessagesNameWhatFailed() throws {
        let dir = try scratchDirectory(self, files: ["two.txt": "cat\ndog\n", "file": ""])
        let photo = try Fixtures.samplesDirectory().appendingPathComponent("coffee.png")
        try assertRefused(
            ["classify", "--labels", dir.appendingPathComponent("two.txt").path, photo.path], status: 1,
            "two.txt: 2 labels, but the model predicts 1000 classes")
        let input = dir.appendingPathComponent("x.npy")
        try NumpyArray.write(
            FloatArray(shape: [1, 3, 32, 32], values: [Float](repeating: 0, count: 3 * 32 * 32)), to: input)
        try assertRefused(
            ["forward", "--input", input.path, "--output", "/nonexistent/y.npy"], status: 1,
            "/nonexistent/y.npy: cannot write .npy")
        let images = try stripedImageFolder(self)
        let (train, val) = (images.appendingPathComponent("train").path, images.appendingPathComponent("val").path)
        let file = dir.appendingPathComponent("file").path
        try assertRefused(
            ["train", train, "--val", val, "--model", "resnet18", "--img-size", "32", "--output", file], status: 1,
            "\(file): cannot create the output folder")
        let (_, help, _) = try runBounded(["rf", "--help"])
        XCTAssertFalse(help.contains("not available"), help)
    }
}
