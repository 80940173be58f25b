import Foundation
import Kernels
import NN
import Tensors
import Weights

extension Module {
    /// Copies a state dict into this module's parameters and buffers. Every key and shape is checked
    /// before anything is copied, so a mismatched file leaves the module untouched. `strict`
    /// rejects missing and unexpected keys; `num_batches_tracked` may be absent (older checkpoints).
    public func load(_ dict: StateDict, strict: Bool = true) throws {
        var entries = dict
        try load(taking: &entries, strict: strict)
    }

    /// `load`, emptying `dict` entry by entry as it copies: when the caller holds the only copy, the
    /// decoded file is freed as the model fills, so loading never holds two full copies of the weights.
    /// On a throw `dict` is untouched.
    public func load(taking dict: inout StateDict, strict: Bool = true) throws {
        let own = stateDict()
        var missing: [String] = []
        var matched: [(key: String, tensor: Tensor)] = []
        for (key, tensor) in own {
            guard let weights = dict[key] else {
                if !key.hasSuffix("num_batches_tracked") { missing.append(key) }
                continue
            }
            guard weights.shape == tensor.shape || (weights.values.count == 1 && tensor.count == 1) else {
                throw WeightsError.shapeMismatch(key: key, expected: tensor.shape, actual: weights.shape)
            }
            matched.append((key, tensor))
        }
        if strict {
            if !missing.isEmpty { throw WeightsError.missingKeys(missing) }
            let ownKeys = Set(own.map(\.name))
            let unexpected = dict.keys.filter { !ownKeys.contains($0) }
            if !unexpected.isEmpty { throw WeightsError.unexpectedKeys(unexpected) }
        }
        var freedSinceRelease = 0
        for (key, tensor) in matched {
            tensor.withUnsafeMutableBufferPointer { buffer in
                dict[key]!.values.withUnsafeBufferPointer {
                    buffer.baseAddress!.update(from: $0.baseAddress!, count: buffer.count)
                }
            }
            dict[key] = nil
            freedSinceRelease += tensor.count * MemoryLayout<Float>.stride
            if freedSinceRelease >= 1 << 22 {
                releaseFreedMemory()
                freedSinceRelease = 0
            }
        }
        releaseFreedMemory()
        weightsDidChange()
    }

    /// This module's parameters and buffers as a state dict (for saving).
    public func exportStateDict() -> StateDict {
        StateDict(stateDict().map { ($0.name, WeightTensor(shape: $0.tensor.shape, values: $0.tensor.scalars)) })
    }
}

/// A model that also reads checkpoints saved under another project's key names
/// (e.g. `efficientnet_pytorch` for EfficientNet-Lite); the remapper lives beside the family.
public protocol RemapsForeignCheckpoints {
    /// `dict` under timm's names (unchanged when it already uses them).
    func timmNamed(_ dict: StateDict) throws -> StateDict
}
