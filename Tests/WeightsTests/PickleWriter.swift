import Foundation

/// Hand-assembles protocol-2 pickles opcode by opcode, so tests can build the exact (often hostile)
/// programs they need without Python. Opcode bytes follow CPython's Lib/pickletools.py.
struct PickleWriter {
    var bytes: [UInt8] = [0x80, 0x02]  // PROTO 2

    mutating func op(_ opcode: UInt8) { bytes.append(opcode) }
    mutating func op(_ opcode: Character) { bytes.append(opcode.asciiValue ?? 0) }

    mutating func mark() { op("(") }
    mutating func stop() { op(".") }
    mutating func emptyDict() { op("}") }
    mutating func emptyList() { op("]") }
    mutating func emptyTuple() { op(")") }
    mutating func tuple() { op("t") }
    mutating func setItem() { op("s") }
    mutating func setItems() { op("u") }
    mutating func appends() { op("e") }
    mutating func reduce() { op("R") }
    mutating func persistentID() { op("Q") }
    mutating func none() { op("N") }
    mutating func bool(_ value: Bool) { op(value ? 0x88 : 0x89) }
    /// BINPUT / BINGET: store the top of the stack in memo slot `slot`, push it again.
    mutating func put(_ slot: UInt8) {
        op("q")
        bytes.append(slot)
    }
    mutating func get(_ slot: UInt8) {
        op("h")
        bytes.append(slot)
    }

    mutating func string(_ value: String) {
        op("X")
        let utf8 = Array(value.utf8)
        appendLittleEndian(UInt32(utf8.count))
        bytes += utf8
    }

    mutating func int(_ value: Int) {
        if (0...255).contains(value) {
            op("K")
            bytes.append(UInt8(value))
        } else {
            op("J")
            appendLittleEndian(UInt32(bitPattern: Int32(value)))
        }
    }

    mutating func global(_ module: String, _ name: String) {
        op("c")
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    mutating func tupleOfInts(_ values: [Int]) {
        mark()
        for value in values { int(value) }
        tuple()
    }

    /// `torch._utils._rebuild_tensor_v2(('storage', torch.<storageType>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())`.
    mutating func tensor(
        storageType: String = "FloatStorage", key: String, numel: Int,
        offset: Int = 0, shape: [Int], strides: [Int]
    ) {
        global("torch._utils", "_rebuild_tensor_v2")
        mark()
        mark()
        string("storage")
        global("torch", storageType)
        string(key)
        string("cpu")
        int(numel)
        tuple()
        persistentID()
        int(offset)
        tupleOfInts(shape)
        tupleOfInts(strides)
        bool(false)
        global("collections", "OrderedDict")
        emptyTuple()
        reduce()
        tuple()
        reduce()
    }

    /// A complete pickle of `{key: tensor, …}` built by `body`.
    static func stateDict(_ body: (inout PickleWriter) -> Void) -> [UInt8] {
        var writer = PickleWriter()
        writer.global("collections", "OrderedDict")
        writer.emptyTuple()
        writer.reduce()
        writer.mark()
        body(&writer)
        writer.setItems()
        writer.stop()
        return writer.bytes
    }

    private mutating func appendLittleEndian(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}

/// Assembles a legacy (pre-zip) torch file: magic, protocol version, sys info, `main` pickle,
/// the storage-key list, then each storage as an 8-byte element count and its bytes.
func legacyTorchFile(main: [UInt8], storages: [(key: String, elementCount: Int64, bytes: [UInt8])]) -> [UInt8] {
    let magic: [UInt8] = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]
    let protocolVersion: [UInt8] = [0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e]  // BININT2 1001
    var info = PickleWriter()
    info.emptyDict()
    info.string("little_endian")
    info.bool(true)
    info.setItem()
    info.stop()
    var keys = PickleWriter()
    keys.emptyList()
    keys.mark()
    for storage in storages { keys.string(storage.key) }
    keys.appends()
    keys.stop()
    var file = magic + protocolVersion + info.bytes + main + keys.bytes
    for storage in storages {
        withUnsafeBytes(of: storage.elementCount.littleEndian) { file += $0 }
        file += storage.bytes
    }
    return file
}
