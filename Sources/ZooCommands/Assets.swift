import Foundation
import Models
import VisionIO

/// Where the project's data lives: `$ZOO_HOME/zoo`, `./zoo`, or the `zoo/` folder of the checkout the
/// executable was built in (…/.build/release/zoo → …/zoo).
enum Assets {
    static var registryDirectory: URL? {
        var candidates: [URL] = []
        if let home = ProcessInfo.processInfo.environment["ZOO_HOME"] { candidates.append(URL(fileURLWithPath: home).appendingPathComponent("zoo")) }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("zoo"))
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("zoo"))
            dir = dir.deletingLastPathComponent()
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("imagenet_labels.txt").path) }
    }

    /// The model `classify` uses when none is given, with the real weights fetched by setup.
    static let defaultModel = "tf_efficientnet_lite0"
    static let defaultWeightsFile = "weights/efficientnet-lite0.pth"

    static func imagenetLabels() throws -> [String] {
        guard let dir = registryDirectory else {
            throw AssetError.missing("zoo/imagenet_labels.txt (run from the project folder or set ZOO_HOME)")
        }
        let text = try String(contentsOf: dir.appendingPathComponent("imagenet_labels.txt"), encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    static func defaultWeights() throws -> URL {
        guard let url = registryDirectory?.appendingPathComponent(defaultWeightsFile),
              FileManager.default.fileExists(atPath: url.path) else {
            throw AssetError.missing("zoo/\(defaultWeightsFile): the default EfficientNet-Lite0 weights; run `bash scripts/setup.sh` to fetch them")
        }
        return url
    }
}

enum AssetError: Error, CustomStringConvertible {
    case missing(String)
    var description: String {
        switch self { case .missing(let what): return "missing \(what)" }
    }
}

extension PreprocessConfig {
    /// VisionIO's eval transform for a model's timm pretrained config.
    init(_ pretrained: PretrainedConfig, imageSize: Int? = nil) {
        let filter: ResampleFilter
        switch pretrained.interpolation {
        case .bilinear: filter = .bilinear
        case .bicubic: filter = .bicubic
        case .nearest: filter = .nearest
        }
        self.init(inputSize: (3, imageSize ?? pretrained.inputSize[1], imageSize ?? pretrained.inputSize[2]),
                  mean: pretrained.mean, std: pretrained.std, cropPct: Double(pretrained.cropPct), interpolation: filter)
    }
}

/// Options shared by the commands that run a model.
struct ModelOptions: ParsableArguments {
    @Option(help: "Model name (timm's, see `zoo models`).")
    var model: String = Assets.defaultModel

    @Option(help: "Weights: a timm/Hugging Face model.safetensors or a PyTorch .pth (default: the bundled EfficientNet-Lite0 weights for the default model).")
    var weights: String?

    @Option(help: ArgumentHelp("timm keyword arguments as JSON, e.g. '{\"layers\": [1, 1, 1, 1], \"num_classes\": 10}'.", valueName: "json"))
    var modelArgs: String?

    func validate() throws {
        _ = try entry()
        _ = try arguments()
        if weights == nil && model != Assets.defaultModel {
            throw ValidationError("no weights are bundled for '\(model)': pass --weights W (a timm model.safetensors or PyTorch .pth)")
        }
    }

    func entry() throws -> ModelEntry {
        do { return try ModelRegistry.entry(named: model) } catch { throw ValidationError("\(error)") }
    }

    func arguments() throws -> ModelArguments {
        guard let modelArgs else { return [:] }
        do {
            return ModelArguments(try JSONDecoder().decode([String: ArgumentValue].self, from: Data(modelArgs.utf8)))
        } catch {
            throw ValidationError("--model-args must be a JSON object of timm keyword arguments: \(error)")
        }
    }

    func weightsURL() throws -> URL {
        try weights.map { URL(fileURLWithPath: $0) } ?? Assets.defaultWeights()
    }

    /// The model with its weights, in evaluation mode; errors name the weights file.
    func loadModel() throws -> (ModelEntry, any ImageClassifier) {
        let entry = try entry(), url = try weightsURL()
        do {
            let model = try entry.create(weightsAt: url, arguments())
            model.eval()
            return (entry, model)
        } catch let error as ModelError where modelArgs != nil {
            throw CommandError("--model-args: \(error)")
        } catch {
            // Errors from reading the file already name it; errors from fitting it into the model do not.
            let message = "\(error)"
            throw CommandError(message.contains(url.path) ? message : "\(url.path): \(message)")
        }
    }
}

/// A failure reported as one line naming the culprit.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

import ArgumentParser
