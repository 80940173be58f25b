import Foundation
import XCTest

@testable import Hub

/// The shared cache in huggingface_hub's layout: where the environment puts it, the folder names, the snapshot
/// links and refs, and which files count as cached.
final class HubCacheTests: XCTestCase {
    private func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("HubTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// huggingface_hub's order: HF_HUB_CACHE, then $HF_HOME/hub, then $XDG_CACHE_HOME/huggingface/hub, then
    /// ~/.cache/huggingface/hub; an empty variable counts as unset.
    func testRootFromTheEnvironment() {
        XCTAssertEqual(HubCache(environment: ["HF_HUB_CACHE": "/c", "HF_HOME": "/h"]).root.path, "/c")
        XCTAssertEqual(HubCache(environment: ["HF_HUB_CACHE": "", "HF_HOME": "/h"]).root.path, "/h/hub")
        XCTAssertEqual(HubCache(environment: ["XDG_CACHE_HOME": "/x"]).root.path, "/x/huggingface/hub")
        XCTAssertEqual(HubCache(environment: ["HF_HOME": "/h", "XDG_CACHE_HOME": "/x"]).root.path, "/h/hub")
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        XCTAssertEqual(HubCache(environment: [:]).root.path, home + "/.cache/huggingface/hub")
    }

    func testLayoutNames() {
        let cache = HubCache(root: URL(fileURLWithPath: "/c"))
        XCTAssertEqual(cache.repositoryFolder("timm/resnet50.a1_in1k").path, "/c/models--timm--resnet50.a1_in1k")
        XCTAssertEqual(cache.blob("timm/x", etag: "abc").path, "/c/models--timm--x/blobs/abc")
        XCTAssertEqual(
            cache.snapshot("timm/x", commit: "c0ffee", file: "model.safetensors").path,
            "/c/models--timm--x/snapshots/c0ffee/model.safetensors")
        XCTAssertEqual(cache.reference("timm/x", revision: "main").path, "/c/models--timm--x/refs/main")
    }

    /// A linked blob is found through refs/main or by its commit; the link is relative (../../blobs/<etag>, one
    /// more ../ per folder of the file's path), so the cache can move; a branch writes its ref, a commit does not.
    func testLinkedBlobsAreCachedFiles() throws {
        let cache = HubCache(root: try scratch())
        let repository = "timm/tiny"
        XCTAssertNil(cache.cachedFile(repository, file: "model.safetensors"))
        let blob = cache.blob(repository, etag: "e1")
        try FileManager.default.createDirectory(at: blob.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("weights".utf8).write(to: blob)

        try cache.link(repository, file: "model.safetensors", revision: "main", commit: "c1", etag: "e1")
        let link = cache.snapshot(repository, commit: "c1", file: "model.safetensors")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link.path), "../../blobs/e1")
        XCTAssertEqual(
            try String(contentsOf: cache.reference(repository, revision: "main"), encoding: .utf8), "c1")
        XCTAssertEqual(cache.cachedFile(repository, file: "model.safetensors"), link)
        XCTAssertEqual(cache.cachedFile(repository, file: "model.safetensors", revision: "c1"), link)
        XCTAssertEqual(try String(contentsOf: link, encoding: .utf8), "weights")
        XCTAssertNil(cache.cachedFile(repository, file: "other.bin"))

        try cache.link(repository, file: "sub/config.json", revision: "c1", commit: "c1", etag: "e1")
        let nested = cache.snapshot(repository, commit: "c1", file: "sub/config.json")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: nested.path), "../../../blobs/e1")
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: cache.reference(repository, revision: "c1").path),
            "a commit needs no ref")
    }

    /// A snapshot link whose blob is gone (a half-deleted cache) is not a cached file.
    func testLinkWithoutItsBlobIsNotCached() throws {
        let cache = HubCache(root: try scratch())
        try cache.link("timm/tiny", file: "model.safetensors", revision: "main", commit: "c1", etag: "gone")
        XCTAssertNil(cache.cachedFile("timm/tiny", file: "model.safetensors"))
    }

    /// A ref written with a trailing newline (as by hand, or by another tool) still resolves.
    func testRefIsTrimmed() throws {
        let cache = HubCache(root: try scratch())
        let blob = cache.blob("timm/tiny", etag: "e1")
        try FileManager.default.createDirectory(at: blob.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("w".utf8).write(to: blob)
        try cache.link("timm/tiny", file: "model.safetensors", revision: "main", commit: "c1", etag: "e1")
        try Data("c1\n".utf8).write(to: cache.reference("timm/tiny", revision: "main"))
        XCTAssertNotNil(cache.cachedFile("timm/tiny", file: "model.safetensors"))
    }
}
