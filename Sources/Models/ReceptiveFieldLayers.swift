import Metrics
import NN

/// A model that can list its layers' geometry for the receptive-field calculator (`zoo rf --model`).
public protocol ReceptiveFieldDescribing {
    /// Layers from the input to the last feature map (`forwardFeatures`), blocks as branches.
    func receptiveFieldLayers() -> [RFLayer]
}

extension Conv2d {
    /// This conv's geometry as a receptive-field layer.
    public func receptiveFieldLayer(_ name: String) -> RFLayer {
        let padding: RFPaddingMode
        switch self.padding {
        case .same: padding = .same
        case .explicit(let p): padding = .explicit(RFPadding(top: p.top, left: p.left, bottom: p.bottom, right: p.right))
        }
        return RFLayer(name: name, kind: .conv, kernel: RFPair(kernelSize.0, kernelSize.1), stride: RFPair(stride.0, stride.1),
                       padding: padding, dilation: RFPair(dilation.0, dilation.1))
    }
}

extension ModelEntry {
    /// The receptive-field layers of this model at its default configuration, if its family describes them.
    public func receptiveFieldLayers() throws -> [RFLayer]? {
        (try Initialization.skipping { try create() } as? ReceptiveFieldDescribing)?.receptiveFieldLayers()
    }
}
