import ArgumentParser
import Foundation
import Hub
import Models
import Training

/// `zoo download NAME…`: fetches the pretrained weights of models (timm names, with or without a tag)
/// into the Hugging Face cache ahead of time, and prints where each file is.
struct DownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Fetch pretrained weights from the Hugging Face Hub into its cache.")

    @Argument(help: "Model names, e.g. resnet50.a1_in1k or resnet50 (its pinned default tag).") var names: [String]

    func validate() throws {
        for name in names { do { _ = try ModelRegistry.resolve(name) } catch { throw ValidationError("\(error)") } }
    }

    func run() throws {
        var failed = false
        for name in names {
            do {
                let (entry, config) = try ModelRegistry.resolve(name)
                print(try fetchPretrainedWeights(entry.name, config).path)
            } catch {
                reportError("\(error)")
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }
}

/// The Hub weights of a pretrained tag (model.safetensors, else pytorch_model.bin), from the shared
/// cache or downloaded into it, with the progress bar training uses, in bytes, on a terminal.
func fetchPretrainedWeights(_ model: String, _ config: PretrainedConfig) throws -> URL {
    guard let repository = config.hubID else {
        throw CommandError(
            "\(model).\(config.tag): timm publishes no weights for this tag on the Hub; pass --weights W")
    }
    // The bar is made at the first callback, when the size is known; only on a terminal, as before.
    var bar: ProgressReporter?
    let progress: (Int64, Int64) -> Void = { done, total in
        if bar == nil { bar = ProgressReporter(total: Int(total), label: repository, unit: .bytes) }
        bar?.update(done: Int(done), items: Int(done), detail: "")
    }
    let client = HubClient(progress: isatty(STDERR_FILENO) != 0 ? progress : nil)
    do {
        return try client.download(repository, anyOf: ["model.safetensors", "pytorch_model.bin"])
    } catch let error as HubError {
        throw CommandError("\(error)")
    }
}
