import ArgumentParser
import Foundation
import Hub
import Models

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
/// cache or downloaded into it, with a progress line on a terminal.
func fetchPretrainedWeights(_ model: String, _ config: PretrainedConfig) throws -> URL {
    guard let repository = config.hubID else {
        throw CommandError(
            "\(model).\(config.tag): timm publishes no weights for this tag on the Hub; pass --weights W")
    }
    let client = HubClient(progress: isatty(STDERR_FILENO) != 0 ? DownloadProgress(repository).update : nil)
    do {
        return try client.download(repository, anyOf: ["model.safetensors", "pytorch_model.bin"])
    } catch let error as HubError {
        throw CommandError("\(error)")
    }
}

/// "timm/resnet50.a1_in1k  [████····]  41.2/102.2 MB  18.3 MB/s  ETA 0:03", redrawn on stderr.
final class DownloadProgress: @unchecked Sendable {
    private let label: String
    private let start = Date()
    private var lastDraw = Date.distantPast

    init(_ label: String) { self.label = label }

    func update(done: Int64, total: Int64) {
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.2 || done >= total else { return }
        lastDraw = now
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let rate = Double(done) / max(now.timeIntervalSince(start), 1e-3)
        let eta = rate > 0 ? Int(Double(total - done) / rate) : 0
        let filled = Int(fraction * 20)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: 20 - filled)
        let line = String(
            format: "\r\u{1B}[K%@  [%@]  %.1f/%.1f MB  %.1f MB/s  ETA %d:%02d", label, bar,
            Double(done) / 1e6, Double(total) / 1e6, rate / 1e6, eta / 60, eta % 60)
        FileHandle.standardError.write(Data((line + (done >= total ? "\n" : "")).utf8))
    }
}
