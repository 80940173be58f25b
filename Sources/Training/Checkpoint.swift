import Foundation
import Models
import NN
import Tensors
import Weights

/// Everything needed to resume training bit for bit: model, optimizer state, position and RNG states,
/// in one safetensors file (`model.*`, `optimizer.*` tensors; the rest in `__metadata__`).
public struct TrainingCheckpoint {
    public var epoch: Int            // epochs completed
    public var step: Int             // optimizer steps taken
    public var generators: [String: RandomGenerator]
    public var extra: [String: String]

    public init(epoch: Int, step: Int, generators: [String: RandomGenerator], extra: [String: String] = [:]) {
        self.epoch = epoch; self.step = step; self.generators = generators; self.extra = extra
    }

    /// Writes atomically (temporary file, then rename): an interrupted save never corrupts the last checkpoint.
    public func save(model: Module, optimizer: (any Optimizer)?, to url: URL) throws {
        var dict = StateDict()
        for (name, t) in model.stateDict() { dict["model." + name] = WeightTensor(shape: t.shape, values: t.scalars) }
        for (name, t) in optimizer?.stateTensors() ?? [] { dict["optimizer." + name] = WeightTensor(shape: t.shape, values: t.scalars) }
        var metadata = extra
        metadata["epoch"] = String(epoch)
        metadata["step"] = String(step)
        metadata["generators"] = String(decoding: try JSONEncoder().encode(generators), as: UTF8.self)
        try saveSafetensors(dict, to: url, metadata: metadata)
    }

    /// Restores model and optimizer in place and returns the position and generators.
    public static func load(from url: URL, model: Module, optimizer: (any Optimizer)?) throws -> TrainingCheckpoint {
        let dict = try loadSafetensors(url)
        var modelPart = StateDict(), optimizerPart: [String: Tensor] = [:]
        for (key, tensor) in dict {
            if key.hasPrefix("model.") { modelPart[String(key.dropFirst(6))] = tensor }
            else if key.hasPrefix("optimizer.") { optimizerPart[String(key.dropFirst(10))] = try Tensor(shape: tensor.shape, scalars: tensor.values) }
        }
        try model.load(modelPart)
        if let optimizer { try optimizer.loadState(optimizerPart) }
        guard let epoch = dict.metadata["epoch"].flatMap(Int.init), let step = dict.metadata["step"].flatMap(Int.init),
              let generatorText = dict.metadata["generators"],
              let generators = try? JSONDecoder().decode([String: RandomGenerator].self, from: Data(generatorText.utf8)) else {
            throw WeightsError.invalidHeader(path: url.path, reason: "not a zoo training checkpoint (epoch/step/generators missing)")
        }
        let extra = dict.metadata.filter { !["epoch", "step", "generators"].contains($0.key) }
        return TrainingCheckpoint(epoch: epoch, step: step, generators: generators, extra: extra)
    }
}

/// Appends rows to a CSV file, flushing each one so an interrupted run keeps every logged step.
public final class MetricsLog {
    private let handle: FileHandle
    private let url: URL
    public let columns: [String]

    /// Opens `url`, writing the header when the file is new. A resumed run keeps the rows `keep` accepts
    /// (those up to its checkpoint): rows logged after the checkpoint are logged again, and would repeat.
    public init(url: URL, columns: [String], resume: Bool, keep: ([Substring]) -> Bool = { _ in true }) throws {
        self.columns = columns
        self.url = url
        var text = columns.joined(separator: ",") + "\n"
        if resume, let existing = try? String(contentsOf: url, encoding: .utf8) {
            for row in existing.split(separator: "\n").dropFirst() where keep(row.split(separator: ",")) { text += row + "\n" }
        }
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch {
            throw WeightsError.unwritable(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }

    public func append(_ values: [String]) throws {
        do {
            try handle.write(contentsOf: Data((values.joined(separator: ",") + "\n").utf8))
        } catch {
            throw WeightsError.unwritable(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }

    deinit { try? handle.close() }
}

/// Progress on stderr: a redrawn bar with rate and ETA on a terminal, a plain line every few seconds otherwise.
public final class ProgressReporter {
    private let total: Int
    private let label: String
    private let start = Date()
    private var lastPrint = Date.distantPast
    private let interactive = isatty(STDERR_FILENO) != 0

    public init(total: Int, label: String) { self.total = max(total, 1); self.label = label }

    public func update(done: Int, items: Int, detail: String) {
        let now = Date()
        guard now.timeIntervalSince(lastPrint) >= (interactive ? 0.2 : 5) || done == total else { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let rate = Double(items) / max(elapsed, 1e-9)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let fraction = Double(done) / Double(total)
        let text = String(format: "%@ %3.0f%% %d/%d %@ %.1f img/s ETA %@", label, fraction * 100, done, total, detail, rate, Self.clock(eta))
        if interactive {
            let width = 24, filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(text)".utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
