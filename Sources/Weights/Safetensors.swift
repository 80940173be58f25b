import Foundation
import JSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
// N bytes of JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}},
// then the data section; offsets are relative to the data section.

/// Largest header accepted; the reference implementation uses the same 100 MB cap.
let safetensorsMaxHeaderBytes = 100_000_000

/// Reads a safetensors file by memory-mapping it, validating the whole header before touching data.
/// Every dtype is converted to Float32; keys come back in data order (the writer's order).
public func loadSafetensors(_ url: URL) throws -> StateDict {
    let file = try MappedFile(url: url)
    return try parseSafetensors(file.bytes, path: file.path, converted: file.releasePages(before:))
}

/// Reads safetensors bytes already in memory (a checkpoint another process read); `path` names them in errors.
public func loadSafetensors(_ data: Data, path: String) throws -> StateDict {
    try data.withUnsafeBytes { try parseSafetensors($0, path: path) }
}

/// `converted` is told how far (an offset into `bytes`) the data has been converted, in increasing order.
func parseSafetensors(
    _ bytes: UnsafeRawBufferPointer, path: String, converted: (Int) -> Void = { _ in }
) throws -> StateDict {
    let header = try SafetensorsHeader(bytes, path: path)
    let data = UnsafeRawBufferPointer(rebasing: bytes[header.dataStart...])
    var dict = StateDict()
    dict.metadata = header.metadata
    for entry in header.entries {
        let slice = UnsafeRawBufferPointer(rebasing: data[entry.begin..<entry.end])
        dict[entry.key] = WeightTensor(shape: entry.shape, values: entry.type.decode(slice, count: entry.elementCount))
        converted(header.dataStart + entry.end)
    }
    return dict
}

/// A validated header: every entry's dtype is known, its bytes lie inside the data section,
/// match shape × dtype size and overlap no other entry.
struct SafetensorsHeader {
    struct Entry {
        var key: String
        var type: ElementType
        var shape: [Int]
        var elementCount: Int
        var begin: Int
        var end: Int
    }

    var entries: [Entry]
    var metadata: [String: String]
    var dataStart: Int

