import Foundation
import Models
import Weights
import XCTest

/// Locations and loaders shared by the test targets (not part of the library product).
public enum Fixtures {
    /// The package root, from this file's path (Sources/ZooTestSupport/Fixtures.swift).
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shared parity fixtures: `$ZOO_PARITY_DIR`, else `<package root>/../shared/parity`, else the team's
    /// shared folder `/work/shared/parity` (for clones and worktrees made elsewhere, as CI's may be); skips the
    /// test when absent.
    public static func parityDirectory() throws -> URL {
        var candidates: [URL] = []
        if let override = ProcessInfo.processInfo.environment["ZOO_PARITY_DIR"], !override.isEmpty {
            candidates.append(URL(fileURLWithPath: override))
        }
        candidates.append(packageRoot.appendingPathComponent("../shared/parity").standardizedFileURL)
        candidates.append(URL(fileURLWithPath: "/work/shared/parity"))
        if let found = candidates.first(where: isDirectory) { return found }
        throw XCTSkip("parity fixtures not found (set ZOO_PARITY_DIR); looked in \(candidates.map(\.path))")
    }

    /// Where fetched data is looked for: the package root, then `$ZOO_HOME` (another checkout that ran setup,
    /// e.g. for a git worktree).
    static var dataRoots: [URL] {
        [packageRoot] + (ProcessInfo.processInfo.environment["ZOO_HOME"].map { [URL(fileURLWithPath: $0)] } ?? [])
    }

    /// The sample photos fetched by scripts/setup.sh; skips the test when absent.
    public static func samplesDirectory() throws -> URL {
        let candidates = dataRoots.map { $0.appendingPathComponent("datasets/samples") }
        if let found = candidates.first(where: isDirectory) { return found }
        throw XCTSkip("sample photos not found: run scripts/setup.sh")
    }

    /// The real EfficientNet-Lite0 weights fetched by scripts/setup.sh; skips the test when absent.
    public static func efficientNetLite0Weights() throws -> URL {
        let candidates = dataRoots.map { $0.appendingPathComponent("zoo/weights/efficientnet-lite0.pth") }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) { return found }
        throw XCTSkip("EfficientNet-Lite0 weights not found: run scripts/setup.sh")
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &flag) && flag.boolValue
    }

    /// One entry of parity/manifest.json.
    public struct ParityFixture: Decodable {
        /// The fixture's name, also the stem of its `<name>.safetensors` and `<name>.io.safetensors` files.
        public var name: String
        /// The model family it covers (e.g. `cnn`, `vit`, `swin`, `mae`).
        public var family: String
        /// The timm architecture the fixture was built from (e.g. `resnet18`; for `mae_tiny` a description).
        public var timmArch: String
        /// The keyword arguments passed to `timm.create_model` (`timm_kwargs`).
        public var timmArguments: [String: ArgumentValue]
        /// The input's shape, `[N, C, H, W]`.
        public var inputShape: [Int]
        /// The shape of timm's output (`[N, classes]` for classifiers).
        public var outputShape: [Int]

        enum CodingKeys: String, CodingKey {
            case name, family
            case timmArch = "timm_arch"
            case timmArguments = "timm_kwargs"
            case inputShape = "input_shape"
            case outputShape = "output_shape"
        }
    }

    /// Keyword arguments some fixtures pass that timm ignores for their architecture, and the zoo therefore
    /// refuses rather than accepting to no effect: `stem_width` shapes only ResNet's deep stems, and the
    /// fixtures' ResNets have the plain 7×7 stem (64 channels whatever stem_width says).
    public static let ignoredByTimm: Set<String> = ["stem_width"]

    /// Every fixture listed in parity/manifest.json; skips the test when the fixtures are absent.
    public static func parityManifest() throws -> [ParityFixture] {
        struct Manifest: Decodable { var fixtures: [ParityFixture] }
        let data = try Data(contentsOf: parityDirectory().appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode(Manifest.self, from: data).fixtures
    }

    /// The timm state dict of fixture `name` (`<name>.safetensors`); skips the test when the fixtures are absent.
    public static func parityWeights(_ name: String) throws -> StateDict {
        try loadSafetensors(parityDirectory().appendingPathComponent("\(name).safetensors"))
    }

    /// The input and timm's results for fixture `name` (`<name>.io.safetensors`: `input` and `output`;
    /// `mae_tiny`'s: `input`, `noise`, `loss`, `pred` and `mask`); skips the test when the fixtures are absent.
    public static func parityIO(_ name: String) throws -> StateDict {
        try loadSafetensors(parityDirectory().appendingPathComponent("\(name).io.safetensors"))
    }

    /// The DESIGN.md criterion: max |diff| ≤ 1e-4 × max(1, max |expected|).
    public static func assertParity(
        _ actual: [Float], _ expected: [Float], _ name: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(actual.count, expected.count, "\(name): element count", file: file, line: line)
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity
        let scale = max(1, expected.map(abs).max() ?? 0)
        XCTAssertLessThanOrEqual(
            worst, 1e-4 * scale, "\(name): max |diff| \(worst), allowed \(1e-4 * scale)", file: file, line: line)
    }
}
