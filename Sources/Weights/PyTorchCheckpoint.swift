import Foundation
import ZIPFoundation

// PyTorch checkpoints come in two layouts, both read with `RestrictedUnpickler`:
//  - zip (torch.save since 1.6): `<name>/data.pkl` is the pickle, `<name>/data/<key>` the raw
//    little-endian storages, `<name>/byteorder` says "little" (absent in early versions).
//  - legacy (torch.save(_use_new_zipfile_serialization=False), and every file before 1.6): five pickles
//    back to back — magic number, protocol version, sys info, the object, the list of storage keys —
//    then each storage in that order as an 8-byte little-endian element count and its raw bytes.

/// Reads the tensors of a `torch.save`d state dict (zip or legacy layout) as Float32.
/// Training checkpoints are unwrapped: the `state_dict` / `model` / … entry is used when present,
/// nested dicts of tensors are flattened with dotted keys, and non-tensor values are dropped.
public func loadPyTorchCheckpoint(_ url: URL) throws -> StateDict {
    let file = try MappedFile(url: url)
    switch detectFormat(file.bytes) {
    case .zip: return try loadZipCheckpoint(url: url, file: file)
    case .legacyTorch: return try loadLegacyCheckpoint(file)
    case .safetensors, .unknown: throw WeightsError.unrecognizedFormat(path: file.path)
    }
}

/// Reads safetensors or a PyTorch checkpoint, chosen by the file's first bytes (not its extension).
public func loadWeights(_ url: URL) throws -> StateDict {
    let file = try MappedFile(url: url)
    switch detectFormat(file.bytes) {
    case .zip: return try loadZipCheckpoint(url: url, file: file)
    case .legacyTorch: return try loadLegacyCheckpoint(file)
    case .safetensors: return try parseSafetensors(file.bytes, path: file.path, converted: file.releasePages(before:))
    case .unknown: throw WeightsError.unrecognizedFormat(path: file.path)
    }
}

enum WeightsFileFormat { case zip, legacyTorch, safetensors, unknown }

func detectFormat(_ bytes: UnsafeRawBufferPointer) -> WeightsFileFormat {
    if bytes.starts(with: [0x50, 0x4b, 0x03, 0x04]) { return .zip }  // "PK\3\4"
    // safetensors: a header length that fits the file, then a JSON object. Checked before the pickle
    // test because a header length of 128 + 256k also starts with 0x80.
    if bytes.count > 8, bytes[8] == UInt8(ascii: "{") {
        let length = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        if length <= UInt64(bytes.count - 8) { return .safetensors }
    }
    if bytes.count >= 2, bytes[0] == 0x80, (2...5).contains(bytes[1]) { return .legacyTorch }  // pickle PROTO 2…5
    // A JSON header that does not fit: a truncated safetensors file, which its parser reports as such.
    if bytes.count > 8, bytes[8] == UInt8(ascii: "{") { return .safetensors }
    return .unknown
}

// MARK: - Zip layout

/// The pickle of a real state dict is a few hundred KB; this only stops a hostile size claim.
private let maxPickleBytes: UInt64 = 1 << 30

