import Foundation
import XCTest

@testable import Weights

final class SafetensorsTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory(self)
    }

    private func file(_ bytes: [UInt8], name: String = "test.safetensors") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try write(bytes, to: url)
        return url
    }

    // MARK: Reading what others wrote

    func testReadsF32F16BF16AndIntegersWithMetadataSkipped() throws {
        // F16 0x3c00 = 1.0, 0xc000 = -2.0, 0x7bff = 65504 (largest half); BF16 0x3fc0 = 1.5, 0xc0a0 = -5.0.
        let f32 = littleEndianBytes([0.25, -1.5])
        let f16: [UInt8] = [0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b]
        let bf16: [UInt8] = [0xc0, 0x3f, 0xa0, 0xc0]
        let i64: [UInt8] = [0x07, 0, 0, 0, 0, 0, 0, 0]
        let header = """
            {"__metadata__":{"format":"pt"},\
            "a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},\
            "h":{"dtype":"F16","shape":[3,1],"data_offsets":[8,14]},\
            "b":{"dtype":"BF16","shape":[2],"data_offsets":[14,18]},\
            "n":{"dtype":"I64","shape":[],"data_offsets":[18,26]}}
            """
        let dict = try loadSafetensors(try file(safetensorsBytes(header: header, data: f32 + f16 + bf16 + i64)))
        XCTAssertEqual(dict.keys, ["a", "h", "b", "n"])  // data order
        XCTAssertEqual(dict["a"], WeightTensor(shape: [2], values: [0.25, -1.5]))
        XCTAssertEqual(dict["h"], WeightTensor(shape: [3, 1], values: [1, -2, 65504]))
        XCTAssertEqual(dict["b"], WeightTensor(shape: [2], values: [1.5, -5]))
        XCTAssertEqual(dict["n"], WeightTensor(shape: [], values: [7]))
        XCTAssertNil(dict["__metadata__"])
        XCTAssertEqual(dict.metadata, ["format": "pt"])
    }

    func testEmptyTensorAndUnalignedOffsets() throws {
        // One leading pad byte puts the F32 data at an odd address.
        let header =
            #"{"e":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]},"x":{"dtype":"F32","shape":[1],"data_offsets":[1,5]}}"#
        let dict = try loadSafetensors(
            try file(safetensorsBytes(header: header, data: [0xaa] + littleEndianBytes([3.5]))))
        XCTAssertEqual(dict["e"], WeightTensor(shape: [0, 4], values: []))
        XCTAssertEqual(dict["x"], WeightTensor(shape: [1], values: [3.5]))
    }

    // MARK: Writing

    func testRoundTripKeepsOrderValuesAndMetadata() throws {
        var dict = StateDict()
        dict["z.last_alphabetically"] = WeightTensor(shape: [2, 3], values: [1, -2, 3.25, .infinity, -0.0, 1e-30])
        dict["a\"quoted\\key\n"] = WeightTensor(shape: [], values: [42])
        dict["empty"] = WeightTensor(shape: [0], values: [])
        let url = directory.appendingPathComponent("round.safetensors")
        try saveSafetensors(dict, to: url, metadata: ["format": "pt", "note": "ünïcode \"q\""])
        var expected = dict
        expected.metadata = ["format": "pt", "note": "ünïcode \"q\""]
        XCTAssertEqual(try loadSafetensors(url), expected)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: directory.path), ["round.safetensors"],
            "the temporary file is renamed, not left behind")
    }

    func testWrittenHeaderIsPaddedLikeTheReference() throws {
        var dict = StateDict()
        dict["w"] = WeightTensor(shape: [1], values: [1])
        let url = directory.appendingPathComponent("pad.safetensors")
        try saveSafetensors(dict, to: url)
        let bytes = [UInt8](try Data(contentsOf: url))
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        // {"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} is 54 bytes; padded with 2 spaces to 56.
        XCTAssertEqual(headerLength, 56)
        XCTAssertEqual(Array(bytes[(8 + 54)..<(8 + 56)]), [0x20, 0x20])
        XCTAssertEqual(bytes.count, 8 + 56 + 4)
    }

    func testSaveOverwritesAtomicallyAndReportsUnwritableDirectory() throws {
        let url = directory.appendingPathComponent("w.safetensors")
        try saveSafetensors(StateDict([("a", WeightTensor(shape: [1], values: [1]))]), to: url)
        try saveSafetensors(StateDict([("b", WeightTensor(shape: [1], values: [2]))]), to: url)
        XCTAssertEqual(try loadSafetensors(url).keys, ["b"])
        let reserved = StateDict([("__metadata__", WeightTensor(shape: [1], values: [1]))])
        XCTAssertThrowsWeightsError(try saveSafetensors(reserved, to: url)) {
            if case .unwritable(path: url.path, _) = $0 { return true }
            return false
        }
        XCTAssertEqual(try loadSafetensors(url).keys, ["b"], "a refused save leaves the old file")
        let missing = directory.appendingPathComponent("no/such/dir/w.safetensors")
        XCTAssertThrowsWeightsError(try saveSafetensors(StateDict(), to: missing)) {
            if case .unwritable(path: missing.path, _) = $0 { return true }
            return false
        }
    }

    // MARK: Hostile files

    private let oneTensorHeader = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#

    func testTruncatedFiles() throws {
        let whole = safetensorsBytes(header: oneTensorHeader, data: littleEndianBytes([1, 2]))
        let tooShortForLength = try file(Array(whole.prefix(5)), name: "a.safetensors")
        XCTAssertThrowsWeightsError(
            .truncated(path: tooShortForLength.path, needed: 8, available: 5),
            try loadSafetensors(tooShortForLength))
        let cutInHeader = try file(Array(whole.prefix(30)), name: "b.safetensors")
        XCTAssertThrowsWeightsError(
            .truncated(path: cutInHeader.path, needed: 8 + oneTensorHeader.utf8.count, available: 30),
            try loadSafetensors(cutInHeader))
        let cutInData = try file(Array(whole.dropLast(3)), name: "c.safetensors")
        XCTAssertThrowsWeightsError(
            .offsetOutOfRange(path: cutInData.path, key: "w", begin: 0, end: 8, limit: 5),
            try loadSafetensors(cutInData))
        let empty = try file([], name: "d.safetensors")
        XCTAssertThrowsWeightsError(.truncated(path: empty.path, needed: 8, available: 0), try loadSafetensors(empty))
    }

    func testHeaderLengthBeyondFileOrCap() throws {
        let beyond = try file(
            safetensorsBytes(header: oneTensorHeader, data: littleEndianBytes([1, 2]), declaredHeaderLength: 1 << 20))
        XCTAssertThrowsWeightsError(
            .truncated(path: beyond.path, needed: 8 + (1 << 20), available: 8 + oneTensorHeader.utf8.count + 8),
            try loadSafetensors(beyond))
        let huge = try file(safetensorsBytes(header: oneTensorHeader, data: [], declaredHeaderLength: UInt64.max))
        XCTAssertThrowsWeightsError(try loadSafetensors(huge)) {
            if case .invalidHeader(path: huge.path, _) = $0 { return true }
            return false
        }
    }

    func testHeaderThatIsNotJSONOrHasWrongFields() throws {
        let cases = [
            "not json at all",
            "{\"w\": {\"dtype\": \"F32\"",  // cut JSON
            "[1, 2, 3]",
            #"{"w":{"shape":[2],"data_offsets":[0,8]}}"#,  // missing dtype
            #"{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#,
            #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#,
            #"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#,
            #"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#,  // numel overflows
            // metadata must be strings
            #"{"__metadata__":{"n":1},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
        ]
        for (index, header) in cases.enumerated() {
            let url = try file(
                safetensorsBytes(header: header, data: littleEndianBytes([1, 2])), name: "h\(index).safetensors")
            XCTAssertThrowsWeightsError(try loadSafetensors(url)) {
                if case .invalidHeader(path: url.path, let reason) = $0 { return !reason.isEmpty }
                XCTFail("header \(header): \($0)")
                return false
            }
        }
    }

    func testOffsetsOutOfRangeOrReversed() throws {
        let past = try file(
            safetensorsBytes(
                header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#,
                data: littleEndianBytes([1, 2])), name: "past.safetensors")
        XCTAssertThrowsWeightsError(
            .offsetOutOfRange(path: past.path, key: "w", begin: 8, end: 16, limit: 8), try loadSafetensors(past))
        let reversed = try file(
            safetensorsBytes(
                header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#,
                data: littleEndianBytes([1, 2])), name: "rev.safetensors")
        XCTAssertThrowsWeightsError(
            .offsetOutOfRange(path: reversed.path, key: "w", begin: 8, end: 0, limit: 8),
            try loadSafetensors(reversed))
        let negative = try file(
            safetensorsBytes(
                header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#,
                data: littleEndianBytes([1, 2])), name: "neg.safetensors")
        XCTAssertThrowsWeightsError(
            .offsetOutOfRange(path: negative.path, key: "w", begin: -8, end: 0, limit: 8),
            try loadSafetensors(negative))
    }

    func testOverlappingTensors() throws {
        let header =
            #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        let url = try file(safetensorsBytes(header: header, data: littleEndianBytes([1, 2, 3])))
        XCTAssertThrowsWeightsError(.overlappingData(path: url.path, key: "b", otherKey: "a"), try loadSafetensors(url))
    }

    func testSizeNotMatchingShapeTimesDType() throws {
        let url = try file(
            safetensorsBytes(
                header: #"{"w":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}}"#,
                data: littleEndianBytes([1, 2])))
        XCTAssertThrowsWeightsError(
            .sizeMismatch(path: url.path, key: "w", expectedBytes: 6, actualBytes: 8), try loadSafetensors(url))
    }

    func testUnknownDType() throws {
        let url = try file(
            safetensorsBytes(
                header: #"{"w":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}"#,
                data: littleEndianBytes([1, 2])))
        XCTAssertThrowsWeightsError(
            .unsupportedDType(path: url.path, key: "w", dtype: "F8_E4M3"), try loadSafetensors(url))
    }

    func testMissingFileAndDirectory() {
        let missing = directory.appendingPathComponent("absent.safetensors")
        XCTAssertThrowsWeightsError(try loadSafetensors(missing)) {
            if case .unreadable(path: missing.path, _) = $0 { return true }
            return false
        }
        XCTAssertThrowsWeightsError(
            .unreadable(path: directory.path, reason: "not a regular file"), try loadSafetensors(directory))
    }

    func testErrorDescriptionsAreOneLineAndNameTheCulprit() throws {
        let url = try file(
            safetensorsBytes(
                header: #"{"w":{"dtype":"F16","shape":[3],"data_offsets":[0,8]}}"#,
                data: littleEndianBytes([1, 2])))
        do {
            _ = try loadSafetensors(url)
            XCTFail("expected an error")
        } catch {
            let text = "\(error)"
            XCTAssertTrue(text.contains(url.path) && text.contains("'w'"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
    }
}
