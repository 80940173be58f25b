import XCTest

@testable import Weights

/// The unpickler on hand-made programs: what it accepts, and that everything else is a typed error.
final class RestrictedUnpicklerTests: XCTestCase {
    private func unpickle(_ bytes: [UInt8]) throws -> (RestrictedUnpickler, PickleValue) {
        try bytes.withUnsafeBytes { raw in
            let unpickler = RestrictedUnpickler(raw, path: "test.pkl")
            return (unpickler, try unpickler.load())
        }
    }

    func testBuildsDictOfScalarsWithMemo() throws {
        var writer = PickleWriter()
        writer.emptyDict()
        writer.op("q")
        writer.op(0)  // BINPUT 0
        writer.mark()
        writer.string("epoch")
        writer.int(300)
        writer.string("negative")
        writer.int(-5)
        writer.string("flag")
        writer.bool(true)
        writer.string("self")
        writer.op("h")
        writer.op(0)  // BINGET 0: the dict itself (a cycle)
        writer.setItems()
        writer.stop()
        let (unpickler, value) = try unpickle(writer.bytes)
        guard case .dict(let id) = value else { return XCTFail("expected a dict, got \(value)") }
        let dict = unpickler.dicts[id]
        XCTAssertEqual(dict.keys.count, 4)
        guard case .int(300)? = dict.value(forKey: "epoch"), case .int(-5)? = dict.value(forKey: "negative"),
            case .bool(true)? = dict.value(forKey: "flag"), case .dict(id)? = dict.value(forKey: "self")
        else {
            return XCTFail("unexpected values \(dict.values)")
        }
    }

    func testLong1AndBinFloat() throws {
        // LONG1 with 2 bytes 0x00 0xff = -256; BINFLOAT is big-endian: 0x3ff8… = 1.5.
        let bytes: [UInt8] = [
            0x80, 0x02, 0x28, 0x8a, 0x02, 0x00, 0xff,
            0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x74, 0x2e,
        ]
        let (unpickler, value) = try unpickle(bytes)
        guard case .tuple(let id) = value, unpickler.tuples[id].count == 2,
            case .int(-256) = unpickler.tuples[id][0], case .float(1.5) = unpickler.tuples[id][1]
        else {
            return XCTFail("unexpected \(value)")
        }
    }

    func testTensorReferenceKeepsOffsetShapeAndStrides() throws {
        let bytes = PickleWriter.stateDict { writer in
            writer.string("w")
            writer.tensor(storageType: "HalfStorage", key: "7", numel: 12, offset: 2, shape: [2, 3], strides: [1, 2])
        }
        let (unpickler, _) = try unpickle(bytes)
        XCTAssertEqual(unpickler.tensors.count, 1)
        let tensor = unpickler.tensors[0]
        XCTAssertEqual(tensor.offset, 2)
        XCTAssertEqual(tensor.shape, [2, 3])
        XCTAssertEqual(tensor.strides, [1, 2])
        XCTAssertEqual(unpickler.storages[tensor.storage].key, "7")
        XCTAssertEqual(unpickler.storages[tensor.storage].type, .float16)
    }

    // MARK: Rejections

    func testForbiddenGlobalsAreRejectedWhenNamed() {
        for (module, name) in [
            ("os", "system"), ("posix", "system"), ("builtins", "eval"), ("builtins", "exec"),
            ("subprocess", "Popen"), ("torch", "load"), ("torch._utils", "_rebuild_qtensor"),
        ] {
            var writer = PickleWriter()
            writer.global(module, name)
            writer.stop()
            XCTAssertThrowsWeightsError(
                .forbiddenPickleGlobal(path: "test.pkl", module: module, name: name),
                try unpickle(writer.bytes))
        }
    }

    func testForbiddenGlobalThroughStackGlobal() {
        var writer = PickleWriter()
        writer.string("builtins")
        writer.string("eval")
        writer.op(0x93)  // STACK_GLOBAL
        writer.stop()
        XCTAssertThrowsWeightsError(
            .forbiddenPickleGlobal(path: "test.pkl", module: "builtins", name: "eval"),
            try unpickle(writer.bytes))
    }

