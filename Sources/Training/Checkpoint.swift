import Foundation
import Models
import NN
import Randomness
import Tensors
import Weights

/// Everything needed to resume training bit for bit: model, optimizer state, position and RNG states,
/// in one safetensors file (`model.*`, `optimizer.*` tensors; the rest in `__metadata__`).
public struct TrainingCheckpoint {
    /// Epochs completed (0-based index of the epoch to resume).
    public var epoch: Int
    /// Optimizer steps taken over the whole run.
    public var step: Int
    /// Random generator states by role (e.g. `"mixup"`, `"dropout"`), stored as JSON in the metadata.
    public var generators: [String: RandomGenerator]
    /// Further trainer-specific metadata (e.g. `"best_top1"`), stored as strings alongside the position.
    public var extra: [String: String]

    /// A checkpoint position; the model and optimizer are passed to `save(model:optimizer:to:)`.
    ///
    /// - Parameters:
    ///   - epoch: Epochs completed.
    ///   - step: Optimizer steps taken.
    ///   - generators: Random generator states to restore on resume, by role.
    ///   - extra: Further metadata; the keys `epoch`, `step` and `generators` are overwritten on save.
    public init(epoch: Int, step: Int, generators: [String: RandomGenerator], extra: [String: String] = [:]) {
        self.epoch = epoch
        self.step = step
        self.generators = generators
        self.extra = extra
    }

    /// Writes atomically (temporary file, then rename): an interrupted save never corrupts the last checkpoint.
    public func save(model: Module, optimizer: (any Optimizer)?, to url: URL) throws {
        var dict = StateDict()
        for (name, t) in model.stateDict() { dict["model." + name] = WeightTensor(shape: t.shape, values: t.scalars) }
        for (name, t) in optimizer?.stateTensors() ?? [] {
            dict["optimizer." + name] = WeightTensor(shape: t.shape, values: t.scalars)
        }
        var metadata = extra
        metadata["epoch"] = String(epoch)
        metadata["step"] = String(step)
        metadata["generators"] = String(decoding: try JSONEncoder().encode(generators), as: UTF8.self)
        try saveSafetensors(dict, to: url, metadata: metadata)
    }

    /// Restores model and optimizer in place and returns the position and generators.
    public static func load(from url: URL, model: Module, optimizer: (any Optimizer)?) throws -> TrainingCheckpoint {
        try load(loadSafetensors(url), path: url.path, model: model, optimizer: optimizer)
    }

    /// The same from the file's bytes (as rank 0 read them for all ranks); `path` names the file in errors.
    public static func load(
        _ data: Data, path: String, model: Module, optimizer: (any Optimizer)?
    ) throws
        -> TrainingCheckpoint
    {
        try load(loadSafetensors(data, path: path), path: path, model: model, optimizer: optimizer)
    }

    private static func load(
        _ dict: StateDict, path: String, model: Module, optimizer: (any Optimizer)?
    ) throws
        -> TrainingCheckpoint
    {
        var modelPart = StateDict()
        var optimizerPart: [String: Tensor] = [:]
        for (key, tensor) in dict {
            if key.hasPrefix("model.") {
                modelPart[String(key.dropFirst(6))] = tensor
            } else if key.hasPrefix("optimizer.") {
                optimizerPart[String(key.dropFirst(10))] = try Tensor(shape: tensor.shape, scalars: tensor.values)
            }
        }
        try model.load(modelPart)
        if let optimizer { try optimizer.loadState(optimizerPart) }
        guard let epoch = dict.metadata["epoch"].flatMap(Int.init), let step = dict.metadata["step"].flatMap(Int.init),
            let generatorText = dict.metadata["generators"],
            let generators = try? JSONDecoder().decode([String: RandomGenerator].self, from: Data(generatorText.utf8))
        else {
            throw WeightsError.invalidHeader(
                path: path, reason: "not a zoo training checkpoint (epoch/step/generators missing)")
        }
        let extra = dict.metadata.filter { !["epoch", "step", "generators"].contains($0.key) }
        return TrainingCheckpoint(epoch: epoch, step: step, generators: generators, extra: extra)
    }
}
