import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file: the kernel pages bytes in on demand, so a 100 MB
/// checkpoint costs one pass of conversion and no extra copy.
final class MappedFile {
    let path: String
    let bytes: UnsafeRawBufferPointer
    private let mapping: UnsafeMutableRawPointer?
    /// Bytes at the start of the mapping already given back by `releasePages(before:)`.
    private var released = 0

    init(url: URL) throws {
        path = url.path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw WeightsError.unreadable(path: path, reason: Self.lastError()) }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw WeightsError.unreadable(path: path, reason: Self.lastError())
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw WeightsError.unreadable(path: path, reason: "not a regular file")
        }
        let size = Int(status.st_size)
        guard size > 0 else {  // mmap rejects length 0
            mapping = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else {
            throw WeightsError.unreadable(path: path, reason: "mmap: " + Self.lastError())
        }
        mapping = address
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// Drops the pages wholly before `offset` from this process's memory once their bytes are converted,
    /// so reading a checkpoint never holds the file and its decoded copy at once.
    func releasePages(before offset: Int) {
        guard let mapping else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let end = min(offset, bytes.count) / page * page
        guard end > released else { return }
        madvise(mapping + released, end - released, MADV_DONTNEED)
        released = end
    }

    deinit {
        if let mapping { munmap(mapping, bytes.count) }
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
