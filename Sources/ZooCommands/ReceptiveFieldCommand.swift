import ArgumentParser
import Foundation
import JSON
import Models
import ReceptiveFields

/// `zoo rf`: receptive field, effective stride and padding per layer.
struct ReceptiveFieldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rf",
        abstract: "Receptive field size, effective stride and padding of every layer (Araujo et al., Distill 2019).",
        discussion: """
            layers.json is a list of {"kind": "conv"|"pool"|"identity"|"global"|"global_pool"|"branches", \
            "name", "kernel", "stride", "padding", "dilation"}; kernel/stride/dilation take k or [h, w], \
            padding takes p, [h, w], [top, left, bottom, right], "same" or "valid".
            """)

    @Option(help: "A JSON layer list (see below).")
    var spec: String?

    @Option(help: "A model of the registry (timm name, see `zoo models`), e.g. resnet50.")
    var model: String?

    @Option(
        name: .customLong("input-size"),
        help: "Input size N or H,W: enables output sizes and input-dependent 'same' padding.")
    var inputSize: String?

    @Flag(help: "Print {\"rf\", \"stride\", \"padding\", \"layers\": […]} as JSON.")
    var json = false

    /// Where the model registry plugs in: a model's layer list by name, nil when unknown.
    /// No model emits `[RFLayer]` yet, so every name is unknown for now.
    /// A registered model's layers, when its family describes its geometry.
    static func layersForModel(_ name: String) -> [RFLayer]? {
        (try? ModelRegistry.entry(named: name)).flatMap { try? $0.receptiveFieldLayers() }
    }

    func validate() throws {
        switch (spec, model) {
        case (nil, nil): throw ValidationError("give --spec layers.json or --model M")
        case (.some, .some): throw ValidationError("give either --spec or --model, not both")
        case (nil, .some(let name)) where Self.layersForModel(name) == nil:
            if let entry = try? ModelRegistry.entry(named: name) {
                throw ValidationError(
                    "\(name): the \(entry.family) family has no receptive-field description (attention mixes the whole image); describe the layers with --spec layers.json"
                )
            }
            throw ValidationError(
                "\(ModelError.unknownModel(name: name, suggestions: ModelRegistry.nearestNames(to: name)))")
        default: break
        }
        _ = try parsedInputSize()
    }

    func parsedInputSize() throws -> RFPair? {
        guard let inputSize else { return nil }
        let parts = inputSize.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        switch parts.count {
        case 1: if let n = parts[0], n > 0 { return RFPair(n, n) }
        case 2: if let h = parts[0], let w = parts[1], h > 0, w > 0 { return RFPair(h, w) }
        default: break
        }
        throw ValidationError("--input-size: '\(inputSize)' is not a positive N or H,W")
    }

    func run() throws {
        print(try output())
    }

    /// Everything `run` prints, so tests can check it without capturing stdout.
    func output() throws -> String {
        let layers: [RFLayer]
        let source: String
        if let spec {
            layers = try attributing(to: spec) { try parseReceptiveFieldSpec(try readInputFile(spec)) }
            source = spec
        } else if let model, let modelLayers = Self.layersForModel(model) {
            layers = modelLayers
            source = model
        } else {
            throw ValidationError("give --spec layers.json or --model M")
        }
        let report = try attributing(to: source) { try receptiveFields(of: layers, inputSize: try parsedInputSize()) }
        if json { return report.json.text }
        var lines = [report.table, ""]
        let rf = report.receptiveField?.description ?? "whole input"
        lines.append(
            "receptive field \(rf), stride \(report.effectiveStride), padding \(report.effectivePadding?.description ?? "-")"
        )
        if let globalFrom = report.globalFrom { lines.append("global from layer '\(globalFrom)' on") }
        lines += report.warnings.map { "warning: \($0)" }
        return lines.joined(separator: "\n")
    }
}
