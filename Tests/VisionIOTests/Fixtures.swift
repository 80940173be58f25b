// Locates the PIL/timm-generated fixtures (Fixtures/make_fixtures.py) and the sample photos.
import Foundation
import Randomness
import VisionIO
import XCTest
import ZooTestSupport

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Fixtures")

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

    /// The sample photos fetched by scripts/setup.sh (one lookup for every test target).
    static func samplesDirectory() throws -> URL { try ZooTestSupport.Fixtures.samplesDirectory() }

    /// A 32×24 image of seeded noise, on which nearly any change to the pixels shows.
    static let noiseImage: Image = {
        var rng = RandomGenerator(seed: 3)
        return Image(
            width: 32, height: 24, pixels: (0..<(32 * 24 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
    }()
}
