import NN
import Tensors
import XCTest

@testable import Models

/// What every classifier offers: logits through the head, pooled features before it; and one-line model errors.
final class ImageClassifierTests: XCTestCase {
    /// Features are the channel means; the head doubles them, or stops before that for `preLogits`.
    private final class MeansTimesTwo: Module, ImageClassifier {
        var numClasses: Int { 3 }
        var numFeatures: Int { 3 }
        func forwardFeatures(_ input: Tensor) throws -> Tensor { try input.mean(axes: [2, 3]) }
        func forwardHead(_ features: Tensor, preLogits: Bool) throws -> Tensor {
            preLogits ? features : try features * 2
        }
    }

    func testLogitsGoThroughTheHeadAndFeaturesStopBeforeIt() throws {
        // Channel planes of 2×2 values with means 1, 2 and 3.
        let input = try Tensor(shape: [1, 3, 2, 2], scalars: [0, 2, 0, 2, 2, 2, 2, 2, 3, 3, 1, 5])
        let model = MeansTimesTwo()
        XCTAssertEqual(try model(input).scalars, [2, 4, 6])
        XCTAssertEqual(try model.features(input).scalars, [1, 2, 3])
    }

    /// Records the batch of each pass through the features and through the head; features are the channel means.
    private final class PassRecorder: Module, ImageClassifier {
        var passes: [Int] = []
        var headPasses: [Int] = []
        var imageByImage = true
        var numClasses: Int { 3 }
        var numFeatures: Int { 3 }
        var infersImageByImage: Bool { imageByImage }
        func forwardFeatures(_ input: Tensor) throws -> Tensor {
            passes.append(input.shape[0])
            return try input.mean(axes: [2, 3])
        }
        func forwardHead(_ features: Tensor, preLogits: Bool) throws -> Tensor {
            headPasses.append(features.shape[0])
            return features
        }
    }

    func testInferenceTakesTheBatchImageByImageOnlyWhereItMay() throws {
        let input = try Tensor(shape: [3, 3, 1, 2], scalars: (0..<18).map(Float.init))
        let means: [Float] = [0.5, 2.5, 4.5, 6.5, 8.5, 10.5, 12.5, 14.5, 16.5]
        let model = PassRecorder()
        model.eval()
        XCTAssertEqual(try withoutGrad { try model(input) }.scalars, means)
        XCTAssertEqual(try withoutGrad { try model.features(input) }.scalars, means)
        XCTAssertEqual(model.passes, [1, 1, 1, 1, 1, 1])
        XCTAssertEqual(model.headPasses, [3, 3], "the head takes the whole batch")
        // A recorded forward, training, or a model that says no: the whole batch at once.
        model.passes = []
        XCTAssertEqual(try model(input).scalars, means)
        model.train()
        XCTAssertEqual(try withoutGrad { try model(input) }.scalars, means)
        model.eval()
        model.imageByImage = false
        XCTAssertEqual(try withoutGrad { try model(input) }.scalars, means)
        XCTAssertEqual(model.passes, [3, 3, 3])
    }

    /// Real models give the same logits image by image (ResNet and DenseNet: all but their last stage) as the
    /// whole batch through the recorded path.
    func testImageByImageInferenceMatchesTheWholeBatch() throws {
        let cases = [
            ("resnet18", false), ("densenet121", false), ("mobilenetv2_035", true),
            ("swin_tiny_patch4_window7_224", true),
        ]
        for (name, wholeModelImageByImage) in cases {
            let model = try ModelRegistry.entry(named: name).create()
            XCTAssertEqual(model.infersImageByImage, wholeModelImageByImage, name)
            FormulaWeights.apply(to: model)
            model.eval()
            let input = try FormulaWeights.input([3, 3, 224, 224])
            let inferred = try withoutGrad { try model(input) }.scalars
            let recorded = try model(input).scalars
            let scale = max(1, recorded.map(abs).max() ?? 0)
            let worst = zip(inferred, recorded).map { abs($0 - $1) }.max() ?? .nan
            XCTAssertLessThanOrEqual(worst / scale, 1e-5, "\(name): max difference \(worst) at scale \(scale)")
        }
    }

    func testErrorsAreOneLineNamingTheModel() {
        XCTAssertEqual(
            "\(ModelError.unknownModel(name: "resnet5", suggestions: ["resnet50", "resnet18"]))",
            "unknown model 'resnet5'; did you mean 'resnet50', 'resnet18'?")
        XCTAssertEqual("\(ModelError.unknownModel(name: "zzz", suggestions: []))", "unknown model 'zzz'")
        XCTAssertEqual(
            "\(ModelError.unknownArgument(model: "resnet18", argument: "x", accepted: ["num_classes", "layers"]))",
            "resnet18: unknown argument 'x' (accepted: layers, num_classes)")
        XCTAssertEqual(
            "\(ModelError.unknownTag(model: "seresnet101", tag: "a1", available: []))",
            "seresnet101: no pretrained tag 'a1' on the Hub (the model has none)")
        XCTAssertEqual(
            "\(ModelError.unknownTag(model: "resnet18", tag: "b", available: ["a1_in1k", "tv_in1k"]))",
            "resnet18: no pretrained tag 'b' on the Hub (tags: a1_in1k, tv_in1k)")
        XCTAssertEqual(
            "\(ModelError.unsupportedInput(model: "mixer", shape: [1, 3, 32, 32], reason: "must be 224×224"))",
            "mixer: input of shape [1, 3, 32, 32] must be 224×224")
    }
}
