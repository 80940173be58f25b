import NN
import Tensors

/// What every model of the zoo offers, as timm's models do.
public protocol ImageClassifier: Module {
    /// Classes of the head (0 when the head is removed).
    var numClasses: Int { get }
    /// Width of the features the head reads.
    var numFeatures: Int { get }
    /// The last feature map (B, C, H, W) or the token sequence (B, N, C), before pooling.
    func forwardFeatures(_ input: Tensor) throws -> Tensor
    /// Pooling and classifier; `preLogits` stops after pooling.
    func forwardHead(_ features: Tensor, preLogits: Bool) throws -> Tensor
}

extension ImageClassifier {
    /// Logits (B, numClasses) for images (B, 3, H, W).
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try forwardHead(forwardFeatures(input), preLogits: false)
    }

    /// Pooled features (B, numFeatures).
    public func features(_ input: Tensor) throws -> Tensor {
        try forwardHead(forwardFeatures(input), preLogits: true)
    }
}

/// Errors in building a model from a name and arguments.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unknownModel(name: String, suggestions: [String])
    case unknownArgument(model: String, argument: String, accepted: [String])
    case invalidArgument(model: String, argument: String, reason: String)
    case unsupportedInput(model: String, shape: [Int], reason: String)
    case unknownTag(model: String, tag: String, available: [String])

    public var description: String {
        switch self {
        case .unknownModel(let name, let suggestions):
            return "unknown model '\(name)'"
                + (suggestions.isEmpty
                    ? "" : "; did you mean \(suggestions.map { "'\($0)'" }.joined(separator: ", "))?")
        case .unknownArgument(let model, let argument, let accepted):
            return "\(model): unknown argument '\(argument)' (accepted: \(accepted.sorted().joined(separator: ", ")))"
        case .invalidArgument(let model, let argument, let reason):
            return "\(model): argument '\(argument)' \(reason)"
        case .unsupportedInput(let model, let shape, let reason):
            return "\(model): input of shape \(shape) \(reason)"
        case .unknownTag(let model, let tag, let available):
            return "\(model): no pretrained tag '\(tag)' on the Hub"
                + (available.isEmpty ? " (the model has none)" : " (tags: \(available.joined(separator: ", ")))")
        }
    }
}