    init(_ bytes: UnsafeRawBufferPointer, path: String) throws {
        guard bytes.count >= 8 else { throw WeightsError.truncated(path: path, needed: 8, available: bytes.count) }
        let declaredLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard declaredLength <= UInt64(safetensorsMaxHeaderBytes) else {
            throw WeightsError.invalidHeader(
                path: path, reason: "header length \(declaredLength) exceeds the \(safetensorsMaxHeaderBytes)-byte cap")
        }
        let headerLength = Int(declaredLength)
        guard 8 + headerLength <= bytes.count else {
            throw WeightsError.truncated(path: path, needed: 8 + headerLength, available: bytes.count)
        }
        let json = Data(bytes[8..<(8 + headerLength)])
        guard json.first == UInt8(ascii: "{") else {
            throw WeightsError.invalidHeader(path: path, reason: "header does not start with '{'")
        }
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: json)
        } catch {
            throw WeightsError.invalidHeader(path: path, reason: Self.describe(error))
        }

        dataStart = 8 + headerLength
        metadata = raw.metadata
        let dataSize = bytes.count - dataStart
        entries = try raw.tensors.map { key, rawEntry in
            try Self.validate(rawEntry, key: key, dataSize: dataSize, path: path)
        }
        entries.sort { ($0.begin, $0.key) < ($1.begin, $1.key) }
        try Self.checkNoOverlap(entries, path: path)
    }

    private static func validate(_ raw: RawEntry, key: String, dataSize: Int, path: String) throws -> Entry {
        guard let type = ElementType(safetensorsName: raw.dtype) else {
            throw WeightsError.unsupportedDType(path: path, key: key, dtype: raw.dtype)
        }
        guard let count = elementCount(of: raw.shape), let expectedBytes = byteCount(elements: count, of: type) else {
            throw WeightsError.invalidHeader(path: path, reason: "tensor '\(key)': invalid shape \(raw.shape)")
        }
        guard raw.dataOffsets.count == 2 else {
            throw WeightsError.invalidHeader(
                path: path, reason: "tensor '\(key)': data_offsets must hold 2 numbers, has \(raw.dataOffsets.count)")
        }
        let (begin, end) = (raw.dataOffsets[0], raw.dataOffsets[1])
        guard 0 <= begin, begin <= end, end <= dataSize else {
            throw WeightsError.offsetOutOfRange(path: path, key: key, begin: begin, end: end, limit: dataSize)
        }
        guard end - begin == expectedBytes else {
            throw WeightsError.sizeMismatch(
                path: path, key: key, expectedBytes: expectedBytes, actualBytes: end - begin)
        }
        return Entry(key: key, type: type, shape: raw.shape, elementCount: count, begin: begin, end: end)
    }

    /// `entries` sorted by begin; empty tensors occupy no bytes and cannot overlap.
    private static func checkNoOverlap(_ entries: [Entry], path: String) throws {
        var previous: Entry?
        for entry in entries where entry.end > entry.begin {
            if let previous, entry.begin < previous.end {
                throw WeightsError.overlappingData(path: path, key: entry.key, otherKey: previous.key)
            }
            previous = entry
        }
    }

    /// A one-line reason from a JSON decoding error ("tensor 'x': missing 'dtype'").
    private static func describe(_ error: Error) -> String {
        guard let decodingError = error as? DecodingError else { return "\(error)" }
        func location(_ context: DecodingError.Context) -> String {
            guard let first = context.codingPath.first else { return "header" }
            return "tensor '\(first.stringValue)'"
        }
        switch decodingError {
        case .keyNotFound(let key, let context):
            return "\(location(context)): missing '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let field = context.codingPath.dropFirst().map(\.stringValue).joined(separator: ".")
            return "\(location(context)): wrong type for '\(field)'"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(location(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// The header JSON as written: tensor entries plus the optional string map `__metadata__`.
private struct RawHeader: Decodable {
    var tensors: [String: RawEntry] = [:]
    var metadata: [String: String] = [:]

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        for key in container.allKeys {
            if key.stringValue == "__metadata__" {
                metadata = try container.decode([String: String].self, forKey: key)
            } else {
                tensors[key.stringValue] = try container.decode(RawEntry.self, forKey: key)
            }
        }
    }
}

private struct RawEntry: Decodable {
    var dtype: String
    var shape: [Int]
    var dataOffsets: [Int]

    enum CodingKeys: String, CodingKey {
        case dtype, shape
        case dataOffsets = "data_offsets"
    }
}

// MARK: - Writing

/// Writes `dict` as Float32 safetensors, in the dict's key order, atomically: the bytes go to a
/// temporary file beside `url` that is renamed over it only once complete.
/// `metadata` is merged over `dict.metadata` into `__metadata__`.
public func saveSafetensors(_ dict: StateDict, to url: URL, metadata: [String: String] = [:]) throws {
    guard !dict.contains("__metadata__") else {
        throw WeightsError.unwritable(
            path: url.path, reason: "'__metadata__' is reserved by the format and cannot name a tensor")
    }
    let header = safetensorsHeaderBytes(for: dict, metadata: dict.metadata.merging(metadata) { _, new in new })
    let path = url.path
    let temporaryPath = url.deletingLastPathComponent()
        .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp").path
    let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard descriptor >= 0 else { throw WeightsError.unwritable(path: path, reason: String(cString: strerror(errno))) }
    var renamed = false
    defer { if !renamed { unlink(temporaryPath) } }
    do {
        defer { close(descriptor) }
        var length = UInt64(header.count).littleEndian
        try withUnsafeBytes(of: &length) { try writeAll(descriptor, $0, path: path) }
        try header.withUnsafeBytes { try writeAll(descriptor, $0, path: path) }
        for (_, tensor) in dict {
            #if _endian(little)
            try tensor.values.withUnsafeBytes { try writeAll(descriptor, $0, path: path) }
            #else
            let swapped = tensor.values.map { $0.bitPattern.littleEndian }
            try swapped.withUnsafeBytes { try writeAll(descriptor, $0, path: path) }
            #endif
        }
        guard fsync(descriptor) == 0 else {
            throw WeightsError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
    }
    guard rename(temporaryPath, path) == 0 else {
        throw WeightsError.unwritable(path: path, reason: "rename: " + String(cString: strerror(errno)))
    }
    renamed = true
}

/// The JSON header, space-padded to a multiple of 8 bytes as the reference writer does
/// (keeps the data section 8-byte aligned for readers that map it directly).
func safetensorsHeaderBytes(for dict: StateDict, metadata: [String: String]) -> [UInt8] {
    var fields: [(String, JSONOutput)] = []
    if !metadata.isEmpty {
        fields.append(
            ("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
    }
    var offset = 0
    for (key, tensor) in dict {
        let end = offset + tensor.values.count * 4
        let entry: [(String, JSONOutput)] = [
            ("dtype", .string("F32")), ("shape", .array(tensor.shape.map { .int($0) })),
            ("data_offsets", .array([.int(offset), .int(end)])),
        ]
        fields.append((key, .object(entry)))
        offset = end
    }
    var bytes = Array(JSONOutput.object(fields).text.utf8)
    bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8))
    return bytes
}

private func writeAll(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
    var written = 0
    while written < buffer.count {
        guard let base = buffer.baseAddress else { return }
        let result = write(descriptor, base + written, buffer.count - written)
        if result < 0 {
            if errno == EINTR { continue }
            throw WeightsError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
        written += result
    }
}
