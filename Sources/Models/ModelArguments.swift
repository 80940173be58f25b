import Foundation

/// A timm keyword-argument value (`layers=(1, 1, 1, 1)`, `drop_path_rate=0.1`, `global_pool='avg'`).
public enum ArgumentValue: Equatable, Codable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral
{
    /// An integer (`depth=12`).
    case int(Int)
    /// A real number (`mlp_ratio=4.0`); an integral one is also read as an integer.
    case double(Double)
    /// A flag (`se=True`).
    case bool(Bool)
    /// A name (`pad_type='same'`).
    case string(String)
    /// A tuple or list (`depths=(2, 2, 6, 2)`).
    case list([ArgumentValue])

    /// `.int(value)`.
    public init(integerLiteral value: Int) { self = .int(value) }
    /// `.double(value)`.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// `.bool(value)`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// `.string(value)`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// `.list(elements)`.
    public init(arrayLiteral elements: ArgumentValue...) { self = .list(elements) }

    /// Decodes a JSON value, trying a boolean, an integer, a number, a string and then a list, in that order.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Bool.self) {
            self = .bool(v)
        } else if let v = try? c.decode(Int.self) {
            self = .int(v)
        } else if let v = try? c.decode(Double.self) {
            self = .double(v)
        } else if let v = try? c.decode(String.self) {
            self = .string(v)
        } else {
            self = .list(try c.decode([ArgumentValue].self))
        }
    }

    /// Encodes the bare value (`12`, `4.0`, `true`, `"same"`, `[2, 2, 6, 2]`).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .int(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .bool(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .list(let v): try c.encode(v)
        }
    }
}

/// Keyword arguments for a model constructor, read with typed accessors that name the model on error.
public struct ModelArguments: Equatable, Sendable, ExpressibleByDictionaryLiteral {
    /// The arguments by timm's keyword name.
    public var values: [String: ArgumentValue]
    /// The model or config type that errors name (set by the registry and by `ModelConfig`'s checks).
    public var model = ""

    /// Arguments with no model name yet.
    public init(_ values: [String: ArgumentValue] = [:]) { self.values = values }
    /// `["depth": 12, "num_classes": 10]`; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, ArgumentValue)...) { values = Dictionary(elements) { $1 } }

    /// `defaults` overridden by `self`.
    public func merged(over defaults: ModelArguments) -> ModelArguments {
        var result = defaults
        result.values.merge(values) { $1 }
        result.model = model
        return result
    }

    private func invalid(_ key: String, _ reason: String) -> ModelError {
        .invalidArgument(model: model, argument: key, reason: reason)
    }

    /// The values each size, multiplier and rate may take. Every timm preset sits well inside; a value
    /// outside is refused by name before a layer is built, and what is inside but too big in sum is
    /// stopped by the tensor memory budget (`TensorMemory`). Integers without an entry are sizes too.
    public static let bounds: [String: ClosedRange<Double>] = [
        "num_classes": 0...100_000,  // timm's largest heads: 21,843 (ImageNet-21k)
        "img_size": 1...4096, "patch_size": 1...1024, "window_size": 1...1024,
        "embed_dim": 1...16384, "embed_dims": 1...16384, "dims": 1...16384, "channels": 1...16384,
        "decoder_embed_dim": 1...16384, "stem_hidden_dim": 1...16384,
        "growth_rate": 1...4096, "bn_size": 1...64,
        "depth": 1...1000, "decoder_depth": 1...1000, "depths": 1...1000, "layers": 1...1000,
        "block_config": 1...1000, "num_blocks": 1...1000,
        "num_heads": 1...1024, "decoder_num_heads": 1...1024,
        "mlp_ratio": 0.01...64, "channel_multiplier": 0.01...16, "depth_multiplier": 0.01...16,
        "bn_eps": 1e-12...1, "layer_scale_init_values": 0...1e6,
        "drop_rate": 0...1, "drop_path_rate": 0...1, "proj_drop_rate": 0...1, "mask_ratio": 0...0.99,
    ]
    static let defaultIntegerBounds: ClosedRange<Double> = 0...1_000_000

    /// `value`, or an error naming `key` and its bound when it lies outside.
    private func checked(_ key: String, _ value: Int) throws -> Int {
        try checked(key, Double(value), bounds: Self.bounds[key] ?? Self.defaultIntegerBounds, shown: String(value))
        return value
    }

    @discardableResult
    private func checked(
        _ key: String, _ value: Double, bounds: ClosedRange<Double>?, shown: String? = nil
    ) throws -> Double {
        guard value.isFinite else { throw invalid(key, "must be a finite number") }
        if let bounds, !bounds.contains(value) {
            throw invalid(
                key,
                "must be between \(bounds.lowerBound.formatted) and \(bounds.upperBound.formatted), got \(shown ?? value.formatted)"
            )
        }
        return value
    }

