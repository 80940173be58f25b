import ArgumentParser
import Foundation
import Models
import Tensors
import VisionIO

/// `zoo preprocess --model M FILE --output X.npy`: the exact (1, 3, H, W) tensor classify feeds the model.
struct PreprocessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess", abstract: "Write the model input tensor of an image as .npy.")

    @Option(help: "Model whose pretrained preprocessing to apply.")
    var model: String = Assets.defaultModel

    @Option(help: "Output .npy file.")
    var output: String

    @Argument(help: "Image file.")
    var file: String

    func run() throws {
        let pretrained: PretrainedConfig
        do { pretrained = try ModelRegistry.resolve(model).pretrained } catch { throw ValidationError("\(error)") }
        let config = PreprocessConfig(pretrained)
        let image: Image
        do { image = try Image(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw CommandError("\(file): \(error)")
        }
        try NumpyArray.write(
            FloatArray(shape: [1, 3, config.height, config.width], values: config.evalTransform(image)),
            to: URL(fileURLWithPath: output))
    }
}

/// `zoo forward --model M --weights W --input X.npy --output Y.npy`: raw NCHW float32 in, model output out.
struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward", abstract: "Run a model on a .npy tensor and write its output as .npy.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Input .npy, float32 (N, 3, H, W).")
    var input: String

    @Option(help: "Output .npy (the model's logits).")
    var output: String

    func run() throws {
        let array: FloatArray
        do { array = try NumpyArray.read(contentsOf: URL(fileURLWithPath: input)) } catch {
            throw CommandError("\(input): \(error)")
        }
        guard array.shape.count == 4, array.shape[1] == 3 else {
            throw CommandError("\(input): expected a (N, 3, H, W) array, got shape \(array.shape)")
        }
        let (_, model) = try modelOptions.loadModel()
        model.keepWeightsPackedOnly()  // inference only: the packed weights are the only copy kept
        let x = try Tensor(shape: array.shape, scalars: array.values)
        let y: Tensor
        do { y = try withoutGrad { try model(x) } } catch { throw CommandError("\(input): \(error)") }
        try NumpyArray.write(FloatArray(shape: y.shape, values: y.scalars), to: URL(fileURLWithPath: output))
    }
}
