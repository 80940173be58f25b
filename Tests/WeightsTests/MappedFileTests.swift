import Foundation
import XCTest

@testable import Weights

/// The read-only file map checkpoints are read through.
final class MappedFileTests: XCTestCase {
    func testMapsTheFilesBytes() throws {
        let url = try makeTemporaryDirectory(self).appendingPathComponent("data.bin")
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        try write(bytes, to: url)
        let file = try MappedFile(url: url)
        XCTAssertEqual(file.path, url.path)
        XCTAssertEqual(Array(file.bytes), bytes)
    }

    /// Released pages are read again from the file when touched: the bytes do not change.
    func testReleasedPagesStillReadTheFile() throws {
        let url = try makeTemporaryDirectory(self).appendingPathComponent("data.bin")
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try write(bytes, to: url)
        let file = try MappedFile(url: url)
        file.releasePages(before: 50_000)
        file.releasePages(before: 20_000)  // already released: nothing to do
        file.releasePages(before: 1 << 30)  // past the end: up to the end
        XCTAssertEqual(Array(file.bytes), bytes)
    }

    /// mmap takes no empty length: an empty file is an empty buffer.
    func testEmptyFileIsEmpty() throws {
        let url = try makeTemporaryDirectory(self).appendingPathComponent("empty.bin")
        try write([], to: url)
        let file = try MappedFile(url: url)
        XCTAssertEqual(file.bytes.count, 0)
        file.releasePages(before: 100)
    }

    func testMissingFileAndDirectoryAreUnreadable() throws {
        let directory = try makeTemporaryDirectory(self)
        let missing = directory.appendingPathComponent("missing.bin")
        XCTAssertThrowsWeightsError(
            .unreadable(path: missing.path, reason: "No such file or directory"), try MappedFile(url: missing))
        XCTAssertThrowsWeightsError(
            .unreadable(path: directory.path, reason: "not a regular file"), try MappedFile(url: directory))
    }
}
