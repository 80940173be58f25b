/// One model of the zoo under its timm name.
public struct ModelEntry: Sendable {
    /// timm's model name (`resnet50`, `vit_base_patch16_224`).
    public let name: String
    /// The architecture family (`resnet`, `densenet`, `mobilenetv2`, …).
    public let family: String
    /// timm's default pretrained configuration (preprocessing the weights expect).
    public let pretrained: PretrainedConfig
    /// timm's parameter count of the preset (with its default head).
    public let parameterCount: Int
    /// timm's forward GFLOPs (multiply-adds × 2) for one image at the default input size.
    public let gflops: Double
    /// Arguments a user may pass (timm's keyword names).
    public let accepted: Set<String>
    private let makePreset: @Sendable () throws -> any ModelConfig
    private let build: @Sendable (ModelArguments) throws -> any ImageClassifier

    /// A registry entry; the preset is built lazily, when a model or its configuration is asked for.
    /// - Parameters:
    ///   - name: timm's model name.
    ///   - family: the architecture family shown by `zoo models`.
    ///   - pretrained: timm's default pretrained configuration (the pinned default tag).
    ///   - parameterCount: timm's parameter count of the preset.
    ///   - gflops: timm's forward GFLOPs at the default input size.
    ///   - preset: the typed architecture of this model (resnet50: `ResNetConfig(block: .bottleneck, layers: …)`).
    ///   - accepted: the keyword arguments a user may change (`num_classes` always).
    ///   - build: the family's model for a configuration.
    public init<Config: ModelConfig>(
        name: String, family: String, pretrained: PretrainedConfig, parameterCount: Int, gflops: Double,
        preset: @autoclosure @escaping @Sendable () throws -> Config, accepted: Set<String>,
        build: @escaping @Sendable (Config) throws -> any ImageClassifier
    ) {
        self.name = name
        self.family = family
        self.pretrained = pretrained
        self.parameterCount = parameterCount
        self.gflops = gflops
        self.accepted = accepted.union(["num_classes"])
        makePreset = preset
        self.build = { arguments in try build(Config(arguments.merged(over: try preset().arguments))) }
    }

    /// The typed architecture of this preset.
    public func preset() throws -> any ModelConfig { try makePreset() }

    /// Builds the model; `arguments` (timm's keyword arguments) override the preset, as they do for
    /// timm.create_model.
    public func create(_ arguments: ModelArguments = [:]) throws -> any ImageClassifier {
        for key in arguments.values.keys.sorted() where !accepted.contains(key) {
            throw ModelError.unknownArgument(model: name, argument: key, accepted: Array(accepted))
        }
        var named = arguments
        named.model = name
        return try build(named)
    }
}

/// Every model of the zoo by timm name.
public enum ModelRegistry {
    /// Every entry, family by family in a fixed order (the order `zoo models` lists them).
    public static let entries: [ModelEntry] =
        ResNetFamily.entries + EfficientNetFamily.entries + MobileNetV3Family.entries
        + DenseNetFamily.entries + VisionTransformerFamily.entries + MlpMixerFamily.entries + PoolFormerFamily.entries
        + SwinTransformerFamily.entries + VoloFamily.entries

    /// The timm names of `entries`, in the same order.
    public static var names: [String] { entries.map(\.name) }

    /// The entry called exactly `name` (no pretrained tag); throws `ModelError.unknownModel` with the nearest
    /// names otherwise.
    public static func entry(named name: String) throws -> ModelEntry {
        if let entry = entries.first(where: { $0.name == name }) { return entry }
        throw ModelError.unknownModel(name: name, suggestions: nearestNames(to: name))
    }

    /// A freshly initialised (untrained) model, as timm.create_model(name, **arguments) without weights.
    /// - Parameters:
    ///   - name: timm's model name, without a pretrained tag.
    ///   - arguments: timm's keyword arguments overriding the preset (`num_classes`, `drop_path_rate`, …).
    /// - Returns: the model, in evaluation mode (as every new `Module`, unlike PyTorch).
    /// - Throws: `ModelError.unknownModel`, `ModelError.unknownArgument` for an argument the family does not
    ///   accept, `ModelError.invalidArgument` for a value it refuses, `TensorError.outOfMemory` when the weights
    ///   exceed the tensor memory budget.
    public static func create(_ name: String, _ arguments: ModelArguments = [:]) throws -> any ImageClassifier {
        try entry(named: name).create(arguments)
    }

    /// Up to three registered names closest to `name`.
    public static func nearestNames(to name: String, limit: Int = 3) -> [String] {
        Models.nearestNames(to: name, among: names, limit: limit)
    }
}

extension ModelEntry {
    /// Every pretrained tag timm publishes on the Hub for this model, by tag name.
    public var tags: [PretrainedConfig] {
        PretrainedConfig.timmTags.filter { $0.key.hasPrefix(name + ".") }.sorted { $0.key < $1.key }.map(\.value)
    }

    /// The pretrained config of `tag`, or of the default tag pinned in the registry when nil (timm's own
    /// default moves between releases).
    public func pretrained(tag: String?) throws -> PretrainedConfig {
        let tag = tag ?? pretrained.tag
        if let config = PretrainedConfig.timmTags[name + "." + tag] { return config }
        if tag == pretrained.tag { return pretrained }  // a default without Hub weights (seresnet101: untrained)
        throw ModelError.unknownTag(model: name, tag: tag, available: tags.map(\.tag))
    }
}

extension ModelRegistry {
    /// `resnet50.a1_in1k` → the entry and that tag's pretrained config; a bare name → the pinned default tag.
    public static func resolve(_ name: String) throws -> (entry: ModelEntry, pretrained: PretrainedConfig) {
        let parts = name.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let entry = try self.entry(named: parts.first ?? "")
        return (entry, try entry.pretrained(tag: parts.count > 1 ? parts[1] : nil))
    }
}

/// timm's make_divisible: round to a multiple of `divisor`, never below 90 % of the value.
public func makeDivisible(_ value: Double, divisor: Int = 8, minValue: Int? = nil, roundLimit: Double = 0.9) -> Int {
    let minimum = minValue ?? divisor
    var result = max(minimum, Int(value + Double(divisor) / 2) / divisor * divisor)
    if Double(result) < roundLimit * value { result += divisor }
    return result
}