/// Checks the zip's directory before ZIPFoundation reads it: that the end-of-central-directory record is in
/// the file's last 65,557 bytes (ZIPFoundation looks for it in the whole file: a truncated 300 MB archive
/// took a minute to refuse) and that every entry's offsets and sizes lie inside the file (ZIPFoundation
/// converts them to `off_t` and `Int64` unchecked, and traps on a hostile value).
private func validateZipDirectory(_ bytes: UnsafeRawBufferPointer, path: String) throws {
    func fail(_ reason: String) -> WeightsError { .unreadable(path: path, reason: reason) }
    func uint(_ offset: Int, _ width: Int) -> UInt64 {
        (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }
    let size = UInt64(bytes.count)
    let recordSize = 22
    let longestComment = 0xFFFF
    guard
        let end = stride(
            from: bytes.count - recordSize, through: max(0, bytes.count - recordSize - longestComment), by: -1
        )
        .first(where: { uint($0, 4) == 0x0605_4b50 })
    else {
        throw fail("truncated zip archive (no end-of-central-directory record at its end)")
    }
    var (entries, directoryOffset) = (uint(end + 10, 2), uint(end + 16, 4))
    // Zip64: a locator just before the record points at the 64-bit record.
    if end >= 20, uint(end - 20, 4) == 0x0706_4b50 {
        let record = uint(end - 20 + 8, 8)
        guard record <= size - 56, uint(Int(record), 4) == 0x0606_4b50 else {
            throw fail("zip64 end record lies outside the file")
        }
        (entries, directoryOffset) = (uint(Int(record) + 32, 8), uint(Int(record) + 48, 8))
    }
    guard entries <= size / 46 else { throw fail("zip directory claims \(entries) entries") }
    var at = directoryOffset
    for _ in 0..<entries {
        guard at <= size - 46, uint(Int(at), 4) == 0x0201_4b50 else {
            throw fail("zip directory entry lies outside the file")
        }
        let header = Int(at)
        var compressed = uint(header + 20, 4)
        var uncompressed = uint(header + 24, 4)
        var local = uint(header + 42, 4)
        let (nameLength, extraLength, commentLength) = (
            uint(header + 28, 2), uint(header + 30, 2), uint(header + 32, 2)
        )
        at += 46 + nameLength + extraLength + commentLength
        guard at <= size else { throw fail("zip directory entry lies outside the file") }
        // Zip64 extended information: 8-byte values for the fields that hold 0xFFFFFFFF, in this order.
        var extra = header + 46 + Int(nameLength)
        var extraEnd = extra + Int(extraLength)
        while extra + 4 <= extraEnd {
            let (id, length) = (uint(extra, 2), Int(uint(extra + 2, 2)))
            if id == 1 {
                var field = extra + 4
                for value in [0, 1, 2] {
                    let current = [uncompressed, compressed, local][value]
                    guard current == 0xFFFF_FFFF, field + 8 <= min(extra + 4 + length, extraEnd) else { continue }
                    let wide = uint(field, 8)
                    if value == 0 { uncompressed = wide } else if value == 1 { compressed = wide } else { local = wide }
                    field += 8
                }
            }
            extra += 4 + length
        }
        guard local <= size - 30, uint(Int(local), 4) == 0x0403_4b50 else {
            throw fail("zip entry's local header lies outside the file")
        }
        let dataStart = local + 30 + uint(Int(local) + 26, 2) + uint(Int(local) + 28, 2)
        // Deflate cannot expand more than 1032 times: a larger claim is a forgery.
        guard compressed <= size, dataStart <= size - compressed, uncompressed / 1032 <= compressed else {
            throw fail("zip entry's sizes (\(compressed) stored, \(uncompressed) unpacked) do not fit the file")
        }
    }
}

private func loadZipCheckpoint(url: URL, file: MappedFile) throws -> StateDict {
    let (path, fileSize) = (file.path, file.bytes.count)
    try validateZipDirectory(file.bytes, path: path)
    let archive: Archive
    do {
        archive = try Archive(url: url, accessMode: .read)
    } catch {
        throw WeightsError.unreadable(path: path, reason: "not a readable zip archive (\(error))")
    }
    // Index once: Archive's subscript scans the central directory on every lookup.
    var entries: [String: Entry] = [:]
    for entry in archive where entries[entry.path] == nil { entries[entry.path] = entry }
    let reader = ZipEntryReader(archive: archive, path: path, fileSize: fileSize)

    // The pickle sits at `<name>/data.pkl` where <name> is whatever the writer chose.
    guard
        let pickleEntry = archive.first(where: { entry in
            let components = entry.path.split(separator: "/", omittingEmptySubsequences: false)
            return components.count == 2 && components[1] == "data.pkl"
        })
    else {
        throw WeightsError.unreadable(path: path, reason: "zip archive has no <name>/data.pkl; not a torch.save file")
    }
    let prefix = String(pickleEntry.path.dropLast("data.pkl".count))
    if let byteOrderEntry = entries[prefix + "byteorder"] {
        let byteOrder = String(decoding: try reader.read(byteOrderEntry, verifyChecksum: true), as: UTF8.self)
        guard byteOrder.trimmingCharacters(in: .whitespacesAndNewlines) == "little" else {
            throw WeightsError.unreadable(
                path: path, reason: "storages are \(byteOrder)-endian; only little-endian is supported")
        }
    }
    guard pickleEntry.uncompressedSize <= maxPickleBytes else {
        throw WeightsError.malformedPickle(
            path: path, offset: 0, reason: "data.pkl claims \(pickleEntry.uncompressedSize) bytes")
    }
    let pickle = try reader.read(pickleEntry, verifyChecksum: true)
    return try pickle.withUnsafeBytes { pickleBytes in
        let unpickler = RestrictedUnpickler(pickleBytes, path: path)
        let root = try unpickler.load()
        let tensorEntries = try stateDictEntries(root, in: unpickler, path: path)
        return try materialize(tensorEntries, from: unpickler, path: path) { storage, body in
            guard let entry = entries[prefix + "data/" + storage.key] else {
                throw WeightsError.missingStorage(path: path, key: storage.key)
            }
            // Storages skip the CRC (as safetensors has none): it would double the load time, and
            // truncation is still caught by the size checks.
            try reader.read(entry, verifyChecksum: false).withUnsafeBytes(body)
        }
    }
}

private struct ZipEntryReader {
    let archive: Archive
    let path: String
    let fileSize: Int

    func read(_ entry: Entry, verifyChecksum: Bool) throws -> Data {
        var data = Data()
        // A stored entry is never larger than the file; don't let a forged size reserve more.
        data.reserveCapacity(Int(min(entry.uncompressedSize, UInt64(fileSize))))
        do {
            _ = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: !verifyChecksum) { chunk in
                data.append(chunk)
            }
        } catch {
            throw WeightsError.unreadable(path: path, reason: "zip entry \(entry.path): \(error)")
        }
        return data
    }
}

