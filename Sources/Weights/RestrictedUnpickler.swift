// A pickle reader for PyTorch state dicts that cannot execute anything.
//
// A pickle is a program for a stack machine; Python's unpickler runs it and imports and calls any
// global it names, which is how a `.pth` file can run `os.system`. This machine implements only the
// opcodes a state dict uses, resolves only an allowlist of globals to built-in Swift behaviour
// (never a lookup by name), and rejects everything else before it is used.

/// A value on the unpickler's stack. Containers live in the unpickler's arenas and are referred to by
/// index, so hostile nesting (a million TUPLE1s) cannot make deep recursive structures.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// A LONG wider than 64 bits, as little-endian two's-complement bytes (e.g. the legacy torch magic).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(Int)
    case list(Int)
    case dict(Int)
    case global(PickleGlobal)
    case storage(Int)
    case tensor(Int)
}

/// The only globals a state dict may name, each mapped to fixed Swift behaviour.
enum PickleGlobal: Equatable {
    case orderedDict
    case rebuildTensor, rebuildTensorV2, rebuildParameter, rebuildParameterWithState, rebuildFromTypeV2
    /// `torch.Tensor` / `torch.nn.Parameter`: only ever an argument of `_rebuild_from_type_v2`.
    case tensorClass
    case storageType(ElementType)

    init?(module: String, name: String) {
        switch (module, name) {
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("torch._utils", "_rebuild_tensor"): self = .rebuildTensor
        case ("torch._utils", "_rebuild_tensor_v2"): self = .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): self = .rebuildParameter
        case ("torch._utils", "_rebuild_parameter_with_state"): self = .rebuildParameterWithState
        case ("torch._tensor", "_rebuild_from_type_v2"): self = .rebuildFromTypeV2
        case ("torch", "Tensor"), ("torch.nn.parameter", "Parameter"): self = .tensorClass
        case ("torch", _):
            guard let type = ElementType(torchStorageName: name) else { return nil }
            self = .storageType(type)
        default: return nil
        }
    }
}

/// An ordered dict; `index` finds string and int keys (all a state dict uses) in O(1).
struct PickleDict {
    enum IndexKey: Hashable {
        case string(String)
        case int(Int)
    }
    var keys: [PickleValue] = []
    var values: [PickleValue] = []
    var index: [IndexKey: Int] = [:]

    mutating func set(_ key: PickleValue, _ value: PickleValue) {
        let indexKey: IndexKey?
        switch key {
        case .string(let string): indexKey = .string(string)
        case .int(let int): indexKey = .int(int)
        default: indexKey = nil
        }
        if let indexKey, let position = index[indexKey] {
            values[position] = value
            return
        }
        if let indexKey { index[indexKey] = keys.count }
        keys.append(key)
        values.append(value)
    }

    func value(forKey key: String) -> PickleValue? {
        index[.string(key)].map { values[$0] }
    }
}

/// A persistent id `('storage', storage_type, key, location, numel[, view_metadata])`: the bytes live
/// outside the pickle (zip entry `data/<key>`, or after the pickle in a legacy file).
struct StorageReference {
    var key: String
    var type: ElementType
    /// Element offset of a legacy storage view into its root storage (0 otherwise).
    var viewOffset: Int
}

/// `_rebuild_tensor_v2(storage, storage_offset, size, stride, …)`, offsets and strides in elements.
struct TensorReference: Hashable {
    var storage: Int
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}

final class RestrictedUnpickler {
    private let bytes: UnsafeRawBufferPointer
    private let path: String
    private(set) var position: Int

    private(set) var tuples: [[PickleValue]] = []
    private(set) var lists: [[PickleValue]] = []
    private(set) var dicts: [PickleDict] = []
    private(set) var storages: [StorageReference] = []
    private(set) var tensors: [TensorReference] = []
    private var storageIndex: [String: Int] = [:]

    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private var opcodeOffset = 0
    /// Every value the pickle makes is made by one opcode, so this caps the objects it can create.
    private var opcodesLeft = RestrictedUnpickler.maxOpcodes
    /// A large state dict (ViT-g, ~1,000 tensors) takes about 50,000 opcodes.
    static let maxOpcodes = 1 << 24

    /// Reads one pickle starting at `start`; after `load()`, `position` is just past its STOP.
    init(_ bytes: UnsafeRawBufferPointer, start: Int = 0, path: String) {
        self.bytes = bytes
        self.path = path
        self.position = start
    }

    func load() throws -> PickleValue {
        while true {
            opcodeOffset = position
            opcodesLeft -= 1
            guard opcodesLeft >= 0 else {
                throw malformed("more than \(Self.maxOpcodes) pickle operations; not a state dict")
            }
            let opcode = try readByte()
            if opcode == Opcode.stop {
                let result = try pop()
                stack.removeAll()
                marks.removeAll()
                return result
            }
            try execute(opcode)
        }
    }

