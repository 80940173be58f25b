import ArgumentParser
import Foundation
import Models
import VisionIO

/// Where the project's data lives: `$ZOO_HOME/zoo`, `./zoo`, or the `zoo/` folder of the checkout the
/// executable was built in (…/.build/release/zoo → …/zoo).
enum Assets {
    static var registryDirectory: URL? {
        var candidates: [URL] = []
        if let home = ProcessInfo.processInfo.environment["ZOO_HOME"] {
            candidates.append(URL(fileURLWithPath: home).appendingPathComponent("zoo"))
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("zoo"))
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("zoo"))
            dir = dir.deletingLastPathComponent()
        }
        return candidates.first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("imagenet_labels.txt").path)
        }
    }

    /// The model `classify` uses when none is given, with the real weights fetched by setup.
    static let defaultModel = "tf_efficientnet_lite0"
    static let defaultWeightsFile = "weights/efficientnet-lite0.pth"

    static func imagenetLabels() throws -> [String] {
        guard let dir = registryDirectory else {
            throw CommandError("missing zoo/imagenet_labels.txt (run from the project folder or set ZOO_HOME)")
        }
        let text = try String(contentsOf: dir.appendingPathComponent("imagenet_labels.txt"), encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    static func defaultWeights() throws -> URL {
        guard let url = registryDirectory?.appendingPathComponent(defaultWeightsFile),
            FileManager.default.fileExists(atPath: url.path)
        else {
            throw CommandError(
                "missing zoo/\(defaultWeightsFile): the default EfficientNet-Lite0 weights; run `bash scripts/setup.sh` to fetch them"
            )
        }
        return url
    }
}

/// Options shared by the commands that run a model.
struct ModelOptions: ParsableArguments {
    @Option(
        help:
            "Model name, with a pretrained tag as timm spells it or without (the pinned default): resnet50.a1_in1k, resnet50."
    )
    var model: String = Assets.defaultModel

    @Option(
        help:
            "Weights: a timm/Hugging Face model.safetensors or a PyTorch .pth (default: the model's pretrained weights from the Hugging Face Hub, or the bundled EfficientNet-Lite0 weights for the default model)."
    )
    var weights: String?

    @Flag(help: "Use the pretrained weights from the Hugging Face Hub, also for the default model.")
    var pretrained = false

    @Option(
        help: ArgumentHelp(
            "timm keyword arguments as JSON, e.g. '{\"layers\": [1, 1, 1, 1], \"num_classes\": 10}'.", valueName: "json"
        ))
    var modelArgs: String?

    func validate() throws {
        _ = try resolved()
        _ = try arguments()
        if pretrained && weights != nil { throw ValidationError("--pretrained and --weights exclude each other") }
    }

    /// The registry entry and the pretrained config of the (default or named) tag.
    func resolved() throws -> (entry: ModelEntry, pretrained: PretrainedConfig) {
        do { return try ModelRegistry.resolve(model) } catch { throw ValidationError("\(error)") }
    }

    func arguments() throws -> ModelArguments {
        guard let modelArgs else { return [:] }
        do {
            return ModelArguments(try JSONDecoder().decode([String: ArgumentValue].self, from: Data(modelArgs.utf8)))
        } catch {
            throw ValidationError("--model-args must be a JSON object of timm keyword arguments: \(error)")
        }
    }

    /// --weights, else the bundled file for the default model, else the tag's weights from the Hub (cached).
    func weightsURL() throws -> URL {
        if let weights { return URL(fileURLWithPath: weights) }
        if !pretrained && model == Assets.defaultModel { return try Assets.defaultWeights() }
        let (entry, config) = try resolved()
        return try fetchPretrainedWeights(entry.name, config)
    }

    /// The model with its weights, in evaluation mode, and the preprocessing those weights expect;
    /// errors name the weights file.
    func loadModel() throws -> (pretrained: PretrainedConfig, model: any ImageClassifier) {
        let (entry, config) = try resolved()
        let url = try weightsURL()
        // Errors from reading the file already name it; errors from fitting it into the model do not.
        let model = try attributing(to: url.path) {
            do {
                return try entry.create(weightsAt: url, arguments())
            } catch let error as ModelError where modelArgs != nil {
                throw CommandError("--model-args: \(error)")
            }
        }
        model.eval()
        return (config, model)
    }
}
