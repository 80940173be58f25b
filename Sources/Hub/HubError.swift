import Foundation

/// Why a file could not be had from the Hub or its cache; one line naming the repository or path.
public enum HubError: Error, CustomStringConvertible, Equatable {
    /// The file is not cached and the client may not use the network (`HF_HUB_OFFLINE`).
    case offline(repository: String, file: String)
    /// The Hub answered `RepoNotFound`: no such repository, or a private one without a token.
    case repositoryNotFound(repository: String, endpoint: String)
    /// The repository has no such file (the Hub's `EntryNotFound`, or a plain 404).
    case entryNotFound(repository: String, file: String)
    /// The repository is gated (`GatedRepo`) and the token has not accepted its terms.
    case gated(repository: String)
    /// The Hub answered 401 or 403 to the token, or to its absence.
    case unauthorized(repository: String)
    /// Any other HTTP error status, or an unexpected status for a download.
    case http(url: String, status: Int)
    /// The request failed below HTTP (connection, DNS, timeout) or redirected too often.
    case network(url: String, reason: String)
    /// A HEAD response without the commit, ETag or size headers the Hub sends.
    case missingHeaders(url: String)
    /// A downloaded file's size or content hash disagrees with what the Hub announced.
    case integrity(repository: String, file: String, reason: String)
    /// A folder, lock, blob or link in the cache could not be created or written.
    case cache(path: String, reason: String)

    /// One line naming the repository, file or URL, and what to do where there is a remedy.
    public var description: String {
        switch self {
        case .offline(let repository, let file):
            return "\(repository)/\(file) is not in the Hugging Face cache and HF_HUB_OFFLINE is set"
        case .repositoryNotFound(let repository, let endpoint):
            return "\(repository): no such repository on \(endpoint) (a private one needs HF_TOKEN)"
        case .entryNotFound(let repository, let file):
            return "\(repository): the repository has no file '\(file)'"
        case .gated(let repository):
            return "\(repository): access is gated; accept its terms on the Hub and set HF_TOKEN"
        case .unauthorized(let repository):
            return "\(repository): the Hub refused the token (HF_TOKEN or $HF_HOME/token)"
        case .http(let url, let status):
            return "\(url): HTTP \(status)"
        case .network(let url, let reason):
            return "\(url): \(reason)"
        case .missingHeaders(let url):
            return "\(url): the server sent no commit, ETag or size; not a Hugging Face Hub endpoint?"
        case .integrity(let repository, let file, let reason):
            return "\(repository)/\(file): \(reason); the download was discarded"
        case .cache(let path, let reason):
            return "\(path): cannot write the Hugging Face cache (\(reason))"
        }
    }
}