// MARK: - Legacy layout

/// `0x1950a86a20f9469cfc6c`, torch's legacy magic number, as the little-endian bytes of its LONG1.
private let legacyMagic: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]
private let legacyProtocolVersion = 1001

private func loadLegacyCheckpoint(_ file: MappedFile) throws -> StateDict {
    let (bytes, path) = (file.bytes, file.path)
    var position = 0
    func nextPickle() throws -> (RestrictedUnpickler, PickleValue) {
        let unpickler = RestrictedUnpickler(bytes, start: position, path: path)
        let value = try unpickler.load()
        position = unpickler.position
        return (unpickler, value)
    }

    guard case .bigInt(legacyMagic) = try nextPickle().1 else { throw WeightsError.unrecognizedFormat(path: path) }
    guard case .int(legacyProtocolVersion) = try nextPickle().1 else {
        throw WeightsError.unreadable(path: path, reason: "unsupported legacy torch protocol version")
    }
    let (infoUnpickler, info) = try nextPickle()
    if case .dict(let infoID) = info, case .bool(false)? = infoUnpickler.dicts[infoID].value(forKey: "little_endian") {
        throw WeightsError.unreadable(
            path: path, reason: "written on a big-endian machine; only little-endian is supported")
    }
    let (unpickler, root) = try nextPickle()
    let (keysUnpickler, keysValue) = try nextPickle()
    guard case .list(let keysID) = keysValue else {
        throw WeightsError.malformedPickle(path: path, offset: position, reason: "storage key list is not a list")
    }

    // Storages follow in key-list order; record where each one's bytes are.
    var rootTypes: [String: ElementType] = [:]
    for storage in unpickler.storages { rootTypes[storage.key] = storage.type }
    var storageBytes: [String: UnsafeRawBufferPointer] = [:]
    for keyValue in keysUnpickler.lists[keysID] {
        guard case .string(let key) = keyValue, let type = rootTypes[key] else {
            throw WeightsError.malformedPickle(
                path: path, offset: position, reason: "storage key list names a storage no tensor uses")
        }
        guard bytes.count - position >= 8 else {
            throw WeightsError.truncated(path: path, needed: position + 8, available: bytes.count)
        }
        let count = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int64.self))
        position += 8
        guard count >= 0, let size = byteCount(elements: Int(count), of: type) else {
            throw WeightsError.malformedPickle(
                path: path, offset: position - 8, reason: "storage '\(key)' has element count \(count)")
        }
        guard size <= bytes.count - position else {
            throw WeightsError.truncated(path: path, needed: position + size, available: bytes.count)
        }
        storageBytes[key] = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + size)])
        position += size
    }

    let entries = try stateDictEntries(root, in: unpickler, path: path)
    return try materialize(entries, from: unpickler, path: path) { storage, body in
        guard let raw = storageBytes[storage.key] else {
            throw WeightsError.missingStorage(path: path, key: storage.key)
        }
        try body(raw)
    }
}

