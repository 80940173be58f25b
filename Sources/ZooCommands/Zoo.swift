import ArgumentParser
import Foundation
import Kernels

/// The `zoo` command line: classify, download, forward, preprocess, models, train, eval, pretrain-mae, rf,
/// eval-detections, bench. Each subcommand lives in its own file of this target.
public struct Zoo: ParsableCommand {
    /// The root command: its name, abstract and subcommands, for ArgumentParser.
    public static let configuration = CommandConfiguration(
        commandName: "zoo",
        abstract: "A vision model zoo: run, train and inspect timm models in Swift, on the CPU.",
        subcommands: [
            ClassifyCommand.self, DownloadCommand.self, ForwardCommand.self, PreprocessCommand.self, ModelsCommand.self,
            TrainCommand.self, EvalCommand.self, PretrainMAECommand.self,
            ReceptiveFieldCommand.self, EvalDetectionsCommand.self, BenchCommand.self,
        ]
    )
    /// The root command with no options (ArgumentParser requires the initialiser; the subcommand does the work).
    public init() {}

    /// Runs the command line with the zoo's exit statuses: 0 success, 1 when an input failed, 2 for bad usage.
    public static func runMain(_ arguments: [String]? = nil) -> Never {
        // A write past the file-size limit (`ulimit -f`) then fails with EFBIG and is reported like a full
        // disk, instead of the signal killing the process mid-write.
        signal(SIGXFSZ, SIG_IGN)
        keepFreedMemory()
        Threads.settle()
        do {
            try Job.start()
            var command = try parseAsRoot(arguments)
            try command.run()
            Job.exit(status: 0)
        } catch {
            let code = exitCode(for: error)
            let usage = code == .validationFailure
            Job.fail(error, reachedByEveryRank: usage, message: fullMessage(for: readable(error))) {
                if usage {
                    FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                    Foundation.exit(2)
                }
                exit(withError: readable(error))
            }
        }
    }

    /// Foundation's file errors print as "Error Domain=NSCocoaErrorDomain Code=516 … UserInfo={…}":
    /// make them one line naming the file.
    static func readable(_ error: Error) -> Error {
        guard let cocoa = error as? CocoaError else { return error }
        let path = cocoa.filePath ?? cocoa.url?.path
        return CommandError((path.map { $0 + ": " } ?? "") + cocoa.localizedDescription)
    }
}

/// Thrown after a command has reported per-input failures on stderr: exit status 1, nothing more printed.
struct InputsFailed: Error {}

extension InputsFailed: CustomStringConvertible {
    var description: String { "some inputs failed (see the messages above)" }
}

/// Writes one line to stderr.
func reportError(_ message: String) {
    FileHandle.standardError.write(Data(("zoo: " + message + "\n").utf8))
}

/// Key-sorted JSON for stdout (pretty, or one line). A NaN or infinite number is written as `null`,
/// as JavaScript's JSON.stringify does, instead of failing after the work is done.
func jsonString<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting =
        pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    // A marker no real string holds (a file name cannot contain NUL), replaced by null after encoding.
    let marker = "\u{0}non-finite"
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: marker, negativeInfinity: marker, nan: marker)
    return String(decoding: try encoder.encode(value), as: UTF8.self).replacingOccurrences(
        of: "\"\\u0000non-finite\"", with: "null")
}
