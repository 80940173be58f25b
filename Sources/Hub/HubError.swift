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
