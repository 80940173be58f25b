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
    /// No registered model has this name; `suggestions` are the nearest registered names.
    case unknownModel(name: String, suggestions: [String])
    /// A keyword argument the model does not implement; `accepted` lists those it does.
    case unknownArgument(model: String, argument: String, accepted: [String])
    /// A keyword argument of the wrong type, out of bounds or inconsistent with the others.
    case invalidArgument(model: String, argument: String, reason: String)
    /// An input tensor whose shape the model cannot take.
    case unsupportedInput(model: String, shape: [Int], reason: String)
    /// A pretrained tag timm does not publish for this model; `available` lists those it does.
    case unknownTag(model: String, tag: String, available: [String])

    /// A one-line message naming the model and the offending name, value or shape.
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
