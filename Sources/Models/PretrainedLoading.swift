import Foundation
import NN
import Weights

extension ModelEntry {
    /// Builds this model for a checkpoint: keys in another naming are remapped by the family
    /// (`RemapsForeignCheckpoints`), and
    /// when the checkpoint's classifier has another number of classes (and the caller did not set
    /// `num_classes`), the head follows the checkpoint, as timm does for a fine-tuned file.
    public func create(loading weights: StateDict, _ arguments: ModelArguments = [:]) throws -> any ImageClassifier {
        var dict = weights
        return try create(taking: &dict, arguments)
    }

    /// `create(loading:)` emptying `dict` as the model fills (see `Module.load(taking:)`).
    func create(taking dict: inout StateDict, _ arguments: ModelArguments) throws -> any ImageClassifier {
        // Random initialisation would be overwritten: build with zeros.
        let model = try Initialization.skipping { try create(arguments) }
        if let remapper = model as? RemapsForeignCheckpoints { dict = try remapper.timmNamed(dict) }
        do {
            try model.load(taking: &dict)
            return model
        } catch WeightsError.shapeMismatch(_, let expected, let actual)
            where arguments.values["num_classes"] == nil && expected.first == model.numClasses
            && actual.count == expected.count && Array(actual.dropFirst()) == Array(expected.dropFirst())
        {
            var resized = arguments
            resized.values["num_classes"] = .int(actual[0])
            let headed = try Initialization.skipping { try create(resized) }
            try headed.load(taking: &dict)
            return headed
        }
    }

    /// Builds this model and loads the weights file at `url` (safetensors or PyTorch .pth).
    public func create(weightsAt url: URL, _ arguments: ModelArguments = [:]) throws -> any ImageClassifier {
        var dict = try loadWeights(url)
        return try create(taking: &dict, arguments)
    }
}

extension Module {
    /// Loads a weights file, safetensors or PyTorch `.pth`, in timm's naming or another one this family
    /// remaps (`RemapsForeignCheckpoints`). Keys and shapes must match this model's exactly.
    public func load(weightsAt url: URL) throws {
        var dict = try loadWeights(url)
        if let remapper = self as? RemapsForeignCheckpoints { dict = try remapper.timmNamed(dict) }
        try load(taking: &dict)
    }
}
