// Locates the PIL/timm-generated fixtures (Fixtures/make_fixtures.py) and the sample photos.
import Foundation
import XCTest

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ parts: String...) -> URL {
        parts.reduce(directory) { $0.appendingPathComponent($1) }
    }

    static func bytes(_ parts: String...) throws -> [UInt8] {
        let url = parts.reduce(directory) { $0.appendingPathComponent($1) }
        return [UInt8](try Data(contentsOf: url))
    }

    static func manifest() throws -> [String: Any] {
        let data = try Data(contentsOf: url("manifest.json"))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw XCTSkip("manifest.json is not an object")
        }
        return object
    }

    /// Package root's datasets/samples (present after scripts/setup.sh), else the main checkout's.
    static func samplesDirectory() throws -> URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for candidate in [root.appendingPathComponent("datasets/samples"), URL(fileURLWithPath: "/work/main/datasets/samples")] {
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("chelsea.png").path) {
                return candidate
            }
        }
        throw XCTSkip("sample photos not found (run scripts/setup.sh)")
    }
}
