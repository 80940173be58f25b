// Fetches files from the Hugging Face Hub as huggingface_hub's `hf_hub_download` does: HEAD the resolve URL
// for the commit, ETag and size, download the blob once (resuming a partial one with Range), verify it, and
// file it in the shared cache. Unlike huggingface_hub, a file already cached for the revision is used
// without asking the network, and an LFS blob's sha256 is checked, not only its size.

import Crypto
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads files from a Hugging Face Hub repository into the shared cache, as huggingface_hub's
/// `hf_hub_download`; a file already cached for the revision is returned without a request.
public final class HubClient: @unchecked Sendable {
    /// The Hub's base URL (`HF_ENDPOINT`, by default https://huggingface.co).
    public let endpoint: URL
    /// The cache files are looked up in and downloaded into.
    public let cache: HubCache
    /// When true only cached files are returned; anything else throws `HubError.offline`.
    public let offline: Bool
    let token: String?
    /// Where progress goes (stderr on a terminal); nil for none.
    let progress: ((_ done: Int64, _ total: Int64) -> Void)?

    /// A client with explicit settings, ignoring the environment.
    ///
    /// - Parameters:
    ///   - endpoint: The Hub's base URL; resolve URLs are `<endpoint>/<repository>/resolve/<revision>/<file>`.
    ///   - cache: The cache to look in and download into.
    ///   - offline: Whether to refuse network requests (as `HF_HUB_OFFLINE=1`).
    ///   - token: A Hub access token, sent as a bearer token to the endpoint's host only; nil for none.
    ///   - progress: Called during each download with the bytes written so far and the file's total size.
    public init(
        endpoint: URL, cache: HubCache, offline: Bool = false, token: String? = nil,
        progress: ((Int64, Int64) -> Void)? = nil
    ) {
        self.endpoint = endpoint
        self.cache = cache
        self.offline = offline
        self.token = token
        self.progress = progress
    }

