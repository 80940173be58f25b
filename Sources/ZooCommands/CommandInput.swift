import Foundation

/// A failure reported as one line naming the culprit (a file, an option, a model), and after it what is wrong.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
    /// "file: problem".
    init(file: String, problem: String) { self.init("\(file): \(problem)") }
}

/// Reads `path`, turning I/O failures into a one-line `CommandError` naming it.
func readInputFile(_ path: String) throws -> Data {
    guard FileManager.default.fileExists(atPath: path) else {
        throw CommandError(file: path, problem: "no such file")
    }
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw CommandError(file: path, problem: "cannot read (\(error.localizedDescription))")
    }
}

/// Runs `body`, prefixing the description of any error it throws with `path` unless it names it already
/// (a `CommandError` has named its culprit and passes through).
func attributing<T>(to path: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as CommandError {
        throw error
    } catch {
        let message = "\(error)"
        throw CommandError(message.contains(path) ? message : "\(path): \(message)")
    }
}
