// Folder datasets: torchvision's ImageFolder (a class per subfolder) and an unlabeled recursive folder.
import Foundation

/// What a loader needs: how many samples, where each is, and its label (-1 when unlabeled).
public protocol ImageDataset: Sendable {
    /// The folder the images come from (named in errors).
    var root: URL { get }
    /// The number of samples; indices run over `0..<count`.
    var count: Int { get }
    /// The file of sample `index`.
    func url(at index: Int) -> URL
    /// The class index of sample `index`, or -1 when the dataset is unlabeled.
    func label(at index: Int) -> Int
}

/// Why a dataset folder could not be opened.
public enum DatasetError: Error, Equatable, CustomStringConvertible {
    /// The root does not exist or is not a directory.
    case notADirectory(path: String)
    /// The root has no subfolders to serve as classes.
    case noClasses(path: String)
    /// No file with an accepted extension (and, for unlabeled folders, signature) was found.
    case noImages(path: String)

    /// One line starting with the path.
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
    // os.walk tuples sort by dirpath, the string order of full paths: "a/b" < "a/b-x" < "a/b/c" ("-" < "/").
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

/// torchvision's `ImageFolder`: one class per subfolder of `root`, classes and files in the same order as
/// torchvision, so class indices and sample indices agree with it.
public struct ImageFolder: ImageDataset {
    /// The folder holding one subfolder per class.
    public let root: URL
    /// Class names (subfolder names) sorted like Python's `sorted`; a label indexes this list.
    public let classes: [String]
    /// Every image file with its class index, in torchvision's order (classes, then a sorted walk of each).
    public let samples: [(url: URL, label: Int)]

    /// Scans `root` like torchvision's `make_dataset` (subfolders walked recursively, symlinks followed);
    /// files are matched by extension only and not opened here.
    /// - Parameters:
    ///   - root: the dataset folder.
    ///   - extensions: accepted file-name suffixes, with the dot, compared case-insensitively.
    /// - Throws: `DatasetError` when `root` is not a directory, has no class subfolders, or holds no images.
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

    /// The number of samples.
    public var count: Int { samples.count }
    /// The file of sample `index`.
    public func url(at index: Int) -> URL { samples[index].url }
    /// The class index of sample `index`, into `classes`.
    public func label(at index: Int) -> Int { samples[index].label }
}

/// Every PNG / JPEG under a folder, recursively, for self-supervised training or batch inference.
/// Files that are not PNG/JPEG by signature are skipped with one warning line each on stderr;
/// files that fail to decode later are skipped (and warned about) by the loader.
public struct UnlabeledImageFolder: ImageDataset {
    /// The folder that was scanned.
    public let root: URL
    /// The accepted files, in sorted-walk order.
    public let urls: [URL]

    /// Walks `root` recursively (sorted, symlinks followed) and keeps files whose extension matches and whose
    /// first bytes are a PNG or JPEG signature.
    /// - Parameters:
    ///   - root: the folder to scan.
    ///   - extensions: accepted file-name suffixes, with the dot, compared case-insensitively.
    ///   - warn: receives one line per skipped file; stderr by default.
    /// - Throws: `DatasetError` when `root` is not a directory or no image is found.
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

    /// The number of files.
    public var count: Int { urls.count }
    /// The file of sample `index`.
    public func url(at index: Int) -> URL { urls[index] }
    /// Always -1: there are no labels.
    public func label(at index: Int) -> Int { -1 }
}

/// One line on stderr.
public func printWarning(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