    func testOpcodesThatCanInstantiateArbitraryObjectsAreRejected() {
        // INST 'i', OBJ 'o', NEWOBJ 0x81, NEWOBJ_EX 0x92, EXT1 0x82, PERSID 'P' (text), BUILD-less exotic ones.
        for opcode: UInt8 in [
            0x69, 0x6f, 0x81, 0x92, 0x82, 0x50, 0x46, 0x49, 0x4c, 0x53, 0x56, 0x8f, 0x90, 0x96, 0x97, 0x98,
        ] {
            let bytes: [UInt8] = [0x80, 0x02, 0x29, opcode, 0x2e]  // EMPTY_TUPLE, <opcode>, STOP
            XCTAssertThrowsWeightsError(
                .forbiddenPickleOpcode(path: "test.pkl", opcode: opcode, offset: 3),
                try unpickle(bytes))
        }
    }

    func testAllowedGlobalCalledWrongIsMalformed() {
        var writer = PickleWriter()
        writer.global("torch", "FloatStorage")
        writer.emptyTuple()
        writer.reduce()  // a storage type is not callable
        writer.stop()
        XCTAssertThrowsWeightsError(try unpickle(writer.bytes)) {
            if case .malformedPickle(path: "test.pkl", _, _) = $0 { return true }
            return false
        }
    }

    func testStructuralErrorsAreMalformedNotCrashes() {
        let programs: [(String, [UInt8])] = [
            ("empty", []),
            ("no STOP", [0x80, 0x02, 0x7d]),
            ("pop from empty stack", [0x80, 0x02, 0x2e]),
            ("SETITEM on a list", [0x80, 0x02, 0x5d, 0x4b, 0x01, 0x4b, 0x02, 0x73, 0x2e]),
            ("APPEND to a dict", [0x80, 0x02, 0x7d, 0x4b, 0x01, 0x61, 0x2e]),
            ("TUPLE without MARK", [0x80, 0x02, 0x4b, 0x01, 0x74, 0x2e]),
            ("TUPLE2 with one item", [0x80, 0x02, 0x4b, 0x01, 0x86, 0x2e]),
            ("unset memo", [0x80, 0x02, 0x68, 0x05, 0x2e]),
            ("string longer than pickle", [0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x61, 0x2e]),
            ("BINUNICODE8 of 2^63", [0x80, 0x02, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x2e]),
            ("invalid UTF-8", [0x80, 0x02, 0x8c, 0x02, 0xff, 0xfe, 0x2e]),
            ("unterminated GLOBAL", [0x80, 0x02, 0x63, 0x6f, 0x73]),
            ("REDUCE on a string", [0x80, 0x02, 0x8c, 0x01, 0x61, 0x29, 0x52, 0x2e]),
            ("persistent id that is not a storage", [0x80, 0x02, 0x29, 0x51, 0x2e]),
            ("protocol 9", [0x80, 0x09, 0x4e, 0x2e]),
        ]
        for (name, bytes) in programs {
            XCTAssertThrowsWeightsError(try unpickle(bytes)) {
                if case .malformedPickle = $0 { return true }
                XCTFail("\(name): \($0)")
                return false
            }
        }
    }

    func testTensorWithNegativeStrideOrMismatchedRankIsMalformed() {
        for (shape, strides) in [([2, 2], [2, -1]), ([2, 2], [1]), ([-1], [1])] {
            let bytes = PickleWriter.stateDict { writer in
                writer.string("w")
                writer.tensor(key: "0", numel: 4, shape: shape, strides: strides)
            }
            XCTAssertThrowsWeightsError(try unpickle(bytes)) {
                if case .malformedPickle = $0 { return true }
                return false
            }
        }
    }

    func testDeepNestingDoesNotOverflowTheStack() throws {
        // A million nested 1-tuples: a recursive value representation would crash on build or release.
        let depth = 1_000_000
        let bytes: [UInt8] = [0x80, 0x02, 0x4e] + [UInt8](repeating: 0x85, count: depth) + [0x2e]
        let (unpickler, value) = try unpickle(bytes)
        guard case .tuple(let outermost) = value else { return XCTFail("expected a tuple") }
        XCTAssertEqual(outermost, depth - 1)
        XCTAssertEqual(unpickler.tuples.count, depth)
    }
}
