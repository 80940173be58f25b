import Foundation

/// Why a file could not be had from the Hub or its cache; one line naming the repository or path.
public enum HubError: Error, CustomStringConvertible, Equatable {
    case offline(repository: String, file: String)
    case repositoryNotFound(repository: String, endpoint: String)
    case entryNotFound(repository: String, file: String)
    case gated(repository: String)
    case unauthorized(repository: String)
    case http(url: String, status: Int)
    case network(url: String, reason: String)
    case missingHeaders(url: String)
    case integrity(repository: String, file: String, reason: String)
    case cache(path: String, reason: String)

    public var description: String {
        switch self {
        case let .offline(repository, file):
            return "\(repository)/\(file) is not in the Hugging Face cache and HF_HUB_OFFLINE is set"
        case let .repositoryNotFound(repository, endpoint):
            return "\(repository): no such repository on \(endpoint) (a private one needs HF_TOKEN)"
        case let .entryNotFound(repository, file):
            return "\(repository): the repository has no file '\(file)'"
        case let .gated(repository):
            return "\(repository): access is gated; accept its terms on the Hub and set HF_TOKEN"
        case let .unauthorized(repository):
            return "\(repository): the Hub refused the token (HF_TOKEN or $HF_HOME/token)"
        case let .http(url, status):
            return "\(url): HTTP \(status)"
        case let .network(url, reason):
            return "\(url): \(reason)"
        case let .missingHeaders(url):
            return "\(url): the server sent no commit, ETag or size; not a Hugging Face Hub endpoint?"
        case let .integrity(repository, file, reason):
            return "\(repository)/\(file): \(reason); the download was discarded"
        case let .cache(path, reason):
            return "\(path): cannot write the Hugging Face cache (\(reason))"
        }
    }
}
