import NN
import Randomness
import ReceptiveFields
import Tensors
import XCTest

@testable import Models

/// The receptive-field calculator against a measurement: the input region whose pixels have a
/// non-zero gradient for the centre unit of the last feature map (the zoo's own autograd).
final class ReceptiveFieldLayersTests: XCTestCase {
    /// Rows and columns of the input with a non-zero gradient for output unit (i, j) of `forwardFeatures`.
    func measuredSupport(
        _ model: any ImageClassifier, inputSize: Int
    ) throws -> (rows: ClosedRange<Int>, cols: ClosedRange<Int>, unit: (Int, Int)) {
        // Positive weights and inputs keep every ReLU open, so the support is the full field. Each conv
        // output channel's weights sum to 0.5, which keeps activations (and residual sums) below ReLU6's 6.
        for (name, tensor) in model.stateDict() {
            tensor.withUnsafeMutableBufferPointer { b in
                if name.hasSuffix("running_var") || (name.hasSuffix("weight") && tensor.rank == 1) {
                    b.update(repeating: 1)
                } else if name.hasSuffix("running_mean") || name.hasSuffix("bias") || tensor.rank == 0 {
                    b.update(repeating: 0)
                } else {
                    let perOutput = tensor.count / max(1, tensor.shape[0])
                    for o in 0..<tensor.shape[0] {
                        let row = o * perOutput..<(o + 1) * perOutput
                        for i in row { b[i] = abs(b[i]) + 1e-3 }
                        let total = row.reduce(Float(0)) { $0 + b[$1] }
                        for i in row { b[i] *= 0.5 / total }
                    }
                }
            }
        }
        model.weightsDidChange()
        model.eval()
        var rng = RandomGenerator(seed: 4)
        let input = try Tensor.uniform([1, 3, inputSize, inputSize], low: 0.1, high: 1, using: &rng)
        input.requiresGrad = true
        let features = try model.forwardFeatures(input)
        let (h, w) = (features.shape[2], features.shape[3])
        let unit = (h / 2, w / 2)
        let selector = try Tensor(zeros: features.shape)
        selector.withUnsafeMutableBufferPointer { b in
            for c in 0..<features.shape[1] { b[(c * h + unit.0) * w + unit.1] = 1 }
        }
        try (features * selector).sum().backward()
        let grad = try XCTUnwrap(input.grad).scalars
        var rows: [Int] = []
        var cols: [Int] = []
        for c in 0..<3 {
            for y in 0..<inputSize {
                for x in 0..<inputSize where grad[(c * inputSize + y) * inputSize + x] != 0 {
                    rows.append(y)
                    cols.append(x)
                }
            }
        }
        return (rows.min()!...rows.max()!, cols.min()!...cols.max()!, unit)
    }

    func checkModel(_ name: String, _ arguments: ModelArguments, inputSize: Int) throws {
        let model = try ModelRegistry.create(name, arguments)
        let layers = try XCTUnwrap((model as? ReceptiveFieldDescribing)?.receptiveFieldLayers(), name)
        let report = try receptiveFields(of: layers, inputSize: RFPair(inputSize, inputSize))
        let r = try XCTUnwrap(report.receptiveField).height
        let stride = report.effectiveStride.height
        let firstCentre = try XCTUnwrap(report.rows.last(where: { $0.depth == 0 })?.centre).y
        let measured = try measuredSupport(model, inputSize: inputSize)
        let centre = Int(firstCentre) + measured.unit.0 * stride
        let expected = max(0, centre - (r - 1) / 2)...min(inputSize - 1, centre + (r - 1) / 2)
        XCTAssertEqual(measured.rows, expected, "\(name): rows")
        XCTAssertEqual(measured.cols, expected, "\(name): columns")
    }

    /// Small channels, the canonical geometry; inputs large enough that the field is not clipped.
    func testResNetFieldsMatchGradientSupport() throws {
        let tiny: ModelArguments = ["channels": [4, 4, 4, 4], "num_classes": 2]
        try checkModel("resnet18", tiny, inputSize: 480)  // r = 435
        try checkModel("resnet50", tiny, inputSize: 480)  // r = 427
        try checkModel(
            "resnet34", ["layers": [1, 1, 2, 1], "channels": [4, 4, 4, 4], "num_classes": 2], inputSize: 160)
    }

    /// The EfficientNet-builder families (TF "same" padding in Lite) and DenseNet's concatenations.
    func testMobileNetEfficientNetAndDenseNetFieldsMatchGradientSupport() throws {
        try checkModel("mobilenetv2_100", ["channel_multiplier": 0.25, "num_classes": 2], inputSize: 512)  // r = 491
        // r = 851
        try checkModel("tf_efficientnet_lite0", ["channel_multiplier": 0.25, "num_classes": 2], inputSize: 880)
        try checkModel(
            "densenet121", ["growth_rate": 4, "block_config": [2, 2, 2, 2], "num_classes": 2], inputSize: 256)
    }

    /// Squeeze-excitation mixes the whole map: MobileNet-V3's field is the image from its first SE block on.
    func testSqueezeExciteMakesTheFieldGlobal() throws {
        let layers = try XCTUnwrap(try ModelRegistry.entry(named: "mobilenetv3_large_100").receptiveFieldLayers())
        let report = try receptiveFields(of: layers, inputSize: RFPair(224, 224))
        XCTAssertEqual(report.globalFrom, "blocks.2.0.se")
    }

    /// torchvision / timm ResNet-50 (stride in the 3×3) sees 427×427 pixels at stride 32; TF-slim's variant (Distill table) differs.
    func testResNet50ReportMatchesPublishedValue() throws {
        let layers = try XCTUnwrap(try ModelRegistry.entry(named: "resnet50").receptiveFieldLayers())
        let report = try receptiveFields(of: layers, inputSize: RFPair(224, 224))
        XCTAssertEqual(report.receptiveField, RFPair(427, 427))
        XCTAssertEqual(report.effectiveStride, RFPair(32, 32))
    }
}
