import NN
import ReceptiveFields

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
        case .explicit(let p):
            padding = .explicit(RFPadding(top: p.top, left: p.left, bottom: p.bottom, right: p.right))
        }
        return RFLayer(
            name: name, kind: .conv, kernel: RFPair(kernelSize.0, kernelSize.1), stride: RFPair(stride.0, stride.1),
            padding: padding, dilation: RFPair(dilation.0, dilation.1))
    }
}

extension ModelEntry {
    /// The receptive-field layers of this model at its default configuration, if its family describes them.
    public func receptiveFieldLayers() throws -> [RFLayer]? {
        (try Initialization.skipping { try create() } as? ReceptiveFieldDescribing)?.receptiveFieldLayers()
    }
}

// MARK: - The EfficientNet-builder families and DenseNet

/// A block of the EfficientNet builder as receptive-field layers: its convs in order (SE gates are
/// global), with the identity shortcut as a second branch when the block has one.
private func builderBlockLayers(_ block: any Layer, name: String) -> [RFLayer] {
    var main: [RFLayer]
    let skip: Bool
    switch block {
    case let b as DepthwiseSeparableBlock:
        main =
            [b.convDepthwise.receptiveFieldLayer("\(name).conv_dw")]
            + (b.se != nil ? [RFLayer(name: "\(name).se", kind: .global)] : [])
            + [b.convPointwise.receptiveFieldLayer("\(name).conv_pw")]
        skip = b.hasSkip
    case let b as InvertedResidualBlock:
        main =
            [
                b.convPointwise.receptiveFieldLayer("\(name).conv_pw"),
                b.convDepthwise.receptiveFieldLayer("\(name).conv_dw"),
            ]
            + (b.se != nil ? [RFLayer(name: "\(name).se", kind: .global)] : []) + [
                b.convProject.receptiveFieldLayer("\(name).conv_pwl")
            ]
        skip = b.hasSkip
    case let b as ConvNormActBlock:
        main = [b.conv.receptiveFieldLayer("\(name).conv")]
        skip = b.hasSkip
    default:
        main = []
        skip = true
    }
    return skip ? [.branches(name, [main, []])] : main
}

private func builderLayers(stem: Conv2d, blocks: ModuleList<Sequential>) -> [RFLayer] {
    var layers = [stem.receptiveFieldLayer("conv_stem")]
    for (s, stage) in blocks.items.enumerated() {
        for (b, block) in stage.layers.enumerated() { layers += builderBlockLayers(block, name: "blocks.\(s).\(b)") }
    }
    return layers
}

extension EfficientNet: ReceptiveFieldDescribing {
    /// The stem, every block's convs, then `conv_head`.
    public func receptiveFieldLayers() -> [RFLayer] {
        builderLayers(stem: convStem, blocks: blocks) + [convHead.receptiveFieldLayer("conv_head")]
    }
}

extension MobileNetV3: ReceptiveFieldDescribing {
    /// Up to the last feature map (`conv_head` runs after pooling in MobileNet-V3).
    public func receptiveFieldLayers() -> [RFLayer] { builderLayers(stem: convStem, blocks: blocks) }
}

extension DenseNet: ReceptiveFieldDescribing {
    /// Each dense layer's output is concatenated with its input: a branch beside the identity.
    public func receptiveFieldLayers() -> [RFLayer] {
        var layers = [
            conv0.receptiveFieldLayer("features.conv0"), .pool("features.pool0", kernel: 3, stride: 2, padding: 1),
        ]
        for (i, block) in blocks.enumerated() {
            for (j, layer) in block.layers.enumerated() {
                let name = "features.denseblock\(i + 1).denselayer\(j + 1)"
                layers.append(
                    .branches(
                        name,
                        [
                            [
                                layer.conv1.receptiveFieldLayer(name + ".conv1"),
                                layer.conv2.receptiveFieldLayer(name + ".conv2"),
                            ], [],
                        ]))
            }
            if i < transitions.count {
                layers.append(transitions[i].conv.receptiveFieldLayer("features.transition\(i + 1).conv"))
                layers.append(.pool("features.transition\(i + 1).pool", kernel: 2, stride: 2))
            }
        }
        return layers
    }
}
