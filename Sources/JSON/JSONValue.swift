// A minimal JSON tree for hand-validated inputs (COCO files, receptive-field specs): decoding into
// it never fails on shape, so the validators can name the exact field or index at fault.

import Foundation

/// A parsed JSON document or fragment, checked field by field with the throwing accessors below.
public enum JSONValue: Decodable, Equatable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// Any JSON number, integers included.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object (key order is not kept).
    case object([String: JSONValue])

    /// Decodes whatever JSON value `decoder` holds, whatever its shape; throws the decoder's `DecodingError`
    /// only when the value is none of the cases (use `parse` for a one-line message).
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses `data`, reporting syntax errors as one line.
    public static func parse(_ data: Data) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch let error as DecodingError {
            // JSONSerialization says where the syntax breaks ("Invalid value around character 12.",
            // "Number 1e400 is not representable"); the decoder only that something did.
            var detail = "\(error)"
            do {
                _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            } catch {
                detail =
                    (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
            }
            throw JSONShapeError(
                path: "", problem: "invalid JSON (\(detail.replacingOccurrences(of: "\n", with: " ")))")
        }
    }

    /// The kind of value with its article ("an object", "a number", "null"), for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A validation failure at a JSON path such as `annotations[3].bbox`.
public struct JSONShapeError: Error, Equatable {
    /// Where in the document, e.g. `images[0].id`; empty for the document itself.
    public var path: String
    /// What is wrong there, e.g. "missing field" or "expected a number, got a string".
    public var problem: String

    /// A failure described by `problem` at `path`.
    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }
}

/// Typed accessors that throw `JSONShapeError` naming `path`.
extension JSONValue {
    /// The fields of an object; throws `JSONShapeError` at `path` for any other value.
    public func object(at path: String) throws -> [String: JSONValue] {
        guard case .object(let value) = self else { throw wrongType(path, "an object") }
        return value
    }

    /// The elements of an array; throws `JSONShapeError` at `path` for any other value.
    public func array(at path: String) throws -> [JSONValue] {
        guard case .array(let value) = self else { throw wrongType(path, "an array") }
        return value
    }

    /// A finite number; throws `JSONShapeError` at `path` for any other value.
    public func number(at path: String) throws -> Double {
        guard case .number(let value) = self, value.isFinite else { throw wrongType(path, "a number") }
        return value
    }

    /// A whole number within ±2⁵³ (`3.0` passes, `3.5` does not); throws `JSONShapeError` at `path` otherwise.
    public func integer(at path: String) throws -> Int {
        let value = try number(at: path)
        // 2^53: beyond it doubles no longer hold every integer, so ids could silently collide.
        guard value == value.rounded(), abs(value) <= 9_007_199_254_740_992 else {
            throw JSONShapeError(path: path, problem: "expected an integer, got \(value)")
        }
        return Int(value)
    }

    /// A string; throws `JSONShapeError` at `path` for any other value.
    public func string(at path: String) throws -> String {
        guard case .string(let value) = self else { throw wrongType(path, "a string") }
        return value
    }

    /// Booleans, or 0/1 as COCO files often write `iscrowd`.
    public func flag(at path: String) throws -> Bool {
        switch self {
        case .bool(let value): return value
        case .number(let value) where value == 0 || value == 1: return value == 1
        default: throw wrongType(path, "a boolean or 0/1")
        }
    }

    private func wrongType(_ path: String, _ expected: String) -> JSONShapeError {
        JSONShapeError(path: path, problem: "expected \(expected), got \(typeName)")
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// The value of field `key` of the object at `path`; throws `JSONShapeError` "missing field" at `path.key`
    /// when the object lacks it.
    public func required(_ key: String, in path: String) throws -> JSONValue {
        guard let value = self[key] else {
            throw JSONShapeError(path: path.isEmpty ? key : "\(path).\(key)", problem: "missing field")
        }
        return value
    }
}