    /// The integer under `key` (an integral number counts), or `fallback` when absent.
    /// - Parameters:
    ///   - key: timm's keyword name.
    ///   - fallback: the value when `key` is absent (not checked against the bounds).
    /// - Returns: the value, within `bounds[key]` (0…1,000,000 for keys without an entry).
    /// - Throws: `ModelError.invalidArgument` when the value is not an integer or lies outside its bounds.
    public func int(_ key: String, default fallback: Int) throws -> Int {
        switch values[key] {
        case nil: return fallback
        case .int(let v)?: return try checked(key, v)
        case .double(let v)? where v == v.rounded() && abs(v) < 1e15: return try checked(key, Int(v))
        default: throw invalid(key, "must be an integer")
        }
    }

    /// The number under `key` (an integer counts), or `fallback` when absent.
    /// - Parameters:
    ///   - key: timm's keyword name.
    ///   - fallback: the value when `key` is absent (not checked).
    /// - Returns: the value, finite and within `bounds[key]` when the key has bounds.
    /// - Throws: `ModelError.invalidArgument` when the value is not a finite number or lies outside its bounds.
    public func double(_ key: String, default fallback: Double) throws -> Double {
        switch values[key] {
        case nil: return fallback
        case .int(let v)?: return try checked(key, Double(v), bounds: Self.bounds[key])
        case .double(let v)?: return try checked(key, v, bounds: Self.bounds[key])
        default: throw invalid(key, "must be a number")
        }
    }

    /// `double(_:default:)` as a `Float` (rates, epsilons); throws as it does.
    public func float(_ key: String, default fallback: Float) throws -> Float {
        Float(try double(key, default: Double(fallback)))
    }

    /// `double(_:default:)`, or nil when `key` is absent; throws as it does.
    public func optionalDouble(_ key: String) throws -> Double? {
        values[key] == nil ? nil : try double(key, default: 0)
    }

    /// The flag under `key`, or `fallback` when absent; throws `ModelError.invalidArgument` for a non-boolean.
    public func bool(_ key: String, default fallback: Bool) throws -> Bool {
        switch values[key] {
        case nil: return fallback
        case .bool(let v)?: return v
        default: throw invalid(key, "must be true or false")
        }
    }

    /// The string under `key`, or `fallback` when absent; throws `ModelError.invalidArgument` for a non-string.
    public func string(_ key: String, default fallback: String) throws -> String {
        switch values[key] {
        case nil: return fallback
        case .string(let v)?: return v
        default: throw invalid(key, "must be a string")
        }
    }

    /// A string argument naming one case of `T`; the error lists the accepted names.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, default fallback: T) throws -> T
    where T.RawValue == String {
        let name = try string(key, default: fallback.rawValue)
        guard let value = T(rawValue: name) else {
            throw invalid(key, "must be " + T.allCases.map(\.rawValue).joined(separator: " or "))
        }
        return value
    }

    /// The integer list under `key` (a single integer is a list of one), or `fallback` when absent.
    /// - Parameters:
    ///   - key: timm's keyword name (`layers`, `depths`, …).
    ///   - fallback: the value when `key` is absent (not checked).
    /// - Returns: at most 64 integers, each within the key's bounds as `int(_:default:)` checks them.
    /// - Throws: `ModelError.invalidArgument` for a longer list, an element that is not an integer (an integral
    ///   number in a list is not accepted) or one out of bounds.
    public func ints(_ key: String, default fallback: [Int]) throws -> [Int] {
        switch values[key] {
        case nil: return fallback
        case .list(let items)?:
            guard items.count <= 64 else { throw invalid(key, "must list at most 64 values, got \(items.count)") }
            return try items.map {
                guard case .int(let v) = $0 else { throw invalid(key, "must be a list of integers") }
                return try checked(key, v)
            }
        case .int(let v)?: return [try checked(key, v)]
        default: throw invalid(key, "must be a list of integers")
        }
    }

    /// An integer or a (height, width) pair, as timm's `img_size`.
    public func size(_ key: String, default fallback: Int) throws -> (Int, Int) {
        if case .list = values[key] {
            let pair = try ints(key, default: [])
            guard pair.count == 2 else { throw invalid(key, "must be an integer or a pair") }
            return (pair[0], pair[1])
        }
        let v = try int(key, default: fallback)
        return (v, v)
    }
}

extension Double {
    /// 16, 0.99, 1e-12: a bound or value as a user would write it.
    var formatted: String { self == rounded() && abs(self) < 1e15 ? String(Int(self)) : "\(self)" }
}