    // MARK: Opcodes

    private enum Opcode {
        static let stop = UInt8(ascii: ".")
    }

    private func execute(_ opcode: UInt8) throws {
        switch opcode {
        case 0x80:  // PROTO
            let version = try readByte()
            guard version <= 5 else { throw malformed("unsupported pickle protocol \(version)") }
        case 0x95:  // FRAME: a length hint only
            _ = try readInteger(byteCount: 8)
        case UInt8(ascii: "("): marks.append(stack.count)  // MARK
        case UInt8(ascii: "0"): _ = try pop()  // POP
        case UInt8(ascii: "1"): _ = try popMark()  // POP_MARK
        case UInt8(ascii: "2"): stack.append(try top())  // DUP

        case UInt8(ascii: "N"): stack.append(.none)
        case 0x88: stack.append(.bool(true))  // NEWTRUE
        case 0x89: stack.append(.bool(false))  // NEWFALSE
        case UInt8(ascii: "J"):  // BININT
            stack.append(.int(Int(Int32(truncatingIfNeeded: try readInteger(byteCount: 4)))))
        case UInt8(ascii: "K"): stack.append(.int(Int(try readByte())))  // BININT1
        case UInt8(ascii: "M"): stack.append(.int(Int(try readInteger(byteCount: 2))))  // BININT2
        case 0x8a: stack.append(try readLong(lengthBytes: 1))  // LONG1
        case 0x8b: stack.append(try readLong(lengthBytes: 4))  // LONG4
        case UInt8(ascii: "G"):  // BINFLOAT: big-endian
            let bits = try readInteger(byteCount: 8)
            stack.append(.float(Double(bitPattern: UInt64(bits).byteSwapped)))

        case UInt8(ascii: "X"): stack.append(.string(try readString(lengthBytes: 4)))  // BINUNICODE
        case 0x8c: stack.append(.string(try readString(lengthBytes: 1)))  // SHORT_BINUNICODE
        case 0x8d: stack.append(.string(try readString(lengthBytes: 8)))  // BINUNICODE8
        case UInt8(ascii: "T"): stack.append(.string(try readString(lengthBytes: 4)))  // BINSTRING (Python 2 str)
        case UInt8(ascii: "U"): stack.append(.string(try readString(lengthBytes: 1)))  // SHORT_BINSTRING
        case UInt8(ascii: "B"): stack.append(.bytes(Array(try readCounted(lengthBytes: 4))))  // BINBYTES
        case UInt8(ascii: "C"): stack.append(.bytes(Array(try readCounted(lengthBytes: 1))))  // SHORT_BINBYTES
        case 0x8e: stack.append(.bytes(Array(try readCounted(lengthBytes: 8))))  // BINBYTES8

        case UInt8(ascii: ")"): stack.append(makeTuple([]))  // EMPTY_TUPLE
        case UInt8(ascii: "t"): stack.append(makeTuple(try popMark()))  // TUPLE
        case 0x85, 0x86, 0x87:  // TUPLE1, TUPLE2, TUPLE3
            let count = Int(opcode - 0x84)
            guard stack.count - (marks.last ?? 0) >= count else { throw malformed("stack underflow") }
            let items = Array(stack.suffix(count))
            stack.removeLast(count)
            stack.append(makeTuple(items))
        case UInt8(ascii: "]"): stack.append(makeList([]))  // EMPTY_LIST
        case UInt8(ascii: "l"): stack.append(makeList(try popMark()))  // LIST
        case UInt8(ascii: "}"): stack.append(makeDict())  // EMPTY_DICT
        case UInt8(ascii: "d"):  // DICT
            let items = try popMark()
            let dict = makeDict()
            try setItems(items, into: dict)
            stack.append(dict)

        case UInt8(ascii: "a"):  // APPEND
            let item = try pop()
            try appendItems([item], to: try top())
        case UInt8(ascii: "e"):  // APPENDS
            let items = try popMark()
            try appendItems(items, to: try top())
        case UInt8(ascii: "s"):  // SETITEM
            let value = try pop()
            let key = try pop()
            try setItems([key, value], into: try top())
        case UInt8(ascii: "u"):  // SETITEMS
            let items = try popMark()
            try setItems(items, into: try top())

        case UInt8(ascii: "q"): memo[Int(try readByte())] = try top()  // BINPUT
        case UInt8(ascii: "r"): memo[Int(try readInteger(byteCount: 4))] = try top()  // LONG_BINPUT
        case 0x94: memo[memo.count] = try top()  // MEMOIZE
        case UInt8(ascii: "h"): stack.append(try memoized(Int(try readByte())))  // BINGET
        case UInt8(ascii: "j"): stack.append(try memoized(Int(try readInteger(byteCount: 4))))  // LONG_BINGET

        case UInt8(ascii: "c"):  // GLOBAL "module\nname\n"
            let module = try readLine()
            let name = try readLine()
            stack.append(.global(try resolveGlobal(module: module, name: name)))
        case 0x93:  // STACK_GLOBAL
            let nameValue = try pop()
            let moduleValue = try pop()
            guard case .string(let module) = moduleValue, case .string(let name) = nameValue else {
                throw malformed("STACK_GLOBAL needs two strings")
            }
            stack.append(.global(try resolveGlobal(module: module, name: name)))
        case UInt8(ascii: "R"):  // REDUCE
            let arguments = try pop()
            let callable = try pop()
            stack.append(try call(callable, arguments))
        case UInt8(ascii: "b"):  // BUILD: state dicts only ever set attributes (`_metadata`), which we drop
            _ = try pop()
            switch try top() {
            case .dict, .tensor: break
            default: throw malformed("BUILD on a value that is not a dict or tensor")
            }
        case UInt8(ascii: "Q"):  // BINPERSID
            stack.append(try persistentLoad(try pop()))

        default:
            throw WeightsError.forbiddenPickleOpcode(path: path, opcode: opcode, offset: opcodeOffset)
        }
    }

