// The Hugging Face Hub cache, in the layout Python's huggingface_hub writes, so both share one cache:
//
//   $HF_HUB_CACHE (or $HF_HOME/hub, or ~/.cache/huggingface/hub)
//     models--timm--resnet50.a1_in1k/
//       blobs/<etag>                        the file's bytes, named by its ETag (an LFS file's sha256)
//       refs/main                           the commit `main` pointed to when last resolved
//       snapshots/<commit>/model.safetensors → ../../blobs/<etag>   (relative symlink)

import Foundation

/// Where a repository's files live in the shared cache.
public struct HubCache: Sendable {
    /// The cache folder holding the `models--…` folders (huggingface_hub's `HF_HUB_CACHE`).
    public let root: URL

    /// A cache at `root`, whatever the environment says.
    public init(root: URL) { self.root = root }

    /// The cache folder the environment names, as huggingface_hub resolves it.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let cache = environment["HF_HUB_CACHE"], !cache.isEmpty {
            root = URL(fileURLWithPath: cache)
        } else {
            root = HubCache.home(environment).appendingPathComponent("hub")
        }
    }

    /// `$HF_HOME`, or `$XDG_CACHE_HOME/huggingface`, or `~/.cache/huggingface`.
    static func home(_ environment: [String: String]) -> URL {
        if let home = environment["HF_HOME"], !home.isEmpty { return URL(fileURLWithPath: home) }
        let cache =
            environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return cache.appendingPathComponent("huggingface")
    }

    /// `models--timm--resnet50.a1_in1k` for `timm/resnet50.a1_in1k`.
    public func repositoryFolder(_ repository: String) -> URL {
        root.appendingPathComponent("models--" + repository.replacingOccurrences(of: "/", with: "--"))
    }

    func blob(_ repository: String, etag: String) -> URL {
        repositoryFolder(repository).appendingPathComponent("blobs").appendingPathComponent(etag)
    }

    func snapshot(_ repository: String, commit: String, file: String) -> URL {
        repositoryFolder(repository).appendingPathComponent("snapshots").appendingPathComponent(commit)
            .appendingPathComponent(file)
    }

    func reference(_ repository: String, revision: String) -> URL {
        repositoryFolder(repository).appendingPathComponent("refs").appendingPathComponent(revision)
    }

    /// The cached file for `revision` (a branch resolved through refs/, or a commit), if its blob is there.
    public func cachedFile(_ repository: String, file: String, revision: String = "main") -> URL? {
        let commit =
            (try? String(contentsOf: reference(repository, revision: revision), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? revision
        let path = snapshot(repository, commit: commit, file: file)
        // A snapshot link whose blob is gone (a half-deleted cache) is not a cached file.
        guard FileManager.default.fileExists(atPath: path.resolvingSymlinksInPath().path) else { return nil }
        return path
    }

    /// Records a verified blob: the snapshot link and the ref, as huggingface_hub leaves them.
    func link(_ repository: String, file: String, revision: String, commit: String, etag: String) throws {
        let path = snapshot(repository, commit: commit, file: file)
        let manager = FileManager.default
        try manager.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        let depth = file.split(separator: "/").count + 1  // snapshots/<commit>/<file…>
        let target = String(repeating: "../", count: depth) + "blobs/" + etag
        try? manager.removeItem(at: path)
        try manager.createSymbolicLink(atPath: path.path, withDestinationPath: target)
        if revision != commit {
            let ref = reference(repository, revision: revision)
            try manager.createDirectory(at: ref.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(commit.utf8).write(to: ref, options: .atomic)
        }
    }
}