// MARK: - From pickle values to a StateDict

/// Entries of a training checkpoint that hold the model's weights, in order of preference.
private let stateDictWrapperKeys = ["state_dict", "model_state_dict", "model_state", "model", "module"]
/// Deeper nesting than this is not a state dict (and may be a hostile cycle).
private let maxNesting = 8
/// Nested dicts that share inner dicts can name exponentially many entries (a "billion laughs" pickle):
/// stop long before that. The largest timm state dicts have a few thousand tensors.
private let maxEntries = 1 << 20

/// The (key, tensor) pairs of the checkpoint's state dict, in pickle order.
private func stateDictEntries(
    _ root: PickleValue, in unpickler: RestrictedUnpickler, path: String
) throws -> [(String, Int)] {
    guard case .dict(var dictID) = root else {
        throw WeightsError.malformedPickle(path: path, offset: 0, reason: "the checkpoint is not a dict")
    }
    for _ in 0..<maxNesting {
        let dict = unpickler.dicts[dictID]
        let wrapped = stateDictWrapperKeys.lazy.compactMap { key -> Int? in
            if case .dict(let inner)? = dict.value(forKey: key) { return inner }
            return nil
        }.first
        guard let wrapped else { break }
        dictID = wrapped
    }

    var entries: [(String, Int)] = []
    var visited = 0
    func collect(_ id: Int, prefix: String, depth: Int) throws {
        guard depth < maxNesting else { return }
        let dict = unpickler.dicts[id]
        visited += dict.keys.count
        guard visited <= maxEntries else {
            throw WeightsError.malformedPickle(
                path: path, offset: 0,
                reason: "nested dicts name more than \(maxEntries) entries; not a state dict")
        }
        for (key, value) in zip(dict.keys, dict.values) {
            let name: String
            switch key {
            case .string(let string): name = prefix + string
            case .int(let int): name = prefix + String(int)
            default: continue
            }
            switch value {
            case .tensor(let tensorID): entries.append((name, tensorID))
            case .dict(let innerID): try collect(innerID, prefix: name + ".", depth: depth + 1)
            default: continue  // epochs, hyper-parameters, …
            }
        }
    }
    try collect(dictID, prefix: "", depth: 0)
    return entries
}

/// Converts the chosen tensors to Float32, visiting each storage once. `withStorage` hands over the
/// raw bytes of one storage for the duration of the closure (a zip entry is extracted just then).
private func materialize(
    _ entries: [(String, Int)], from unpickler: RestrictedUnpickler, path: String,
    withStorage: (StorageReference, (UnsafeRawBufferPointer) throws -> Void) throws -> Void
) throws -> StateDict {
    var results = [WeightTensor?](repeating: nil, count: entries.count)
    var entriesByStorage: [Int: [Int]] = [:]
    var storageOrder: [Int] = []
    for (position, (_, tensorID)) in entries.enumerated() {
        let storage = unpickler.tensors[tensorID].storage
        if entriesByStorage[storage] == nil { storageOrder.append(storage) }
        entriesByStorage[storage, default: []].append(position)
    }
    // Views of one root storage share its bytes; fetch each root once.
    var rootOrder: [String] = []
    var storagesByRoot: [String: [Int]] = [:]
    for storage in storageOrder {
        let key = unpickler.storages[storage].key
        if storagesByRoot[key] == nil { rootOrder.append(key) }
        storagesByRoot[key, default: []].append(storage)
    }
    for rootKey in rootOrder {
        let storages = storagesByRoot[rootKey] ?? []
        guard let first = storages.first else { continue }
        try withStorage(unpickler.storages[first]) { raw in
            // Keys that name one tensor (or one view) share its values: 3,000 keys on one tensor are not 3,000 copies.
            var decoded: [TensorReference: WeightTensor] = [:]
            for storage in storages {
                let type = unpickler.storages[storage].type
                for position in entriesByStorage[storage] ?? [] {
                    let (key, tensorID) = entries[position]
                    let tensor = unpickler.tensors[tensorID]
                    if decoded[tensor] == nil {
                        decoded[tensor] = try contiguousTensor(tensor, type: type, raw: raw, key: key, path: path)
                    }
                    results[position] = decoded[tensor]
                }
            }
        }
    }
    var dict = StateDict()
    for (position, (key, _)) in entries.enumerated() {
        if let tensor = results[position] { dict[key] = tensor }
    }
    return dict
}