    /// The client the environment describes: HF_ENDPOINT, HF_HUB_CACHE / HF_HOME, HF_HUB_OFFLINE, HF_TOKEN
    /// (or the token file huggingface-cli login writes).
    public convenience init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        progress: ((Int64, Int64) -> Void)? = nil
    ) {
        let endpoint = environment["HF_ENDPOINT"].flatMap { URL(string: $0) } ?? URL(string: "https://huggingface.co")!
        let truthy: Set<String> = ["1", "ON", "YES", "TRUE"]
        let token =
            environment["HF_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (try? String(contentsOf: HubCache.home(environment).appendingPathComponent("token"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        self.init(
            endpoint: endpoint, cache: HubCache(environment: environment),
            offline: truthy.contains((environment["HF_HUB_OFFLINE"] ?? "").uppercased()),
            token: token.flatMap { $0.isEmpty ? nil : $0 }, progress: progress)
    }

    /// The first of `files` the repository has, from the cache or downloaded into it (e.g. model.safetensors,
    /// then pytorch_model.bin).
    public func download(_ repository: String, anyOf files: [String], revision: String = "main") throws -> URL {
        for file in files {
            do {
                return try download(repository, file, revision: revision)
            } catch HubError.entryNotFound {
                continue
            } catch HubError.offline {
                continue
            }
        }
        let names = files.joined(separator: " or ")
        throw offline
            ? HubError.offline(repository: repository, file: names)
            : HubError.entryNotFound(repository: repository, file: names)
    }

    /// The local path of `file` at `revision`: the cached snapshot when there is one (no request is made),
    /// otherwise downloaded, verified and cached.
    public func download(_ repository: String, _ file: String, revision: String = "main") throws -> URL {
        if let cached = cache.cachedFile(repository, file: file, revision: revision) { return cached }
        guard !offline else { throw HubError.offline(repository: repository, file: file) }
        let url = resolveURL(repository, file, revision: revision)
        let metadata = try head(url, repository: repository, file: file)
        let blob = cache.blob(repository, etag: metadata.etag)
        try createFolder(blob.deletingLastPathComponent())
        // One process downloads a blob; another waiting on the lock then finds it done.
        let lockFolder = cache.root.appendingPathComponent(".locks").appendingPathComponent(
            cache.repositoryFolder(repository).lastPathComponent)
        try createFolder(lockFolder)
        let lock = try FileLock(lockFolder.appendingPathComponent(metadata.etag + ".lock"))
        defer { lock.release() }
        if !isComplete(blob, size: metadata.size) {
            try fetch(metadata.location ?? url, into: blob, metadata: metadata, repository: repository, file: file)
        }
        do {
            try cache.link(repository, file: file, revision: revision, commit: metadata.commit, etag: metadata.etag)
        } catch {
            throw HubError.cache(path: cache.repositoryFolder(repository).path, reason: describe(error))
        }
        return cache.snapshot(repository, commit: metadata.commit, file: file)
    }

    func resolveURL(_ repository: String, _ file: String, revision: String) -> URL {
        var url = endpoint.appendingPathComponent(repository).appendingPathComponent("resolve").appendingPathComponent(
            revision)
        for component in file.split(separator: "/") { url.appendPathComponent(String(component)) }
        return url
    }

    // MARK: Metadata

    struct FileMetadata {
        var commit: String
        var etag: String
        var size: Int64
        /// Where the bytes are (the CDN an LFS file redirects to), when the Hub said so.
        var location: URL?
    }

    /// HEAD as huggingface_hub does it: relative redirects followed (a renamed repository), absolute ones
    /// (to the file host) read but not followed; the Hub's own headers describe the file.
    func head(_ url: URL, repository: String, file: String) throws -> FileMetadata {
        var current = url
        for _ in 0..<5 {
            let response = try send(request(current, method: "HEAD"), repository: repository, file: file)
            let headers = response.headers
            if (300..<400).contains(response.status), let location = headers["location"] {
                let target = URL(string: location, relativeTo: current)?.absoluteURL
                if location.hasPrefix("/"), let target {
                    current = target
                    continue
                }
                return try metadata(headers, url: current, location: target)
            }
            return try metadata(headers, url: current, location: nil)
        }
        throw HubError.network(url: url.absoluteString, reason: "too many redirects")
    }

    private func metadata(_ headers: [String: String], url: URL, location: URL?) throws -> FileMetadata {
        let etag = (headers["x-linked-etag"] ?? headers["etag"]).map(normalizedETag)
        let size = (headers["x-linked-size"] ?? headers["content-length"]).flatMap { Int64($0) }
        guard let commit = headers["x-repo-commit"], let etag, !etag.isEmpty, let size else {
            throw HubError.missingHeaders(url: url.absoluteString)
        }
        return FileMetadata(commit: commit, etag: etag, size: size, location: location)
    }

    /// `W/"abc"` → `abc`.
    private func normalizedETag(_ value: String) -> String {
        var etag = value
        if etag.hasPrefix("W/") { etag.removeFirst(2) }
        return etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    // MARK: Download

    private func isComplete(_ blob: URL, size: Int64) -> Bool {
        (try? FileManager.default.attributesOfItem(atPath: blob.path)[.size] as? Int64) == size
    }

    /// Downloads into `<blob>.incomplete` (resuming what is there), verifies size and hash, then renames.
    private func fetch(_ url: URL, into blob: URL, metadata: FileMetadata, repository: String, file: String) throws {
        let partial = URL(fileURLWithPath: blob.path + ".incomplete")
        var attempts = 0
        while true {
            attempts += 1
            do {
                try transfer(url, to: partial, expected: metadata.size, repository: repository, file: file)
                break
            } catch let error as HubError {
                // A connection cut mid-file: the bytes so far stay in .incomplete and the next attempt resumes.
                guard case .network = error, attempts < 4 else { throw error }
            }
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int64) ?? -1
        guard size == metadata.size else {
            try? FileManager.default.removeItem(at: partial)
            throw HubError.integrity(
                repository: repository, file: file, reason: "\(size) bytes received, \(metadata.size) expected")
        }
        if let problem = try verify(partial, etag: metadata.etag, size: size) {
            try? FileManager.default.removeItem(at: partial)
            throw HubError.integrity(repository: repository, file: file, reason: problem)
        }
        guard rename(partial.path, blob.path) == 0 else {
            throw HubError.cache(path: blob.path, reason: String(cString: strerror(errno)))
        }
    }

    /// The ETag of an LFS file is its sha256, of a git file the sha1 of "blob <size>\0" + its bytes.
    /// Returns what is wrong, or nil.
    private func verify(_ path: URL, etag: String, size: Int64) throws -> String? {
        let isHex = etag.allSatisfy(\.isHexDigit)
        guard isHex, etag.count == 64 || etag.count == 40 else { return nil }  // not a content hash: size only
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: path) } catch {
            throw HubError.cache(path: path.path, reason: describe(error))
        }
        defer { try? handle.close() }
        var sha256 = SHA256()
        var sha1 = Insecure.SHA1()
        if etag.count == 40 { sha1.update(data: Data("blob \(size)\0".utf8)) }
        while let chunk = try handle.read(upToCount: 1 << 22), !chunk.isEmpty {
            if etag.count == 64 { sha256.update(data: chunk) } else { sha1.update(data: chunk) }
        }
        let digest =
            etag.count == 64
            ? sha256.finalize().map { String(format: "%02x", $0) }.joined()
            : sha1.finalize().map { String(format: "%02x", $0) }.joined()
        return digest == etag.lowercased() ? nil : "content hash \(digest) does not match the ETag \(etag)"
    }

    /// One GET of `url` into `partial`, appending from its current size with Range; redirects followed by
    /// hand so that the token goes only to the Hub's own host.
    private func transfer(_ url: URL, to partial: URL, expected: Int64, repository: String, file: String) throws {
        if !FileManager.default.fileExists(atPath: partial.path) {
            guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
                throw HubError.cache(path: partial.path, reason: String(cString: strerror(errno)))
            }
        }
        let handle: FileHandle
        do { handle = try FileHandle(forWritingTo: partial) } catch {
            throw HubError.cache(path: partial.path, reason: describe(error))
        }
        defer { try? handle.close() }
        let have = Int64((try? handle.seekToEnd()) ?? 0)
        guard have < expected else { return }
        var current = url
        for _ in 0..<5 {
            var request = request(current, method: "GET")
            if have > 0 { request.setValue("bytes=\(have)-", forHTTPHeaderField: "Range") }
            let response = try send(
                request, repository: repository, file: file, body: (handle, partial.path), offset: have, total: expected
            )
            if (300..<400).contains(response.status), let location = response.headers["location"],
                let target = URL(string: location, relativeTo: current)?.absoluteURL
            {
                current = target
                continue
            }
            return
        }
        throw HubError.network(url: url.absoluteString, reason: "too many redirects")
    }

    // MARK: HTTP

    func request(_ url: URL, method: String) -> URLRequest {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 30)
        request.httpMethod = method
        request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
        request.setValue("zoo (Swift; huggingface_hub-compatible)", forHTTPHeaderField: "User-Agent")
        // The token is for the Hub only: never sent to the file host a download redirects to.
        if let token, url.host == endpoint.host, url.port == endpoint.port {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        return request
    }

    struct Response {
        var status: Int
        var headers: [String: String]  // lower-cased names
    }

    /// Sends `request` without following redirects. A 200/206 body goes to `body` (206 appends, 200 starts
    /// over); Hub error responses become `HubError`s.
    private func send(
        _ request: URLRequest, repository: String, file: String, body: (handle: FileHandle, path: String)? = nil,
        offset: Int64 = 0, total: Int64 = 0
    ) throws -> Response {
        let exchange = Exchange(
            body: body?.handle, path: body?.path ?? "", offset: offset, total: total, progress: progress)
        let session = URLSession(configuration: .ephemeral, delegate: exchange, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        session.dataTask(with: request).resume()
        exchange.done.wait()
        let url = request.url?.absoluteString ?? "?"
        if let error = exchange.failure { throw error }
        if let error = exchange.error { throw HubError.network(url: url, reason: describe(error)) }
        guard let http = exchange.response else { throw HubError.network(url: url, reason: "no response") }
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields { headers["\(key)".lowercased()] = "\(value)" }
        let status = http.statusCode
        if status >= 400 {
            switch (headers["x-error-code"], status) {
            case ("RepoNotFound", _):
                throw HubError.repositoryNotFound(repository: repository, endpoint: endpoint.absoluteString)
            case ("EntryNotFound", _), (nil, 404): throw HubError.entryNotFound(repository: repository, file: file)
            case ("GatedRepo", _): throw HubError.gated(repository: repository)
            case (_, 401), (_, 403): throw HubError.unauthorized(repository: repository)
            default: throw HubError.http(url: url, status: status)
            }
        }
        if body != nil, !(300..<400).contains(status), status != 200, status != 206 {
            throw HubError.http(url: url, status: status)
        }
        return Response(status: status, headers: headers)
    }
}

