import Kernels
import Tensors

/// timm Mlp: fc1 → activation → fc2 (`mlp.fc1`, `mlp.fc2`).
public final class Mlp: Module, Layer {
    /// The projections in → hidden and hidden → out.
    public let fc1: Linear, fc2: Linear
    /// The nonlinearity between them (timm's `act_layer`, GELU by default).
    public let activation: Activation
    /// Dropout after the activation and after `fc2` (timm's `drop`, one rate for both).
    public let drop: Dropout

    /// An MLP with PyTorch-default random weights (see `Initialization`).
    ///
    /// - Parameters:
    ///   - inFeatures: Token width in.
    ///   - hiddenFeatures: Width between the two projections.
    ///   - outFeatures: Token width out; nil for `inFeatures`.
    ///   - activation: Nonlinearity after `fc1`.
    ///   - bias: Whether both projections have a bias.
    ///   - dropout: Dropout probability, applied in training mode only.
    /// - Throws: `TensorError` when the weights cannot be allocated.
    public init(
        inFeatures: Int, hiddenFeatures: Int, outFeatures: Int? = nil, activation: Activation = .gelu,
        bias: Bool = true, dropout: Float = 0
    ) throws {
        fc1 = try Linear(inFeatures, hiddenFeatures, bias: bias)
        fc2 = try Linear(hiddenFeatures, outFeatures ?? inFeatures, bias: bias)
        self.activation = activation
        drop = Dropout(dropout)
        super.init()
        register("drop", drop)
        register("fc1", fc1)
        register("fc2", fc2)
    }

    /// Maps `input` `[…, inFeatures]` to `[…, outFeatures]`.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try drop(fc2(drop(fc1(input, activation: activation))))
    }
}