/// Copies a (possibly strided) view of a storage into a row-major Float32 tensor, after checking
/// that every element it addresses lies inside the storage.
private func contiguousTensor(
    _ tensor: TensorReference, type: ElementType, raw: UnsafeRawBufferPointer,
    key: String, path: String
) throws -> WeightTensor {
    guard let count = elementCount(of: tensor.shape) else {
        throw WeightsError.malformedPickle(path: path, offset: 0, reason: "tensor '\(key)' has shape \(tensor.shape)")
    }
    if count == 0 { return WeightTensor(shape: tensor.shape, values: []) }
    let available = raw.count / type.byteCount
    // A view never has more elements than its storage, except by repeating them (stride 0), which no
    // saved state dict does; refusing it bounds what a file can make us allocate by the file's size.
    guard count <= available else {
        throw WeightsError.malformedPickle(
            path: path, offset: 0,
            reason: "tensor '\(key)' has \(count) elements but its storage holds \(available)")
    }
    var lastIndex = tensor.offset
    var overflow = false
    for (size, stride) in zip(tensor.shape, tensor.strides) {
        let (step, overflowA) = (size - 1).multipliedReportingOverflow(by: stride)
        let (sum, overflowB) = lastIndex.addingReportingOverflow(step)
        overflow = overflow || overflowA || overflowB
        lastIndex = sum
    }
    guard !overflow, lastIndex < available else {
        throw WeightsError.offsetOutOfRange(
            path: path, key: key, begin: tensor.offset * type.byteCount,
            end: overflow ? Int.max : (lastIndex + 1) * type.byteCount, limit: raw.count)
    }

    var contiguousStride = 1
    var isContiguous = true
    for (size, stride) in zip(tensor.shape, tensor.strides).reversed() {
        if size != 1 && stride != contiguousStride { isContiguous = false }
        contiguousStride *= size
    }
    if isContiguous {
        let start = tensor.offset * type.byteCount
        let slice = UnsafeRawBufferPointer(rebasing: raw[start..<(start + count * type.byteCount)])
        return WeightTensor(shape: tensor.shape, values: type.decode(slice, count: count))
    }

    // Strided view (efficientnet_pytorch's weights were saved channels-last, _fc.weight transposed):
    // decode the span it covers once, then gather rows along the innermost dimension.
    let spanStart = tensor.offset * type.byteCount
    let span = type.decode(
        UnsafeRawBufferPointer(rebasing: raw[spanStart..<((lastIndex + 1) * type.byteCount)]),
        count: lastIndex - tensor.offset + 1)
    let rank = tensor.shape.count
    let (innerSize, innerStride) = (tensor.shape[rank - 1], tensor.strides[rank - 1])
    let values = [Float](unsafeUninitializedCapacity: count) { out, initialized in
        span.withUnsafeBufferPointer { source in
            var outerIndex = [Int](repeating: 0, count: rank - 1)
            var base = 0
            var written = 0
            while written < count {
                for inner in 0..<innerSize { out[written + inner] = source[base + inner * innerStride] }
                written += innerSize
                var dimension = rank - 2
                while dimension >= 0 {  // odometer over the outer dimensions
                    outerIndex[dimension] += 1
                    base += tensor.strides[dimension]
                    if outerIndex[dimension] < tensor.shape[dimension] { break }
                    base -= tensor.strides[dimension] * tensor.shape[dimension]
                    outerIndex[dimension] = 0
                    dimension -= 1
                }
            }
        }
        initialized = count
    }
    return WeightTensor(shape: tensor.shape, values: values)
}
