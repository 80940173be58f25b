import Foundation
import Weights
import XCTest
import ZooTestSupport

/// Data-parallel training and sharded classification under `mpirun` (Open MPI, two ranks on this machine,
/// loopback only), against the same commands in one process.
final class JobTests: XCTestCase {
    /// `mpirun` with two ranks (or `ranks`) of the built zoo, shared memory and loopback TCP only, ended by
    /// `timeout` if it hangs (a rank that never reaches a collective would).
    private func runRanks(_ ranks: Int, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String)
    {
        let zoo = try builtZoo()
        let mpirun = try XCTUnwrap(
            ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "mpirun is missing: scripts/setup.sh installs openmpi-bin")
        return try runZoo(
            URL(fileURLWithPath: "/usr/bin/timeout"),
            ["300", mpirun] + mpirunOptions(ranks) + [zoo.path] + arguments)
    }

    private func mpirunOptions(_ ranks: Int) -> [String] {
        [
            "--allow-run-as-root", "--oversubscribe", "-np", String(ranks), "--mca", "btl", "self,vader,tcp",
            "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo",
        ]
    }

    /// The model part of a training checkpoint, in the order it was written.
    private func modelTensors(_ checkpoint: URL) throws -> [(String, [Float])] {
        let dict = try loadSafetensors(checkpoint)
        return dict.keys.filter { $0.hasPrefix("model.") }.map { ($0, dict[$0]!.values) }
    }

    /// ‖a − b‖ / ‖a‖ over all of a model's weights, and that the checkpoint saw the same weights on every rank:
    /// its recorded fingerprints (one per rank) all equal the fingerprint of the weights it holds.
    private func assertMatchesOneProcess(
        distributed: URL, single: URL, ranks: Int, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let a = try modelTensors(single.appendingPathComponent("checkpoint.safetensors"))
        let b = try modelTensors(distributed.appendingPathComponent("checkpoint.safetensors"))
        XCTAssertEqual(a.map(\.0), b.map(\.0), file: file, line: line)
        var difference = 0.0
        var norm = 0.0
        for ((_, x), (_, y)) in zip(a, b) {
            for (u, v) in zip(x, y) {
                difference += Double(u - v) * Double(u - v)
                norm += Double(u) * Double(u)
            }
        }
        let relative = (difference / norm).squareRoot()
        XCTAssertLessThan(relative, 1e-5, "weights of \(ranks) ranks vs one process", file: file, line: line)

        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over the bits of every value
        for (_, values) in b { for v in values { hash = (hash ^ UInt64(v.bitPattern)) &* 0x100_0000_01b3 } }
        let metadata = try loadSafetensors(distributed.appendingPathComponent("checkpoint.safetensors")).metadata
        let fingerprints = try XCTUnwrap(metadata["replica_fingerprints"], file: file, line: line)
        XCTAssertEqual(
            fingerprints, Array(repeating: String(format: "%016llx", hash), count: ranks).joined(separator: ","),
            "every rank holds the saved weights", file: file, line: line)
    }

    func testPretrainMAEOnTwoRanksMatchesOneProcessWithTheGlobalBatch() throws {
        let photos = try gradientPhotos(self)
        let root = photos.deletingLastPathComponent()
        func arguments(batch: Int, output: String) -> [String] {
            [
                "pretrain-mae", photos.path, "--model", "mae_vit_tiny_patch16", "--img-size", "32", "--epochs", "2",
                "--batch-size", String(batch), "--blr", "0.05", "--warmup-epochs", "1", "--seed", "3",
                "--output", root.appendingPathComponent(output).path,
            ]
        }
        let single = try runZoo(try builtZoo(), arguments(batch: 4, output: "single"))
        XCTAssertEqual(single.0, 0, single.2)
        let distributed = try runRanks(2, arguments(batch: 2, output: "ranks"))
        XCTAssertEqual(distributed.status, 0, distributed.stderr)
        XCTAssertEqual(distributed.stderr.components(separatedBy: "encoder:").count, 1, "rank 0 alone reports")
        XCTAssertTrue(distributed.stdout.contains("encoder:"), distributed.stdout)

        try assertMatchesOneProcess(
            distributed: root.appendingPathComponent("ranks"), single: root.appendingPathComponent("single"), ranks: 2)
        // The same steps with the same global-batch losses and learning rates (lr = blr · 2 · 2 / 256).
        let csv = { (name: String) in
            try String(
                contentsOf: root.appendingPathComponent(name).appendingPathComponent("metrics.csv"), encoding: .utf8
            )
            .split(separator: "\n").map { $0.split(separator: ",") }
        }
        let (one, two) = (try csv("single"), try csv("ranks"))
        XCTAssertEqual(one.count, 1 + 2 * 2, "8 images in global batches of 4: two steps per epoch")
        XCTAssertEqual(one.count, two.count)
        for (a, b) in zip(one.dropFirst(), two.dropFirst()) {
            XCTAssertEqual(a[1], b[1])
            XCTAssertEqual(Double(a[2])!, Double(b[2])!, accuracy: 1e-5, "loss of step \(a[1])")
            XCTAssertEqual(a[3], b[3], "learning rate of step \(a[1])")
        }
        for name in ["encoder.safetensors", "loss_curve.png", "reconstruction_epoch002.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("ranks/\(name)").path))
        }
    }

