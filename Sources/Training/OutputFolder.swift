import Foundation

/// A run's output folder, held for the run's lifetime: an exclusive lock (so two runs cannot write the same
/// checkpoint) and the cleanup a killed run could not do.
public final class OutputFolder {
    /// The folder's location.
    public let url: URL
    private let lockDescriptor: Int32

    /// Creates the folder, takes `.lock` with flock (released by the kernel however the run ends) and then
    /// removes the temporary files an earlier run killed mid-write left behind.
    public init(_ url: URL) throws {
        self.url = url
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw OutputFolderError.cannotCreate(path: url.path, reason: (error as NSError).localizedDescription)
        }
        let lockPath = url.appendingPathComponent(".lock").path
        lockDescriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockDescriptor >= 0 else {
            throw OutputFolderError.cannotCreate(path: lockPath, reason: String(cString: strerror(errno)))
        }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(lockDescriptor)
            throw OutputFolderError.inUse(path: url.path)
        }
        // Only the lock holder writes here, so every temporary file is a leftover.
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            unlink(url.appendingPathComponent(name).path)
        }
    }

    deinit { close(lockDescriptor) }
}

/// Why an `OutputFolder` could not be taken.
public enum OutputFolderError: Error, CustomStringConvertible, Equatable {
    /// The folder or its `.lock` file could not be created; `reason` is the system's message.
    case cannotCreate(path: String, reason: String)
    /// Another run holds the folder's lock.
    case inUse(path: String)

    /// The message shown to the user, starting with the path.
    public var description: String {
        switch self {
        case .cannotCreate(let path, let reason): return "\(path): cannot create the output folder (\(reason))"
        case .inUse(let path): return "\(path): the output folder is in use by another zoo run"
        }
    }
}
