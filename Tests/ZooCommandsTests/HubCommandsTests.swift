import Crypto
import Foundation
import Models
import Weights
import XCTest
import ZooTestSupport

@testable import ZooCommands

/// Pretrained weights by name against a Hub look-alike on loopback (`Tests/Support/hub_server.py`): the
/// protocol, the shared cache layout, resuming, verification, locking and one-line errors. No test leaves
/// the machine.
final class HubCommandsTests: XCTestCase {
    private let repository = "timm/tf_efficientnet_lite0.in1k"

    /// A hub root holding timm/tf_efficientnet_lite0.in1k/model.safetensors: the real EfficientNet-Lite0
    /// weights in timm's naming (as the Hub has them).
    private func hubRoot(file: String = "model.safetensors") throws -> (root: URL, weights: URL) {
        let root = try scratchDirectory(self, files: [:])
        let folder = root.appendingPathComponent("hub").appendingPathComponent(repository)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let weights = folder.appendingPathComponent(file)
        if file == "model.safetensors" {
            let model = try ModelRegistry.entry(named: "tf_efficientnet_lite0").create(
                weightsAt: Fixtures.efficientNetLite0Weights())
            try saveSafetensors(model.exportStateDict(), to: weights)
        } else {
            try FileManager.default.copyItem(at: Fixtures.efficientNetLite0Weights(), to: weights)
        }
        return (root, weights)
    }

