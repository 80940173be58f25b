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
    /// Whether inference takes a batch one image at a time (see `callAsFunction`).
    var infersImageByImage: Bool { get }
}

extension ImageClassifier {
    /// Feature maps: each image's stay in the cache from one layer to the next only when taken alone.
    public var infersImageByImage: Bool { true }

    /// Logits (B, numClasses) for images (B, 3, H, W).
    ///
    /// Inference (eval mode, no graph recorded) takes the features one image at a time when `infersImageByImage`:
    /// a whole batch's feature maps overflow the cache between layers (MobileNetV2 at batch 8: 38 MB for one
    /// expanded layer), while one image's stay in it. The head (pooling and classifier) then takes the whole batch,
    /// so that its weights are read once, not once per image (MobileNetV2's 5 MB classifier: 1.4 of 38 ms at batch
    /// 8). Images are independent in eval mode, so the logits are the same. Training and recorded forwards keep the
    /// batch whole (batch statistics, one graph).
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try forwardHead(imageByImage(input, forwardFeatures), preLogits: false)
    }

    /// Pooled features (B, numFeatures), the feature maps taken image by image as `callAsFunction` takes them.
    public func features(_ input: Tensor) throws -> Tensor {
        try forwardHead(imageByImage(input, forwardFeatures), preLogits: true)
    }

    private func imageByImage(_ input: Tensor, _ forward: (Tensor) throws -> Tensor) throws -> Tensor {
        infersImageByImage ? try eachImage(input, forward) : try forward(input)
    }
}

extension Module {
    /// `forward` taken one image at a time at inference (eval mode, no graph recorded), the results
    /// concatenated; the whole batch at once otherwise. For layers whose outputs depend on their image alone.
    public func eachImage(_ input: Tensor, _ forward: (Tensor) throws -> Tensor) throws -> Tensor {
        let batch = input.shape.first ?? 0
        guard !isTraining, !GradMode.isEnabled, batch > 1 else { return try forward(input) }
        return try Tensor.concat((0..<batch).map { try forward(input.slice(axis: 0, $0..<$0 + 1)) }, axis: 0)
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