/// One request's delegate: refuses redirects (the client follows them itself), streams a body to a file.
private final class Exchange: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var response: HTTPURLResponse?
    var error: Error?
    var failure: HubError?
    private let body: FileHandle?
    private var written: Int64
    private let total: Int64
    private let progress: ((Int64, Int64) -> Void)?
    private let path: String

    init(body: FileHandle?, path: String, offset: Int64, total: Int64, progress: ((Int64, Int64) -> Void)?) {
        self.body = body
        self.path = path
        self.written = offset
        self.total = total
        self.progress = progress
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        self.response = response as? HTTPURLResponse
        // A full response to a Range request (the server ignores ranges): start the file over.
        if let body, self.response?.statusCode == 200, written > 0 {
            try? body.truncate(atOffset: 0)
            written = 0
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let body, let status = response?.statusCode, status == 200 || status == 206, failure == nil else {
            return
        }
        do {
            try body.write(contentsOf: data)
            written += Int64(data.count)
            progress?(written, total)
        } catch {
            failure = .cache(path: path, reason: describe(error))
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if failure == nil { self.error = error }
        done.signal()
    }
}

/// An exclusive flock on a lock file (the kind Python's filelock takes), held until released.
final class FileLock {
    private let descriptor: Int32

    init(_ url: URL) throws {
        descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw HubError.cache(path: url.path, reason: String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX) == 0 else {
            close(descriptor)
            throw HubError.cache(path: url.path, reason: String(cString: strerror(errno)))
        }
    }

    func release() { close(descriptor) }
}

extension HubClient {
    func createFolder(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw HubError.cache(path: url.path, reason: describe(error))
        }
    }
}

/// "File too large", "No space left on device": the POSIX reason under Foundation's generic wrapper.
func describe(_ error: Error) -> String {
    let ns = error as NSError
    for candidate in [ns.userInfo[NSUnderlyingErrorKey] as? NSError, ns].compactMap({ $0 })
    where candidate.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(candidate.code)))
    }
    return ns.localizedDescription
}
