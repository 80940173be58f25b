/// A family's architecture, typed: the API a Swift user builds models with (`ResNet(ResNetConfig(…))`).
/// timm's keyword arguments are an adapter onto it: `init(_:)` reads them (the command line's
/// `--model-args`, the registry's presets) and `arguments` writes them, and both directions are its Codable
/// form, so a JSON object of timm keyword arguments decodes into the same struct. Every way in goes through
/// `init(_:)`, which holds the checks (each value's bounds, then the family's rules).
public protocol ModelConfig: Codable, Equatable, Sendable {
    /// Reads timm's keyword arguments, the family's defaults for those absent, checking every value.
    init(_ arguments: ModelArguments) throws
    /// This configuration as timm's keyword arguments (every field, under timm's name).
    var arguments: ModelArguments { get }
}

extension ModelConfig {
    /// Decodes timm's keyword arguments (`{"layers": [2, 2, 2, 2], "num_classes": 10}`), checked as `init(_:)`
    /// checks them; a keyword this family does not implement is an error, not ignored.
    public init(from decoder: Decoder) throws {
        var arguments = ModelArguments(try [String: ArgumentValue](from: decoder))
        arguments.model = String(describing: Self.self)
        let known = try Self(ModelArguments()).arguments.values.keys
        for key in arguments.values.keys.sorted() where !known.contains(key) {
            throw ModelError.unknownArgument(model: arguments.model, argument: key, accepted: Array(known))
        }
        try self.init(arguments)
    }

    /// Encodes every field under timm's keyword name.
    public func encode(to encoder: Encoder) throws { try arguments.values.encode(to: encoder) }

    /// This configuration after the checks every other way in gets (the labelled initialisers end with it).
    func checked() throws -> Self {
        var named = arguments
        named.model = String(describing: Self.self)
        return try Self(named)
    }
}

extension ArgumentValue {
    /// A list of integers (`layers`, `depths`, …).
    static func ints(_ values: [Int]) -> ArgumentValue { .list(values.map { .int($0) }) }
    static func float(_ value: Float) -> ArgumentValue { .double(Double(value)) }
}