    func testTrainResNet18OnTwoRanksMatchesOneProcess() throws {
        let data = try stripedImageFolder(self)
        func arguments(batch: Int, output: String) -> [String] {
            [
                "train", data.appendingPathComponent("train").path, "--val", data.appendingPathComponent("val").path,
                "--model", "resnet18", "--img-size", "32", "--epochs", "2", "--batch-size", String(batch),
                "--output", data.appendingPathComponent(output).path, "--json",
            ]
        }
        let single = try runZoo(try builtZoo(), arguments(batch: 6, output: "single"))
        XCTAssertEqual(single.0, 0, single.2)
        let distributed = try runRanks(2, arguments(batch: 3, output: "ranks"))
        XCTAssertEqual(distributed.status, 0, distributed.stderr)
        // Synchronised batch norm: without it the two runs differ by about 3 % (measured).
        try assertMatchesOneProcess(
            distributed: data.appendingPathComponent("ranks"), single: data.appendingPathComponent("single"), ranks: 2)

        struct Summary: Decodable, Equatable {
            var epoch: Int
            var valTop1: Double
            var valTop5: Double
        }
        let lines = distributed.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "rank 0 alone prints the summary: \(distributed.stdout)")
        XCTAssertEqual(
            try snakeCaseDecoder.decode(Summary.self, from: Data(lines[0].utf8)),
            try snakeCaseDecoder.decode(
                Summary.self, from: Data(try XCTUnwrap(single.1.split(separator: "\n").last).utf8)),
            "validation is sharded over the ranks and summed: the same scores")
    }

    /// SIGTERM to rank 1 alone (what a cluster's scheduler may do, and what mpirun sends each rank on Ctrl-C) is
    /// an agreed stop: rank 1 catches it, every rank leaves at the same batch, and rank 0 reports the
    /// interruption and writes the checkpoint. A rank without the handler would die, and mpirun would kill rank 0
    /// and report the signal instead.
    func testSignalToOneRankStopsEveryRankTogether() throws {
        let zoo = try builtZoo()
        let photos = try gradientPhotos(self)
        let output = photos.deletingLastPathComponent().appendingPathComponent("out")
        let checkpoint = output.appendingPathComponent("checkpoint.safetensors")
        let log = photos.deletingLastPathComponent().appendingPathComponent("mpirun.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
        process.arguments =
            mpirunOptions(2) + [
                zoo.path, "pretrain-mae", photos.path, "--model", "mae_vit_tiny_patch16", "--img-size", "32",
                "--epochs", "400", "--batch-size", "2", "--output", output.path,
            ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let deadline = Date().addingTimeInterval(240)
        while process.isRunning && !FileManager.default.fileExists(atPath: checkpoint.path) && Date() < deadline {
            usleep(10_000)
        }
        let rank1 = try XCTUnwrap(rankProcess(1, under: process.processIdentifier), "rank 1 of the running job")
        kill(rank1, SIGTERM)
        let stopBy = Date().addingTimeInterval(60)
        while process.isRunning && Date() < stopBy { usleep(10_000) }
        XCTAssertFalse(process.isRunning, "the ranks did not stop within a minute")
        let stderr = try String(contentsOf: log, encoding: .utf8)
        XCTAssertTrue(stderr.contains("interrupted; resume with --resume"), "rank 0 reports the stop: \(stderr)")
        XCTAssertFalse(stderr.contains("signal"), "no rank was killed: \(stderr)")
        XCTAssertNotNil(try loadSafetensors(checkpoint).metadata["samples_in_epoch"])
    }

    /// The process of MPI rank `rank` among the descendants of `launcher` (read from /proc).
    private func rankProcess(_ rank: Int, under launcher: Int32) throws -> pid_t? {
        var parents: [pid_t: pid_t] = [:]
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc") {
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // "pid (name) state ppid …": the name may hold spaces, so split after its closing parenthesis.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { parents[pid] = parent }
        }
        func descends(_ pid: pid_t) -> Bool {
            var current = pid
            while let parent = parents[current], parent > 1 {
                if parent == launcher { return true }
                current = parent
            }
            return false
        }
        return parents.keys.filter(descends).first { pid in
            let environment = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))) ?? Data()
            return environment.split(separator: 0).contains(Data("OMPI_COMM_WORLD_RANK=\(rank)".utf8))
        }
    }

    /// Ctrl-C on mpirun reaches the ranks as SIGTERM (after Open MPI's odls_base_sigkill_timeout, 1 s): they
    /// agree to stop, rank 0 writes the checkpoint, and the run resumes on two ranks, then on one.
    func testInterruptedTwoRankRunResumesOnAnyNumberOfRanks() throws {
        let zoo = try builtZoo()
        let photos = try gradientPhotos(self)
        let output = photos.deletingLastPathComponent().appendingPathComponent("out")
        let checkpoint = output.appendingPathComponent("checkpoint.safetensors")
        func arguments(epochs: Int, batch: Int) -> [String] {
            [
                "pretrain-mae", photos.path, "--model", "mae_vit_tiny_patch16", "--img-size", "32",
                "--epochs", String(epochs), "--batch-size", String(batch), "--output", output.path,
            ]
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
        process.arguments = mpirunOptions(2) + [zoo.path] + arguments(epochs: 400, batch: 2)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(240)
        while process.isRunning && !FileManager.default.fileExists(atPath: checkpoint.path) && Date() < deadline {
            usleep(10_000)
        }
        XCTAssertTrue(process.isRunning, "the run should still be going after its first epoch")
        kill(process.processIdentifier, SIGINT)
        let stopBy = Date().addingTimeInterval(60)
        while process.isRunning && Date() < stopBy { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            return XCTFail("the ranks did not stop within a minute of Ctrl-C")
        }
        XCTAssertNotEqual(process.terminationStatus, 0)
        let saved = try XCTUnwrap(Int(try loadSafetensors(checkpoint).metadata["epoch"] ?? ""))
        XCTAssertLessThan(saved, 400)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: output.appendingPathComponent("encoder.safetensors").path))

        let twoRanks = try runRanks(2, arguments(epochs: saved + 1, batch: 2) + ["--resume"])
        XCTAssertEqual(twoRanks.status, 0, twoRanks.stderr)
        // One process with the same global batch (2 × 2) takes over.
        let (status, _, stderr) = try runZoo(zoo, arguments(epochs: saved + 2, batch: 4) + ["--resume"])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertTrue(stderr.contains("resuming at epoch \(saved + 2)"), stderr)
        let rows = try String(contentsOf: output.appendingPathComponent("metrics.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { Int($0.split(separator: ",")[1])! }
        XCTAssertEqual(rows, Array(1...rows.count), "one row per step, none repeated or lost across the restarts")
        XCTAssertEqual(rows.count, (saved + 2) * 2, "8 images in global batches of 4")
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("encoder.safetensors").path))
    }

    /// One rank's error ends every rank (MPI_Abort) with a line naming the rank, instead of a hang.
    func testOneRanksErrorEndsTheJob() throws {
        let photos = try gradientPhotos(self)
        let blocked = photos.deletingLastPathComponent().appendingPathComponent("a-file")
        try Data("not a folder".utf8).write(to: blocked)
        // Only rank 0 opens the output folder, so only rank 0 fails; rank 1 waits for rank 0's weights.
        let (status, _, stderr) = try runRanks(
            2,
            [
                "pretrain-mae", photos.path, "--model", "mae_vit_tiny_patch16", "--img-size", "32",
                "--batch-size", "2", "--output", blocked.path,
            ])
        XCTAssertNotEqual(status, 0)
        XCTAssertNotEqual(status, 124, "timeout: the job hung")
        XCTAssertTrue(stderr.contains("zoo: rank 0 of 2: "), stderr)
        XCTAssertTrue(stderr.contains(blocked.path), stderr)
    }

    struct Entry: Codable, Equatable {
        struct Prediction: Codable, Equatable {
            var index: Int
            var label: String
            var prob: Float
        }
        var file: String
        var top: [Prediction]?
        var error: String?

        /// Equal up to float noise: shards batch the images differently.
        func matches(_ other: Entry) -> Bool {
            file == other.file && error == other.error && top?.map(\.index) == other.top?.map(\.index)
                && zip(top ?? [], other.top ?? []).allSatisfy { abs($0.prob - $1.prob) < 1e-5 }
        }
    }

    /// `classify --shard i/n --output OUT`: the shares interleave back into the single-process output; under
    /// mpirun each rank takes its share; a rerun skips the shares already written.
    func testShardedClassifyUnionIsTheSingleProcessOutput() throws {
        let zoo = try builtZoo()
        let photos = try gradientPhotos(self, count: 7)
        try Data("damaged".utf8).write(to: photos.appendingPathComponent("photo7.png"))
        let root = photos.deletingLastPathComponent()
        let model = ["--weights", try Fixtures.efficientNetLite0Weights().path, "--batch-size", "3"]
        let (status, stdout, stderr) = try runZoo(zoo, ["classify", "--json"] + model + [photos.path])
        XCTAssertEqual(status, 1, "the damaged file fails: \(stderr)")
        let whole = try snakeCaseDecoder.decode([Entry].self, from: Data(stdout.utf8))
        XCTAssertEqual(whole.count, 8)

        func shares(_ folder: URL, of count: Int) throws -> [[Entry]] {
            try (0..<count).map { i in
                let file = folder.appendingPathComponent(String(format: "predictions-%05d-of-%05d.jsonl", i, count))
                return try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map {
                    try snakeCaseDecoder.decode(Entry.self, from: Data($0.utf8))
                }
            }
        }
        func interleaved(_ shares: [[Entry]]) -> [Entry] {
            (0..<shares.map(\.count).reduce(0, +)).map { shares[$0 % shares.count][$0 / shares.count] }
        }
        func assertSame(_ entries: [Entry], _ what: String) {
            XCTAssertEqual(entries.count, whole.count, what)
            for (a, b) in zip(entries, whole) { XCTAssertTrue(a.matches(b), "\(what): \(a) vs \(b)") }
        }

        let out = root.appendingPathComponent("out")
        for i in 0..<3 {
            let share = try runZoo(
                zoo, ["classify", "--shard", "\(i)/3", "--output", out.path] + model + [photos.path])
            XCTAssertEqual(share.0, i == 1 ? 1 : 0, "share 1 holds photo7.png (files 1, 4, 7): \(share.2)")
            XCTAssertEqual(share.1, "", "results go to the file")
        }
        assertSame(interleaved(try shares(out, of: 3)), "three shares")

        // An interrupted run: share 2's file is missing. The rerun writes it and leaves the others alone.
        let kept = out.appendingPathComponent("predictions-00000-of-00003.jsonl")
        let before = try FileManager.default.attributesOfItem(atPath: kept.path)[.modificationDate] as? Date
        try FileManager.default.removeItem(at: out.appendingPathComponent("predictions-00002-of-00003.jsonl"))
        usleep(20_000)
        for i in 0..<3 {
            let share = try runZoo(
                zoo, ["classify", "--shard", "\(i)/3", "--output", out.path] + model + [photos.path])
            XCTAssertEqual(share.2.contains("already written, skipped"), i != 2, share.2)
        }
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: kept.path)[.modificationDate] as? Date, before)
        assertSame(interleaved(try shares(out, of: 3)), "three shares after the rerun")

        // Under mpirun each rank classifies its share.
        let ranksOut = root.appendingPathComponent("ranks")
        let ranks = try runRanks(2, ["classify", "--output", ranksOut.path] + model + [photos.path])
        XCTAssertNotEqual(ranks.status, 0, "rank 1 holds the damaged file")
        assertSame(interleaved(try shares(ranksOut, of: 2)), "two ranks")
        XCTAssertEqual(try runZoo(zoo, ["classify", "--shard", "3/3"] + model + [photos.path]).0, 2)
    }
}