    // MARK: Globals and calls

    private func resolveGlobal(module: String, name: String) throws -> PickleGlobal {
        guard let global = PickleGlobal(module: module, name: name) else {
            throw WeightsError.forbiddenPickleGlobal(path: path, module: module, name: name)
        }
        return global
    }

    private func call(_ callable: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
        guard case .global(let function) = callable else { throw malformed("REDUCE on a value that is not a global") }
        guard case .tuple(let argumentsID) = arguments else { throw malformed("REDUCE arguments are not a tuple") }
        let args = tuples[argumentsID]
        switch function {
        case .orderedDict:
            guard args.isEmpty else { throw malformed("OrderedDict called with arguments") }
            return makeDict()
        case .rebuildTensor, .rebuildTensorV2:
            return try rebuildTensor(args)
        case .rebuildParameter, .rebuildParameterWithState:
            guard let data = args.first, case .tensor = data else {
                throw malformed("_rebuild_parameter without a tensor")
            }
            return data
        case .rebuildFromTypeV2:  // (function, type, arguments, state)
            guard args.count >= 3, case .global(.tensorClass) = args[1] else {
                throw malformed("_rebuild_from_type_v2 for a type other than Tensor or Parameter")
            }
            return try call(args[0], args[2])
        case .tensorClass, .storageType:
            throw malformed("\(function) is not callable")
        }
    }