    /// Starts the server; returns its endpoint and the request log, and stops it when the test ends.
    private func startServer(_ root: URL, flags: [String] = []) throws -> (endpoint: String, log: URL, process: Process)
    {
        let log = root.appendingPathComponent("requests.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "python3", Fixtures.packageRoot.appendingPathComponent("Tests/Support/hub_server.py").path,
                root.appendingPathComponent("hub").path, log.path,
            ] + flags
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        addTeardownBlock {
            process.terminate()
            process.waitUntilExit()
        }
        var port = ""
        while let byte = try out.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") {
            port.append(Character(UnicodeScalar(byte)))
        }
        XCTAssertFalse(port.isEmpty, "the hub server did not start")
        return ("http://127.0.0.1:\(port)", log, process)
    }

    private func requests(_ log: URL) -> [String] {
        ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    private func environment(_ endpoint: String, cache: URL, extra: [String: String] = [:]) -> [String: String] {
        ["HF_ENDPOINT": endpoint, "HF_HUB_CACHE": cache.path, "HF_TOKEN": "secret-token", "HF_HUB_OFFLINE": ""].merging(
            extra
        ) { $1 }
    }

    private func sha256(_ url: URL) throws -> String {
        SHA256.hash(data: try Data(contentsOf: url)).map { String(format: "%02x", $0) }.joined()
    }

    func testClassifyFetchesOnceVerifiesCachesAndWorksOffline() throws {
        let zoo = try builtZoo()
        let (root, weights) = try hubRoot()
        let server = try startServer(root)
        let cache = root.appendingPathComponent("cache")
        let photo = try Fixtures.samplesDirectory().appendingPathComponent("coffee.png").path
        let arguments = ["classify", "--model", "tf_efficientnet_lite0.in1k", photo]

        var (status, stdout, stderr) = try runZoo(
            zoo, arguments, environment: environment(server.endpoint, cache: cache))
        XCTAssertEqual(status, 0, stderr)
        XCTAssertTrue(stdout.contains("espresso"), stdout)
        let log = requests(server.log)
        XCTAssertEqual(log.count, 2, log.joined(separator: "\n"))
        XCTAssertEqual(log.first, "HEAD /\(repository)/resolve/main/model.safetensors range=- auth=yes")
        XCTAssertEqual(
            log.last, "GET /cdn/\(repository)/model.safetensors range=- auth=no",
            "the token must not follow the redirect")

        // huggingface_hub's layout: blobs/<sha256>, snapshots/<commit>/<file> → ../../blobs/<sha256>, refs/main.
        let folder = cache.appendingPathComponent("models--timm--tf_efficientnet_lite0.in1k")
        let sha = try sha256(weights)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("blobs").path), [sha])
        let commit = try String(contentsOf: folder.appendingPathComponent("refs/main"), encoding: .utf8)
        XCTAssertEqual(commit, "0123456789abcdef0123456789abcdef01234567")
        let link = folder.appendingPathComponent("snapshots/\(commit)/model.safetensors").path
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), "../../blobs/\(sha)")

        // Cached: no request at all; offline with the server gone: the same answer.
        (status, stdout, stderr) = try runZoo(zoo, arguments, environment: environment(server.endpoint, cache: cache))
        XCTAssertEqual(status, 0, stderr)
        XCTAssertEqual(requests(server.log).count, 2)
        server.process.terminate()
        server.process.waitUntilExit()
        (status, stdout, stderr) = try runZoo(
            zoo, arguments,
            environment: environment(
                "http://127.0.0.1:9", cache: cache,
                extra: ["HF_HUB_OFFLINE": "1"]))
        XCTAssertEqual(status, 0, stderr)
        XCTAssertTrue(stdout.contains("espresso"), stdout)
    }

    /// A cache in the layout Python's huggingface_hub writes (another commit, the blob named by its sha256)
    /// is used as it is.
    func testCacheWrittenByHuggingFaceHubIsUsed() throws {
        let zoo = try builtZoo()
        let (root, weights) = try hubRoot()
        let cache = root.appendingPathComponent("cache")
        let folder = cache.appendingPathComponent("models--timm--tf_efficientnet_lite0.in1k")
        let (sha, commit) = (try sha256(weights), "fedcba9876543210fedcba9876543210fedcba98")
        for sub in ["blobs", "refs", "snapshots/\(commit)"] {
            try FileManager.default.createDirectory(
                at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(at: weights, to: folder.appendingPathComponent("blobs/\(sha)"))
        try commit.write(to: folder.appendingPathComponent("refs/main"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: folder.appendingPathComponent("snapshots/\(commit)/model.safetensors").path,
            withDestinationPath: "../../blobs/\(sha)")
        let photo = try Fixtures.samplesDirectory().appendingPathComponent("coffee.png").path
        let (status, stdout, stderr) = try runZoo(
            zoo, ["classify", "--model", "tf_efficientnet_lite0.in1k", photo],
            environment: environment("http://127.0.0.1:9", cache: cache, extra: ["HF_HUB_OFFLINE": "1"]))
        XCTAssertEqual(status, 0, stderr)
        XCTAssertTrue(stdout.contains("espresso"), stdout)
    }

    /// The first transfer is cut halfway: the client resumes with Range and the blob verifies.
    func testCutTransferResumes() throws {
        let zoo = try builtZoo()
        let (root, weights) = try hubRoot()
        let server = try startServer(root, flags: ["--cut"])
        let cache = root.appendingPathComponent("cache")
        let (status, stdout, stderr) = try runZoo(
            zoo, ["download", "tf_efficientnet_lite0.in1k"],
            environment: environment(server.endpoint, cache: cache))
        XCTAssertEqual(status, 0, stderr)
        let path = URL(fileURLWithPath: stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(try sha256(path), try sha256(weights))
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: weights.path)[.size] as? Int)
        let gets = requests(server.log).filter { $0.hasPrefix("GET /cdn/") }
        XCTAssertEqual(gets.count, 2, gets.joined(separator: "\n"))
        XCTAssertEqual(gets.last, "GET /cdn/\(repository)/model.safetensors range=bytes=\(size / 2)- auth=no")
    }

    /// Bytes whose sha256 differs from the announced ETag: refused in one line, and nothing is cached.
    func testWrongHashIsRefusedAndNotCached() throws {
        let zoo = try builtZoo()
        let (root, _) = try hubRoot()
        let server = try startServer(root, flags: ["--wrong-etag"])
        let cache = root.appendingPathComponent("cache")
        let (status, _, stderr) = try runZoo(
            zoo, ["download", "tf_efficientnet_lite0.in1k"],
            environment: environment(server.endpoint, cache: cache))
        XCTAssertEqual(status, 1)
        let lines = errorLines(stderr)
        XCTAssertEqual(lines.count, 1, stderr)
        XCTAssertTrue(lines.first?.contains("\(repository)/model.safetensors: content hash") == true, stderr)
        let blobs = cache.appendingPathComponent("models--timm--tf_efficientnet_lite0.in1k/blobs").path
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: blobs), [], "a bad blob stayed in the cache")
        XCTAssertFalse(
            FileManager.default.fileExists(
                atPath: cache.appendingPathComponent("models--timm--tf_efficientnet_lite0.in1k/snapshots").path))
    }

    /// Two processes fetch the same file at once: one downloads, the other waits for it; one good blob.
    func testTwoProcessesFetchingAtOnceEndWithOneBlob() throws {
        let zoo = try builtZoo()
        let (root, weights) = try hubRoot()
        let server = try startServer(root, flags: ["--slow"])
        let cache = root.appendingPathComponent("cache")
        let env = ProcessInfo.processInfo.environment.merging(environment(server.endpoint, cache: cache)) { $1 }
        let processes = (0..<2).map { _ -> Process in
            let process = Process()
            process.executableURL = zoo
            process.arguments = ["download", "tf_efficientnet_lite0.in1k"]
            process.environment = env
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            return process
        }
        for process in processes { try process.run() }
        for process in processes {
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0)
        }
        let blobs = cache.appendingPathComponent("models--timm--tf_efficientnet_lite0.in1k/blobs")
        let sha = try sha256(weights)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: blobs.path), [sha])
        XCTAssertEqual(try sha256(blobs.appendingPathComponent(sha)), sha)
        XCTAssertEqual(requests(server.log).filter { $0.hasPrefix("GET /cdn/") }.count, 1)
    }

    /// A repository with only pytorch_model.bin (a torch.save file): the fallback is fetched and loads.
    func testPyTorchBinFallback() throws {
        let zoo = try builtZoo()
        let (root, _) = try hubRoot(file: "pytorch_model.bin")
        let server = try startServer(root)
        let photo = try Fixtures.samplesDirectory().appendingPathComponent("coffee.png").path
        let (status, stdout, stderr) = try runZoo(
            zoo, ["classify", "--model", "tf_efficientnet_lite0.in1k", photo],
            environment: environment(server.endpoint, cache: root.appendingPathComponent("cache")))
        XCTAssertEqual(status, 0, stderr)
        XCTAssertTrue(stdout.contains("espresso"), stdout)
    }

    func testErrorsAreOneLine() throws {
        let zoo = try builtZoo()
        let (root, _) = try hubRoot()
        let cache = root.appendingPathComponent("cache")
        let server = try startServer(root)
        let gated = try startServer(root, flags: ["--gated"])
        let blocker = root.appendingPathComponent("a-file")
        try Data().write(to: blocker)
        let cases: [(String, [String: String], String)] = [
            (
                "resnet50.a1_in1k", environment(server.endpoint, cache: cache),
                "timm/resnet50.a1_in1k: no such repository on \(server.endpoint)"
            ),
            ("tf_efficientnet_lite0.in1k", environment(gated.endpoint, cache: cache), "\(repository): access is gated"),
            (
                "tf_efficientnet_lite0.in1k", environment("http://127.0.0.1:9", cache: cache),
                "http://127.0.0.1:9/\(repository)/resolve/main/model.safetensors: "
            ),
            (
                "tf_efficientnet_lite0.in1k",
                environment(server.endpoint, cache: cache, extra: ["HF_HUB_OFFLINE": "1"]),
                "\(repository)/model.safetensors or pytorch_model.bin is not in the Hugging Face cache and HF_HUB_OFFLINE is set"
            ),
            (
                "tf_efficientnet_lite0.in1k",
                environment(server.endpoint, cache: blocker.appendingPathComponent("cache")),
                "cannot write the Hugging Face cache"
            ),
        ]
        for (name, env, message) in cases {
            let (status, _, stderr) = try runZoo(zoo, ["download", name], environment: env)
            XCTAssertEqual(status, 1, "\(name) \(env): \(stderr)")
            XCTAssertEqual(errorLines(stderr).count, 1, stderr)
            XCTAssertTrue(errorLines(stderr).first?.contains(message) == true, "expected '\(message)' in: \(stderr)")
        }
    }

    /// A disk that fills up mid-download (a 1 MB file-size limit): one line, exit 1, and nothing half-written is
    /// linked into the cache.
    func testFullDiskIsOneLine() throws {
        let zoo = try builtZoo()
        let (root, _) = try hubRoot()
        let server = try startServer(root)
        let cache = root.appendingPathComponent("cache")
        let (status, _, stderr) = try runZoo(
            URL(fileURLWithPath: "/usr/bin/prlimit"),
            ["--fsize=\(1 << 20)", "--", zoo.path, "download", "tf_efficientnet_lite0.in1k"],
            environment: environment(server.endpoint, cache: cache))
        XCTAssertEqual(status, 1, stderr)
        XCTAssertEqual(errorLines(stderr).count, 1, stderr)
        XCTAssertTrue(errorLines(stderr).first?.contains("cannot write the Hugging Face cache (") == true, stderr)
        XCTAssertFalse(
            FileManager.default.fileExists(
                atPath: cache.appendingPathComponent("models--timm--tf_efficientnet_lite0.in1k/snapshots").path))
    }

    /// A tag timm publishes no Hub weights for is refused before any request, naming the model and the way out.
    func testTagWithoutHubWeightsNamesTheRemedy() {
        XCTAssertThrowsError(try fetchPretrainedWeights("seresnet101", PretrainedConfig(tag: "untrained"))) { error in
            XCTAssertEqual(
                "\(error)", "seresnet101.untrained: timm publishes no weights for this tag on the Hub; pass --weights W"
            )
        }
    }

    /// `zoo download` checks every name before fetching any: an unknown one is bad usage naming it.
    func testDownloadRefusesUnknownNamesUpFront() {
        let error = commandError(["download", "resnet50", "resnet5"])
        XCTAssertNotNil(error)
        XCTAssertTrue(
            "\(error.map { "\($0)" } ?? "")".contains("unknown model 'resnet5'"), "\(String(describing: error))")
    }
}
