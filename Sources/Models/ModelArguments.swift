import Foundation

/// A timm keyword-argument value (`layers=(1, 1, 1, 1)`, `drop_path_rate=0.1`, `global_pool='avg'`).
public enum ArgumentValue: Equatable, Codable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral {
    case int(Int), double(Double), bool(Bool), string(String), list([ArgumentValue])

    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: ArgumentValue...) { self = .list(elements) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int.self) { self = .int(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else { self = .list(try c.decode([ArgumentValue].self)) }
    }

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
    public var values: [String: ArgumentValue]
    public var model = ""

    public init(_ values: [String: ArgumentValue] = [:]) { self.values = values }
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

    public func int(_ key: String, default fallback: Int) throws -> Int {
        switch values[key] {
        case nil: return fallback
        case .int(let v)?: return v
        case .double(let v)? where v == v.rounded(): return Int(v)
        default: throw invalid(key, "must be an integer")
        }
    }

    public func double(_ key: String, default fallback: Double) throws -> Double {
        switch values[key] {
        case nil: return fallback
        case .int(let v)?: return Double(v)
        case .double(let v)?: return v
        default: throw invalid(key, "must be a number")
        }
    }

    public func float(_ key: String, default fallback: Float) throws -> Float {
        Float(try double(key, default: Double(fallback)))
    }

    public func optionalDouble(_ key: String) throws -> Double? {
        values[key] == nil ? nil : try double(key, default: 0)
    }

    public func bool(_ key: String, default fallback: Bool) throws -> Bool {
        switch values[key] {
        case nil: return fallback
        case .bool(let v)?: return v
        default: throw invalid(key, "must be true or false")
        }
    }

    public func string(_ key: String, default fallback: String) throws -> String {
        switch values[key] {
        case nil: return fallback
        case .string(let v)?: return v
        default: throw invalid(key, "must be a string")
        }
    }

    /// A string argument naming one case of `T`; the error lists the accepted names.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, default fallback: T) throws -> T where T.RawValue == String {
        let name = try string(key, default: fallback.rawValue)
        guard let value = T(rawValue: name) else {
            throw invalid(key, "must be " + T.allCases.map(\.rawValue).joined(separator: " or "))
        }
        return value
    }

    public func ints(_ key: String, default fallback: [Int]) throws -> [Int] {
        switch values[key] {
        case nil: return fallback
        case .list(let items)?:
            return try items.map {
                guard case .int(let v) = $0 else { throw invalid(key, "must be a list of integers") }
                return v
            }
        case .int(let v)?: return [v]
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
