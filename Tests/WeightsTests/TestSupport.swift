import Foundation
import XCTest

@testable import Weights

/// The package root, from this file's path (Tests/WeightsTests/TestSupport.swift).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Committed fixtures made by Tests/WeightsTests/Fixtures/make_fixtures.py.
let fixturesDirectory = packageRoot.appendingPathComponent("Tests/WeightsTests/Fixtures")

/// A fresh directory removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("WeightsTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
    return directory
}

/// Asserts that `body` throws exactly `expected`.
// swift-format-ignore: AlwaysUseLowerCamelCase
// (named like the XCTAssert family it extends)
func XCTAssertThrowsWeightsError<T>(
    _ expected: WeightsError, _ body: @autoclosure () throws -> T,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let weightsError = error as? WeightsError else {
            return XCTFail("expected WeightsError, got \(type(of: error)): \(error)", file: file, line: line)
        }
        XCTAssertEqual(weightsError, expected, file: file, line: line)
    }
}

/// Asserts that `body` throws a WeightsError for which `matches` holds (for errors whose details,
/// like a zip library's message, are not worth pinning).
// swift-format-ignore: AlwaysUseLowerCamelCase
func XCTAssertThrowsWeightsError<T>(
    _ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line,
    where matches: (WeightsError) -> Bool
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let weightsError = error as? WeightsError else {
            return XCTFail("expected WeightsError, got \(type(of: error)): \(error)", file: file, line: line)
        }
        XCTAssertTrue(matches(weightsError), "unexpected error: \(weightsError)", file: file, line: line)
    }
}

/// Builds raw safetensors bytes from a header JSON string and a data section (no validation: tests use
/// it to make hostile files).
func safetensorsBytes(header: String, data: [UInt8], declaredHeaderLength: UInt64? = nil) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    var length = (declaredHeaderLength ?? UInt64(headerBytes.count)).littleEndian
    return withUnsafeBytes(of: &length) { Array($0) } + headerBytes + data
}

func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value -> [UInt8] in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
}

func write(_ bytes: [UInt8], to url: URL) throws {
    try Data(bytes).write(to: url)
}
