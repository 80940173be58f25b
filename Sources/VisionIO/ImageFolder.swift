// Folder datasets: torchvision's ImageFolder (a class per subfolder) and an unlabeled recursive folder.
import Foundation

/// What a loader needs: how many samples, where each is, and its label (-1 when unlabeled).
public protocol ImageDataset: Sendable {
    /// The folder the images come from (named in errors).
    var root: URL { get }
    var count: Int { get }
    func url(at index: Int) -> URL
    func label(at index: Int) -> Int
}

public enum DatasetError: Error, Equatable, CustomStringConvertible {
    case notADirectory(path: String)
    case noClasses(path: String)
    case noImages(path: String)

    public var description: String {
        switch self {
        case .notADirectory(let path): return "\(path): not a directory"
        case .noClasses(let path): return "\(path): no class subfolders found"
        case .noImages(let path): return "\(path): no image files found"
        }
    }
}

/// Python's `sorted` on str compares code points; byte-wise UTF-8 order is the same order.
func pythonSorted(_ names: [String]) -> [String] {
    names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
}

/// torchvision's IMG_EXTENSIONS (matched case-insensitively), so sample indices agree with torchvision.
public let torchvisionImageExtensions = [".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"]

private func hasImageExtension(_ name: String, _ extensions: [String]) -> Bool {
    let lower = name.lowercased()
    return extensions.contains { lower.hasSuffix($0) }
}

private func isDirectory(_ url: URL) -> Bool {
    var flag: ObjCBool = false
    return FileManager.default.fileExists(atPath: url.path, isDirectory: &flag) && flag.boolValue
}

/// `sorted(os.walk(dir, followlinks=True))` then sorted file names: every file under `directory`.
private func walkSorted(_ directory: URL, depth: Int = 0) -> [URL] {
    guard depth < 64, let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
        return []
    }
    var files = [URL]()
    var subdirectories = [String]()
    for name in pythonSorted(names) {
        let url = directory.appendingPathComponent(name)
        if isDirectory(url) { subdirectories.append(name) } else { files.append(url) }
    }
    // os.walk tuples sort by dirpath: "a/b" < "a/b/c" < "a/b-x" follows string order of the full paths.
    var result = [(path: String, files: [URL])]()
    result.append((directory.path, files))
    for sub in subdirectories {
        let nested = walkSorted(directory.appendingPathComponent(sub), depth: depth + 1)
        var grouped = [String: [URL]]()
        for url in nested { grouped[url.deletingLastPathComponent().path, default: []].append(url) }
        for (path, urls) in grouped { result.append((path, urls)) }
    }
    return result.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }.flatMap { $0.files }
}

public struct ImageFolder: ImageDataset {
    public let root: URL
    public let classes: [String]
    public let samples: [(url: URL, label: Int)]

    public init(root: URL, extensions: [String] = torchvisionImageExtensions) throws {
        guard isDirectory(root) else { throw DatasetError.notADirectory(path: root.path) }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        classes = pythonSorted(names.filter { isDirectory(root.appendingPathComponent($0)) })
        guard !classes.isEmpty else { throw DatasetError.noClasses(path: root.path) }
        var samples = [(url: URL, label: Int)]()
        for (label, name) in classes.enumerated() {
            for url in walkSorted(root.appendingPathComponent(name))
            where hasImageExtension(url.lastPathComponent, extensions) {
                samples.append((url, label))
            }
        }
        guard !samples.isEmpty else { throw DatasetError.noImages(path: root.path) }
        self.root = root
        self.samples = samples
    }

    public var count: Int { samples.count }
    public func url(at index: Int) -> URL { samples[index].url }
    public func label(at index: Int) -> Int { samples[index].label }
}

/// Every PNG / JPEG under a folder, recursively, for self-supervised training or batch inference.
/// Files that are not PNG/JPEG by signature are skipped with one warning line each on stderr;
/// files that fail to decode later are skipped (and warned about) by the loader.
public struct UnlabeledImageFolder: ImageDataset {
    public let root: URL
    public let urls: [URL]

    public init(
        root: URL, extensions: [String] = [".png", ".jpg", ".jpeg"], warn: (String) -> Void = printWarning
    ) throws {
        guard isDirectory(root) else { throw DatasetError.notADirectory(path: root.path) }
        var urls = [URL]()
        for url in walkSorted(root) {
            guard hasImageExtension(url.lastPathComponent, extensions) else { continue }
            let head =
                (try? FileHandle(forReadingFrom: url)).map { handle -> [UInt8] in
                    defer { try? handle.close() }
                    return [UInt8]((try? handle.read(upToCount: 8)) ?? Data())
                } ?? []
            if ImageFormat(signatureOf: head) == nil {
                warn("warning: skipping \(url.path): not a PNG or JPEG file")
                continue
            }
            urls.append(url)
        }
        guard !urls.isEmpty else { throw DatasetError.noImages(path: root.path) }
        self.root = root
        self.urls = urls
    }

    public var count: Int { urls.count }
    public func url(at index: Int) -> URL { urls[index] }
    public func label(at index: Int) -> Int { -1 }
}

/// One line on stderr.
public func printWarning(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
