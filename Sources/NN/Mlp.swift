import Kernels
import Tensors

/// timm Mlp: fc1 → activation → fc2 (`mlp.fc1`, `mlp.fc2`).
public final class Mlp: Module, Layer {
    public let fc1: Linear, fc2: Linear
    public let activation: Activation
    public let drop: Dropout

    public init(
        inFeatures: Int, hiddenFeatures: Int, outFeatures: Int? = nil, activation: Activation = .gelu,
        bias: Bool = true, dropout: Float = 0
    ) throws {
        fc1 = try Linear(inFeatures, hiddenFeatures, bias: bias)
        fc2 = try Linear(hiddenFeatures, outFeatures ?? inFeatures, bias: bias)
        self.activation = activation
        drop = Dropout(dropout)
        super.init()
        register("fc1", fc1)
        register("fc2", fc2)
    }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try drop(fc2(drop(fc1(input, activation: activation))))
    }
}