    private func rebuildTensor(_ args: [PickleValue]) throws -> PickleValue {
        guard args.count >= 4, case .storage(let storage) = args[0], case .int(let offset) = args[1] else {
            throw malformed("_rebuild_tensor_v2 needs (storage, offset, size, stride, …)")
        }
        let shape = try integers(args[2], what: "size")
        let strides = try integers(args[3], what: "stride")
        guard shape.count == strides.count, offset >= 0,
            shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 })
        else {
            throw malformed("tensor size \(shape) / stride \(strides) / offset \(offset) are inconsistent")
        }
        let (absoluteOffset, overflow) = storages[storage].viewOffset.addingReportingOverflow(offset)
        guard !overflow else { throw malformed("tensor offset \(offset) overflows") }
        tensors.append(TensorReference(storage: storage, offset: absoluteOffset, shape: shape, strides: strides))
        return .tensor(tensors.count - 1)
    }

    private func persistentLoad(_ id: PickleValue) throws -> PickleValue {
        guard case .tuple(let tupleID) = id else { throw malformed("persistent id is not a tuple") }
        let fields = tuples[tupleID]
        guard fields.count >= 5, case .string("storage") = fields[0],
            case .global(.storageType(let type)) = fields[1],
            case .string(let key) = fields[2], case .int = fields[4]
        else {
            throw malformed("persistent id is not ('storage', type, key, location, numel)")
        }
        var viewOffset = 0
        if fields.count >= 6, case .tuple(let viewID) = fields[5] {  // legacy view: (view_key, offset, size)
            guard tuples[viewID].count == 3, case .int(let offset) = tuples[viewID][1], offset >= 0 else {
                throw malformed("storage view metadata is not (key, offset, size)")
            }
            viewOffset = offset
        }
        let lookup = "\(key)@\(viewOffset)"
        if let existing = storageIndex[lookup] {
            guard storages[existing].type == type else { throw malformed("storage '\(key)' used with two dtypes") }
            return .storage(existing)
        }
        storages.append(StorageReference(key: key, type: type, viewOffset: viewOffset))
        storageIndex[lookup] = storages.count - 1
        return .storage(storages.count - 1)
    }

    private func integers(_ value: PickleValue, what: String) throws -> [Int] {
        guard case .tuple(let id) = value else { throw malformed("tensor \(what) is not a tuple") }
        return try tuples[id].map { item in
            guard case .int(let int) = item else { throw malformed("tensor \(what) holds a non-integer") }
            return int
        }
    }

    // MARK: Containers

    private func makeTuple(_ items: [PickleValue]) -> PickleValue {
        tuples.append(items)
        return .tuple(tuples.count - 1)
    }

    private func makeList(_ items: [PickleValue]) -> PickleValue {
        lists.append(items)
        return .list(lists.count - 1)
    }

    private func makeDict() -> PickleValue {
        dicts.append(PickleDict())
        return .dict(dicts.count - 1)
    }

    private func appendItems(_ items: [PickleValue], to target: PickleValue) throws {
        guard case .list(let id) = target else { throw malformed("APPEND to a value that is not a list") }
        lists[id].append(contentsOf: items)
    }

    private func setItems(_ items: [PickleValue], into target: PickleValue) throws {
        guard case .dict(let id) = target else { throw malformed("SETITEM on a value that is not a dict") }
        guard items.count % 2 == 0 else { throw malformed("SETITEMS with an odd number of items") }
        for pair in stride(from: 0, to: items.count, by: 2) {
            dicts[id].set(items[pair], items[pair + 1])
        }
    }

    // MARK: Stack

    private func pop() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.popLast() else { throw malformed("stack underflow") }
        return value
    }

    private func top() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else { throw malformed("stack underflow") }
        return value
    }

    /// Pops everything above the most recent MARK, and the mark itself.
    private func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw malformed("no MARK on the stack") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private func memoized(_ index: Int) throws -> PickleValue {
        guard let value = memo[index] else { throw malformed("memo entry \(index) is not set") }
        return value
    }

    // MARK: Reading bytes

    private func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw malformed("unexpected end of pickle") }
        defer { position += 1 }
        return bytes[position]
    }

    /// Little-endian unsigned integer of 1…8 bytes.
    private func readInteger(byteCount: Int) throws -> UInt64 {
        let raw = try readCounted(exactly: byteCount)
        var value: UInt64 = 0
        for (shift, byte) in raw.enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        return value
    }

    private func readCounted(exactly count: Int) throws -> UnsafeRawBufferPointer.SubSequence {
        guard count >= 0, count <= bytes.count - position else { throw malformed("unexpected end of pickle") }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    /// A length prefix of `lengthBytes` bytes, then that many bytes.
    private func readCounted(lengthBytes: Int) throws -> UnsafeRawBufferPointer.SubSequence {
        let length = try readInteger(byteCount: lengthBytes)
        guard length <= UInt64(bytes.count - position) else {
            throw malformed("length \(length) runs past the end of the pickle")
        }
        return try readCounted(exactly: Int(length))
    }

    private func readString(lengthBytes: Int) throws -> String {
        let raw = try readCounted(lengthBytes: lengthBytes)
        guard let string = String(validating: raw, as: UTF8.self) else { throw malformed("string is not UTF-8") }
        return string
    }

    private func readLine() throws -> String {
        var end = position
        while end < bytes.count, bytes[end] != UInt8(ascii: "\n") { end += 1 }
        guard end < bytes.count else { throw malformed("unterminated GLOBAL name") }
        let raw = bytes[position..<end]
        position = end + 1
        guard let line = String(validating: raw, as: UTF8.self) else { throw malformed("GLOBAL name is not UTF-8") }
        return line
    }

    /// Two's-complement little-endian integer of a counted length.
    private func readLong(lengthBytes: Int) throws -> PickleValue {
        let raw = Array(try readCounted(lengthBytes: lengthBytes))
        guard raw.count <= 8 else { return .bigInt(raw) }
        guard let last = raw.last else { return .int(0) }
        var value: UInt64 = last & 0x80 != 0 ? ~0 : 0  // sign-extend
        for (shift, byte) in raw.enumerated() {
            value &= ~(UInt64(0xff) << (8 * UInt64(shift)))
            value |= UInt64(byte) << (8 * UInt64(shift))
        }
        return .int(Int(Int64(bitPattern: value)))
    }

    private func malformed(_ reason: String) -> WeightsError {
        .malformedPickle(path: path, offset: opcodeOffset, reason: reason)
    }
}
