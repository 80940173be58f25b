import Foundation
import VisionIO
import Weights
import XCTest

/// `zoo pretrain-mae` end to end: Ctrl-C writes a checkpoint, and `--resume` finishes the run bit for bit.
final class PretrainMAECommandTests: XCTestCase {
    private let epochs = 8

    private func arguments(_ photos: URL, output: URL) -> [String] {
        [
            "pretrain-mae", photos.path, "--model", "mae_vit_tiny_patch16", "--img-size", "32", "--epochs",
            String(epochs),
            "--batch-size", "4", "--lr", "1e-3", "--warmup-epochs", "1", "--preview-every", "2", "--output",
            output.path,
        ]
    }

    /// Starts the binary, sends SIGINT once the first epoch's checkpoint exists (the handler is installed by then),
    /// and returns the exit status and stderr.
    private func runInterrupted(
        _ zoo: URL, _ arguments: [String], checkpoint: URL
    ) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = zoo
        process.arguments = arguments
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(300)
        while process.isRunning && !FileManager.default.fileExists(atPath: checkpoint.path) && Date() < deadline {
            usleep(2_000)
        }
        if process.isRunning { kill(process.processIdentifier, SIGINT) }
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stderr)
    }

    func testInterruptAndResumeMatchesAnUninterruptedRun() throws {
        let zoo = try builtZoo()
        let photos = try gradientPhotos(self)
        let root = photos.deletingLastPathComponent()
        let straight = root.appendingPathComponent("A")
        let resumed = root.appendingPathComponent("B")

        let (status, _, stderr) = try runZoo(zoo, arguments(photos, output: straight))
        XCTAssertEqual(status, 0, stderr)

        let checkpoint = resumed.appendingPathComponent("checkpoint.safetensors")
        let interrupted = try runInterrupted(zoo, arguments(photos, output: resumed), checkpoint: checkpoint)
        XCTAssertEqual(
            interrupted.status, 1,
            "the run should stop on SIGINT with status 1 (status 0: it finished first)\n\(interrupted.stderr)")
        XCTAssertTrue(interrupted.stderr.contains("interrupted"), interrupted.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.path))
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: resumed.appendingPathComponent("encoder.safetensors").path),
            "an interrupted run exports no encoder")

        let (resumeStatus, _, resumeError) = try runZoo(zoo, arguments(photos, output: resumed) + ["--resume"])
        XCTAssertEqual(resumeStatus, 0, resumeError)

        // Same encoder, value for value, in timm's ViT naming.
        let a = try loadSafetensors(straight.appendingPathComponent("encoder.safetensors"))
        let b = try loadSafetensors(resumed.appendingPathComponent("encoder.safetensors"))
        XCTAssertEqual(a.keys, b.keys)
        for key in ["cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.0.attn.qkv.weight", "norm.weight"] {
            XCTAssertTrue(a.contains(key), "encoder lacks \(key): \(a.keys.prefix(8))")
        }
        for (key, tensor) in a {
            XCTAssertEqual(tensor.shape, b[key]?.shape, key)
            XCTAssertTrue(tensor.values == b[key]?.values, "\(key) differs after resume")
        }
        // Same per-step log: epoch, step, loss, lr.
        let csvA = try String(contentsOf: straight.appendingPathComponent("metrics.csv"), encoding: .utf8)
        let csvB = try String(contentsOf: resumed.appendingPathComponent("metrics.csv"), encoding: .utf8)
        XCTAssertEqual(csvA.split(separator: "\n").first, "epoch,step,loss,lr")
        XCTAssertEqual(
            csvA.split(separator: "\n").count, 1 + epochs * 2, "8 images in batches of 4: two steps per epoch")
        XCTAssertEqual(csvA, csvB)

        // Reconstruction grids every 2 epochs and a loss curve, all decodable; the same pictures either way.
        let pictures =
            stride(from: 2, through: epochs, by: 2).map { String(format: "reconstruction_epoch%03d.png", $0) } + [
                "loss_curve.png"
            ]
        for name in pictures {
            let image = try Image(contentsOf: straight.appendingPathComponent(name))
            XCTAssertGreaterThan(image.width * image.height, 0, name)
            XCTAssertEqual(
                try Data(contentsOf: straight.appendingPathComponent(name)),
                try Data(contentsOf: resumed.appendingPathComponent(name)), "\(name) differs after resume")
        }
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: straight.appendingPathComponent("reconstruction_epoch001.png").path))
    }

    func testResumeWithoutCheckpointAndBadUsage() throws {
        let zoo = try builtZoo()
        let dir = try scratchDirectory(self, files: [:])
        let out = dir.appendingPathComponent("out").path
        let (status, _, stderr) = try runZoo(
            zoo, ["pretrain-mae", dir.path, "--model", "mae_vit_tiny_patch16", "--output", out, "--resume"])
        XCTAssertEqual(status, 1, stderr)
        XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
        XCTAssertTrue(stderr.contains("\(out)/checkpoint.safetensors"), stderr)
        XCTAssertEqual(
            try runZoo(zoo, ["pretrain-mae", dir.path, "--model", "mae_vit_tiny_patch15", "--output", out]).0, 2)
        XCTAssertEqual(
            try runZoo(
                zoo, ["pretrain-mae", dir.path, "--model", "mae_vit_tiny_patch16", "--img-size", "40", "--output", out]
            ).0, 2)
    }
}
