import ArgumentParser
import Foundation
import VisionIO
import XCTest

@testable import ZooCommands

/// A scratch directory with the given files, removed when the test ends.
func scratchDirectory(_ test: XCTestCase, files: [String: String]) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-cmd-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
    test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
}

/// Reads the command line's JSON, whose keys are snake_case as timm's and PyTorch's are, into camelCase properties.
let snakeCaseDecoder: JSONDecoder = {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return decoder
}()

/// The error a command line ends with (parse or run), or nil on success.
func commandError(_ arguments: [String]) -> Error? {
    do {
        let command = try Zoo.parseAsRoot(arguments)
        if let eval = command as? EvalDetectionsCommand {
            _ = try eval.output()
        } else if let rf = command as? ReceptiveFieldCommand {
            _ = try rf.output()
        } else {
            var other = command
            try other.run()
        }
        return nil
    } catch {
        return error
    }
}

/// The built `zoo` executable next to the test bundle (SwiftPM puts products side by side).
func zooExecutable() -> URL? {
    let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let candidates = [
        Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
        testBinary.deletingLastPathComponent(),
        Bundle(for: ZooExecutableLocator.self).bundleURL.deletingLastPathComponent(),
    ]
    return candidates.map { $0.appendingPathComponent("zoo") }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }
}

private final class ZooExecutableLocator {}

/// Runs the `zoo` binary; returns (exit status, stdout, stderr).
func runZoo(
    _ executable: URL, _ arguments: [String], environment: [String: String] = [:]
) throws -> (Int32, String, String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// The built `zoo` binary; `swift test` builds it with the tests, so its absence is a failure, not a skip.
func builtZoo(file: StaticString = #filePath, line: UInt = #line) throws -> URL {
    try XCTUnwrap(zooExecutable(), "the zoo executable was not built next to the test bundle", file: file, line: line)
}

/// The stderr lines the CLI reports errors with ("zoo: …"), leaving progress lines out.
func errorLines(_ stderr: String) -> [Substring] {
    stderr.split(separator: "\n").filter { $0.hasPrefix("zoo: ") }
}

/// train/ and val/ with two classes of six 16×16 PNGs: red horizontal stripes and blue vertical stripes.
func stripedImageFolder(_ test: XCTestCase) throws -> URL {
    let root = try scratchDirectory(test, files: [:])
    for split in ["train", "val"] {
        for (name, horizontal) in [("red_rows", true), ("blue_columns", false)] {
            let dir = root.appendingPathComponent(split).appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for i in 0..<6 {
                var image = Image(width: 16, height: 16)
                for y in 0..<16 {
                    for x in 0..<16 {
                        let bright = (horizontal ? y : x) % 4 < 2
                        let level = UInt8(bright ? 230 - 5 * i : 40 + 5 * i)
                        let o = (y * 16 + x) * 3
                        if horizontal {
                            image.pixels[o] = level
                            image.pixels[o + 2] = 30
                        } else {
                            image.pixels[o] = 30
                            image.pixels[o + 2] = level
                        }
                        image.pixels[o + 1] = 30
                    }
                }
                try image.write(to: dir.appendingPathComponent("\(i).png"))
            }
        }
    }
    return root
}

/// `count` 64×64 PNGs of smooth colour gradients with a bright square (random-crop-able, not noise), in `photos/`.
func gradientPhotos(_ test: XCTestCase, count: Int = 8) throws -> URL {
    let dir = try scratchDirectory(test, files: [:]).appendingPathComponent("photos")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for i in 0..<count {
        var image = Image(width: 64, height: 64)
        for y in 0..<64 {
            for x in 0..<64 {
                let o = (y * 64 + x) * 3
                let square = (8 + 4 * i..<28 + 4 * i).contains(x) && (20..<40).contains(y)
                image.pixels[o] = square ? 250 : UInt8((x * 4 + 31 * i) % 256)
                image.pixels[o + 1] = square ? 240 : UInt8((y * 4 + 17 * i) % 256)
                image.pixels[o + 2] = UInt8((x + y + 40 * i) % 256)
            }
        }
        try image.write(to: dir.appendingPathComponent("photo\(i).png"))
    }
    return dir
}
