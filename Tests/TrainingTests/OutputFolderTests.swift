import Foundation
import XCTest

@testable import Training

/// A run's output folder: created on demand, locked with flock against a second concurrent run, and cleared
/// of the temporary files a killed run left behind.
final class OutputFolderTests: XCTestCase {
    private func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("output-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testRefusesASecondConcurrentRunUntilTheFirstEnds() throws {
        let url = try temporaryFolder().appendingPathComponent("run/nested")
        do {
            let first = try OutputFolder(url)
            XCTAssertEqual(first.url, url)
            XCTAssertTrue(FileManager.default.fileExists(atPath: url.appendingPathComponent(".lock").path))
            try withExtendedLifetime(first) {
                XCTAssertThrowsError(try OutputFolder(url)) { error in
                    XCTAssertEqual(error as? OutputFolderError, .inUse(path: url.path))
                }
            }
        }
        // The first run has ended: the kernel released the lock with its descriptor.
        XCTAssertNoThrow(try OutputFolder(url))
    }

    /// The lock is flock(2) on `.lock`, so another process (here flock(1)) sees it too.
    func testTheLockIsVisibleToOtherProcesses() throws {
        let flock = URL(fileURLWithPath: "/usr/bin/flock")
        guard FileManager.default.isExecutableFile(atPath: flock.path) else { throw XCTSkip("no /usr/bin/flock") }
        let url = try temporaryFolder()
        func otherProcessCanLock() throws -> Bool {
            let process = Process()
            process.executableURL = flock
            process.arguments = ["--nonblock", url.appendingPathComponent(".lock").path, "true"]
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus == 0
        }
        do {
            let folder = try OutputFolder(url)
            try withExtendedLifetime(folder) { XCTAssertFalse(try otherProcessCanLock()) }
        }
        XCTAssertTrue(try otherProcessCanLock())
    }

    func testRemovesLeftoverTemporaryFilesOnly() throws {
        let url = try temporaryFolder()
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for name in [".checkpoint.safetensors.tmp", ".x.tmp", "notes.tmp", "last.safetensors", ".hidden"] {
            try Data([1]).write(to: url.appendingPathComponent(name))
        }
        let folder = try OutputFolder(url)
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).sorted()
        XCTAssertEqual(left, [".hidden", ".lock", "last.safetensors", "notes.tmp"])
    }

    func testCannotCreateUnderAFile() throws {
        let file = try temporaryFolder()
        try Data([1]).write(to: file)
        XCTAssertThrowsError(try OutputFolder(file.appendingPathComponent("run"))) { error in
            guard case .cannotCreate(let path, _)? = error as? OutputFolderError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(path, file.appendingPathComponent("run").path)
        }
    }

    func testDescriptionsStartWithThePath() {
        XCTAssertEqual(
            OutputFolderError.inUse(path: "/runs/a").description,
            "/runs/a: the output folder is in use by another zoo run")
        XCTAssertEqual(
            OutputFolderError.cannotCreate(path: "/runs/b", reason: "Permission denied").description,
            "/runs/b: cannot create the output folder (Permission denied)")
    }
}
