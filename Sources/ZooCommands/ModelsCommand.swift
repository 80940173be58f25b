import ArgumentParser
import Foundation
import Models

/// `zoo models`: the registry — name, family, parameters, GFLOPs and input size of every model.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List the models of the zoo.")

    @Flag(help: "Print JSON.")
    var json = false

    struct Row: Encodable {
        var name: String, family: String, params: Int, gflops: Double, inputSize: [Int]
        var pretrainedTag: String, cropPct: Float, interpolation: String, mean: [Float], std: [Float]
        /// Every pretrained tag on the Hub, with the config its weights expect (timm's `pretrained_cfg`).
        var tags: [Tag]

        enum CodingKeys: String, CodingKey {
            case name, family, params, gflops
            case inputSize = "input_size"
            case pretrainedTag = "pretrained_tag"
            case cropPct = "crop_pct"
            case interpolation, mean, std, tags
        }
    }

    struct Tag: Encodable {
        var name: String, hubID: String?, inputSize: [Int], cropPct: Float, interpolation: String
        var mean: [Float], std: [Float], numClasses: Int

        enum CodingKeys: String, CodingKey {
            case name
            case hubID = "hf_hub_id"
            case inputSize = "input_size"
            case cropPct = "crop_pct"
            case interpolation, mean, std
            case numClasses = "num_classes"
        }

        init(model: String, _ c: PretrainedConfig) {
            name = model + "." + c.tag
            hubID = c.hubID
            inputSize = c.inputSize
            cropPct = c.cropPct
            interpolation = c.interpolation.rawValue
            mean = c.mean
            std = c.std
            numClasses = c.numClasses
        }
    }

    func run() throws {
        let rows = ModelRegistry.entries.map {
            Row(
                name: $0.name, family: $0.family, params: $0.parameterCount, gflops: $0.gflops,
                inputSize: $0.pretrained.inputSize,
                pretrainedTag: $0.pretrained.tag, cropPct: $0.pretrained.cropPct,
                interpolation: $0.pretrained.interpolation.rawValue,
                mean: $0.pretrained.mean, std: $0.pretrained.std,
                tags: $0.tags.map { [name = $0.name] in Tag(model: name, $0) })
        }
        if json { return print(try jsonString(rows)) }
        print(
            "name".padding(toLength: 32, withPad: " ", startingAt: 0)
                + "family".padding(toLength: 12, withPad: " ", startingAt: 0)
                + "params (M)   GFLOPs   input")
        for r in rows {
            print(
                r.name.padding(toLength: 32, withPad: " ", startingAt: 0)
                    + r.family.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + String(
                        format: "%10.3f %8.3f   %d×%d", Double(r.params) / 1e6, r.gflops, r.inputSize[1],
                        r.inputSize[2]))
        }
    }
}
