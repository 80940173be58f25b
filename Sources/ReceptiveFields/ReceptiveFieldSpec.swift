// The JSON layer-list format read by `zoo rf --spec layers.json`:
//
//   [{"name": "conv1", "kind": "conv", "kernel": 11, "stride": 4, "padding": 0, "dilation": 1},
//    {"kind": "pool", "kernel": [3, 3], "stride": 2, "padding": "same"},
//    {"kind": "branches", "branches": [[{"kind": "conv", "kernel": 3, "padding": 1}], []]},
//    {"kind": "global_pool"}]
//
// kind: conv | pool | identity | global | global_pool | branches (alias "parallel"); kernel is
// required for conv and pool; stride, dilation default to 1, padding to 0. kernel, stride and
// dilation take k or [h, w]; padding takes p, [h, w] (symmetric per axis), [top, left, bottom,
// right], "same" (TensorFlow) or "valid" (0).

import Foundation
import JSON

/// A malformed spec file; the description is one line naming the entry and field at fault.
public struct RFSpecError: Error, Equatable, CustomStringConvertible {
    /// JSON path, e.g. `[2].kernel` or `[4].branches[1][0].kind`.
    public var path: String
    /// What is wrong there, e.g. "missing field" or "unknown kind \"fc\" (…)".
    public var problem: String
    /// A failure described by `problem` at `path` ("(top level)" for the document itself).
    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }
    /// "path: problem", or the problem alone when `path` is empty.
    public var description: String { path.isEmpty ? problem : "\(path): \(problem)" }
}

/// Parses a spec document into layers.
public func parseReceptiveFieldSpec(_ data: Data) throws -> [RFLayer] {
    do {
        return try parseLayerList(try JSONValue.parse(data), path: "")
    } catch let error as JSONShapeError {
        throw RFSpecError(path: error.path.isEmpty ? "(top level)" : error.path, problem: error.problem)
    }
}

private func parseLayerList(_ value: JSONValue, path: String) throws -> [RFLayer] {
    let items = try value.array(at: path.isEmpty ? "(top level)" : path)
    return try items.enumerated().map { index, item in try parseLayer(item, path: "\(path)[\(index)]") }
}

private func parseLayer(_ value: JSONValue, path: String) throws -> RFLayer {
    let object = try value.object(at: path)
    let known: Set<String> = ["name", "kind", "kernel", "stride", "padding", "dilation", "branches"]
    if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
        throw JSONShapeError(
            path: "\(path).\(unknown)",
            problem: "unknown field (expected one of \(known.sorted().joined(separator: ", ")))")
    }
    let kindName = try object.required("kind", in: path).string(at: "\(path).kind")
    let name = try object["name"].map { try $0.string(at: "\(path).name") } ?? ""
    var layer = RFLayer(name: name)
    switch kindName {
    case "conv": layer.kind = .conv
    case "pool": layer.kind = .pool
    case "identity", "elementwise": layer.kind = .identity
    case "global": layer.kind = .global
    case "global_pool": layer.kind = .globalPool
    case "branches", "parallel":
        let branches = try object.required("branches", in: path).array(at: "\(path).branches")
        layer.kind = .branches(
            try branches.enumerated().map { index, branch in
                try parseLayerList(branch, path: "\(path).branches[\(index)]")
            })
        return layer
    default:
        throw JSONShapeError(
            path: "\(path).kind",
            problem:
                "unknown kind \"\(kindName)\" (expected conv, pool, identity, global, global_pool or branches)")
    }
    if layer.kind == .conv || layer.kind == .pool {
        layer.kernel = try pair(object.required("kernel", in: path), at: "\(path).kernel")
    } else if let kernel = object["kernel"] {
        layer.kernel = try pair(kernel, at: "\(path).kernel")
    }
    if let stride = object["stride"] { layer.stride = try pair(stride, at: "\(path).stride") }
    if let dilation = object["dilation"] { layer.dilation = try pair(dilation, at: "\(path).dilation") }
    if let padding = object["padding"] { layer.padding = try paddingMode(padding, at: "\(path).padding") }
    return layer
}

private func positive(_ value: JSONValue, at path: String) throws -> Int {
    let n = try value.integer(at: path)
    guard n >= 1 else { throw JSONShapeError(path: path, problem: "must be a positive integer, got \(n)") }
    return n
}

private func pair(_ value: JSONValue, at path: String) throws -> RFPair {
    if case .array(let items) = value {
        guard items.count == 2 else {
            throw JSONShapeError(path: path, problem: "expected k or [h, w], got \(items.count) values")
        }
        return RFPair(try positive(items[0], at: "\(path)[0]"), try positive(items[1], at: "\(path)[1]"))
    }
    let n = try positive(value, at: path)
    return RFPair(n, n)
}

private func paddingMode(_ value: JSONValue, at path: String) throws -> RFPaddingMode {
    func nonNegative(_ value: JSONValue, at path: String) throws -> Int {
        let n = try value.integer(at: path)
        guard n >= 0 else { throw JSONShapeError(path: path, problem: "must not be negative, got \(n)") }
        return n
    }
    switch value {
    case .string(let mode):
        switch mode.lowercased() {
        case "same": return .same
        case "valid": return .explicit(RFPadding(0))
        default:
            throw JSONShapeError(
                path: path, problem: "unknown padding \"\(mode)\" (expected a number, \"same\" or \"valid\")")
        }
    case .array(let items) where items.count == 2:
        return .explicit(
            RFPadding(
                height: try nonNegative(items[0], at: "\(path)[0]"),
                width: try nonNegative(items[1], at: "\(path)[1]")))
    case .array(let items) where items.count == 4:
        let v = try items.enumerated().map { try nonNegative($1, at: "\(path)[\($0)]") }
        return .explicit(RFPadding(top: v[0], left: v[1], bottom: v[2], right: v[3]))
    case .array(let items):
        throw JSONShapeError(
            path: path, problem: "expected p, [h, w] or [top, left, bottom, right], got \(items.count) values")
    default:
        return .explicit(RFPadding(try nonNegative(value, at: path)))
    }
}
