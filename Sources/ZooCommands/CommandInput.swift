import Foundation

/// An input file that could not be used; one line naming the file and, after it, the field at fault.
struct InputFileError: Error, CustomStringConvertible {
    var file: String
    var problem: String
    var description: String { "\(file): \(problem)" }
}

/// Reads `path`, turning I/O failures into a one-line `InputFileError`.
func readInputFile(_ path: String) throws -> Data {
    guard FileManager.default.fileExists(atPath: path) else {
        throw InputFileError(file: path, problem: "no such file")
    }
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw InputFileError(file: path, problem: "cannot read (\(error.localizedDescription))")
    }
}

/// Runs `body`, prefixing any error description with the file it came from.
func attributing<T>(to path: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as InputFileError {
        throw error
    } catch {
        throw InputFileError(file: path, problem: String(describing: error))
    }
}
