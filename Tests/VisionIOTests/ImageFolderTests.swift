import Foundation
import Randomness
import XCTest

@testable import VisionIO

/// Builds small folder trees of real PNG / JPEG files in a temporary directory.
final class TemporaryTree {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("visionio-\(UUID().uuidString)")

    func write(_ relative: String, _ bytes: [UInt8]) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    func image(_ relative: String, width: Int = 24, height: Int = 18, seed: UInt64 = 0) throws {
        var rng = RandomGenerator(seed: seed)
        let image = Image(
            width: width, height: height,
            pixels: (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        try write(relative, relative.hasSuffix(".png") ? try image.encodePNG() : try image.encodeJPEG(quality: 90))
    }

    deinit { try? FileManager.default.removeItem(at: root) }
}

final class ImageFolderTests: XCTestCase {
    func testClassesSortedAndSamplesInTorchvisionOrder() throws {
        let tree = TemporaryTree()
        try tree.image("dog/b.png")
        try tree.image("dog/a.JPG")
        try tree.image("dog/sub/c.jpeg")
        try tree.image("Cat/z.png")
        try tree.image("cat/x.png")
        try tree.write("cat/notes.txt", Array("hi".utf8))
        try tree.write("loose.png", [])
        let folder = try ImageFolder(root: tree.root)
        XCTAssertEqual(folder.classes, ["Cat", "cat", "dog"])  // code-point order, like Python's sorted
        XCTAssertEqual(folder.samples.map { $0.url.lastPathComponent }, ["z.png", "x.png", "a.JPG", "b.png", "c.jpeg"])
        XCTAssertEqual(folder.samples.map(\.label), [0, 1, 2, 2, 2])
    }

    func testMissingOrEmptyFolderThrows() throws {
        XCTAssertThrowsError(try ImageFolder(root: URL(fileURLWithPath: "/nonexistent"))) {
            XCTAssertEqual($0 as? DatasetError, .notADirectory(path: "/nonexistent"))
        }
        let tree = TemporaryTree()
        try tree.write("a/readme.txt", [1])
        XCTAssertThrowsError(try ImageFolder(root: tree.root))
    }

    func testUnlabeledFolderSkipsNonImagesWithOneWarningEach() throws {
        let tree = TemporaryTree()
        try tree.image("a.png")
        try tree.image("deep/er/b.jpg")
        try tree.write("fake.jpg", Array("not a jpeg".utf8))
        try tree.write("notes.txt", Array("text".utf8))
        var warnings = [String]()
        let folder = try UnlabeledImageFolder(root: tree.root) { warnings.append($0) }
        XCTAssertEqual(folder.urls.map(\.lastPathComponent), ["a.png", "b.jpg"])
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].contains("fake.jpg"))
        XCTAssertEqual(folder.label(at: 0), -1)
    }
}
