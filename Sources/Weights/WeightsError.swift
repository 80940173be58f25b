// Weights: reading and writing checkpoints (safetensors, PyTorch .pth) as plain Float32 data.
// See ../shared/DESIGN.md. Everything a user's file can reach throws `WeightsError`.

/// Why a weights file could not be read, written or matched against a model.
/// Each case names the file and, where there is one, the key at fault.
public enum WeightsError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The file could not be opened or mapped.
    case unreadable(path: String, reason: String)
    /// The file could not be created, written or moved into place.
    case unwritable(path: String, reason: String)
    /// Neither a zip archive, a legacy torch file nor a safetensors file.
    case unrecognizedFormat(path: String)
    /// The file ends before a structure it declares (header, storage record).
    case truncated(path: String, needed: Int, available: Int)
    /// The safetensors header is not a well-formed JSON object of tensor entries.
    case invalidHeader(path: String, reason: String)
    /// A tensor's byte range is reversed or reaches past the data it lives in.
    case offsetOutOfRange(path: String, key: String, begin: Int, end: Int, limit: Int)
    /// Two tensors claim the same bytes.
    case overlappingData(path: String, key: String, otherKey: String)
    /// A tensor's byte count disagrees with its shape and element type.
    case sizeMismatch(path: String, key: String, expectedBytes: Int, actualBytes: Int)
    /// A safetensors dtype the reader does not convert (e.g. `F8_E4M3`, `U16`).
    case unsupportedDType(path: String, key: String, dtype: String)
    /// The pickle names a global outside the state-dict allowlist (e.g. `os.system`).
    case forbiddenPickleGlobal(path: String, module: String, name: String)
    /// The pickle uses an opcode the restricted unpickler does not implement.
    case forbiddenPickleOpcode(path: String, opcode: UInt8, offset: Int)
    /// The pickle is structurally wrong (stack underflow, bad argument types, …).
    case malformedPickle(path: String, offset: Int, reason: String)
    /// A tensor refers to a storage the archive does not hold.
    case missingStorage(path: String, key: String)
    /// Two source keys map to the same destination key.
    case duplicateKey(key: String)
    /// Keys the model expects that the weights lack (torch's `missing_keys`).
    case missingKeys([String])
    /// Keys in the weights the model does not have (torch's `unexpected_keys`).
    case unexpectedKeys([String])
    /// A weight whose shape differs from the model's.
    case shapeMismatch(key: String, expected: [Int], actual: [Int])

    /// One line naming the file and key at fault; key lists show their first five.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .unwritable(let path, let reason):
            return "\(path): cannot write: \(reason)"
        case .unrecognizedFormat(let path):
            return "\(path): not a safetensors file or a PyTorch checkpoint"
        case .truncated(let path, let needed, let available):
            return "\(path): truncated: needs \(needed) bytes, has \(available)"
        case .invalidHeader(let path, let reason):
            return "\(path): invalid safetensors header: \(reason)"
        case .offsetOutOfRange(let path, let key, let begin, let end, let limit):
            return "\(path): tensor '\(key)': byte range \(begin)..<\(end) is outside 0..<\(limit) (file truncated?)"
        case .overlappingData(let path, let key, let otherKey):
            return "\(path): tensor '\(key)' overlaps the bytes of '\(otherKey)'"
        case .sizeMismatch(let path, let key, let expectedBytes, let actualBytes):
            return "\(path): tensor '\(key)': shape and dtype need \(expectedBytes) bytes, file gives \(actualBytes)"
        case .unsupportedDType(let path, let key, let dtype):
            return "\(path): tensor '\(key)': unsupported dtype \(dtype)"
        case .forbiddenPickleGlobal(let path, let module, let name):
            return "\(path): pickle refers to \(module).\(name), which a state dict never needs; refusing to load"
        case .forbiddenPickleOpcode(let path, let opcode, let offset):
            let hex = String(opcode, radix: 16)
            return "\(path): pickle opcode 0x\(hex) at byte \(offset) is not allowed in a state dict; refusing to load"
        case .malformedPickle(let path, let offset, let reason):
            return "\(path): malformed pickle at byte \(offset): \(reason)"
        case .missingStorage(let path, let key):
            return "\(path): storage '\(key)' referenced by the pickle is missing"
        case .duplicateKey(let key):
            return "two weights map to the key '\(key)'"
        case .missingKeys(let keys):
            return "missing \(keys.count) key(s): \(Self.preview(keys))"
        case .unexpectedKeys(let keys):
            return "unexpected \(keys.count) key(s): \(Self.preview(keys))"
        case .shapeMismatch(let key, let expected, let actual):
            return "'\(key)': expected shape \(expected), got \(actual)"
        }
    }

    private static func preview(_ keys: [String]) -> String {
        let shown = keys.prefix(5).joined(separator: ", ")
        return keys.count > 5 ? shown + ", …" : shown
    }
}
