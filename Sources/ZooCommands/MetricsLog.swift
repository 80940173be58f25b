import Foundation
import Weights

/// Appends rows to a CSV file, flushing each one so an interrupted run keeps every logged step.
final class MetricsLog {
    private let handle: FileHandle
    private let url: URL
    let columns: [String]

    /// Opens `url`, writing the header when the file is new. A resumed run keeps the rows `keep` accepts
    /// (those up to its checkpoint): rows logged after the checkpoint are logged again, and would repeat.
    init(url: URL, columns: [String], resume: Bool, keep: ([Substring]) -> Bool = { _ in true }) throws {
        self.columns = columns
        self.url = url
        var text = columns.joined(separator: ",") + "\n"
        if resume, let existing = try? String(contentsOf: url, encoding: .utf8) {
            for row in existing.split(separator: "\n").dropFirst() where keep(row.split(separator: ",")) {
                text += row + "\n"
            }
        }
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch {
            throw WeightsError.unwritable(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }

    func append(_ values: [String]) throws {
        do {
            try handle.write(contentsOf: Data((values.joined(separator: ",") + "\n").utf8))
        } catch {
            throw WeightsError.unwritable(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }

    deinit { try? handle.close() }
}
