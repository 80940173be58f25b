import Foundation
import XCTest
import ZooTestSupport

@testable import Weights

final class PyTorchCheckpointTests: XCTestCase {
    private func fixture(_ name: String) -> URL { fixturesDirectory.appendingPathComponent(name) }

    // MARK: Files written by torch.save (Fixtures/make_fixtures.py, torch 2.15)

    /// `small_state_dict()` in make_fixtures.py, spelled out: `base = arange(24) / 8 - 1`.
    private func assertSmallStateDict(_ dict: StateDict, file: StaticString = #filePath, line: UInt = #line) {
        let base = (0..<24).map { Float($0) / 8 - 1 }
        XCTAssertEqual(
            dict.keys,
            [
                "conv.weight", "fc.weight_t", "slice", "half", "bf16", "double",
                "bn.num_batches_tracked", "empty", "param",
            ], file: file, line: line)
        XCTAssertEqual(dict["conv.weight"], WeightTensor(shape: [2, 3, 2, 2], values: base), file: file, line: line)
        // arange(6).reshape(2, 3).t(): strides (1, 3) in its storage, row-major [[0, 3], [1, 4], [2, 5]].
        XCTAssertEqual(
            dict["fc.weight_t"], WeightTensor(shape: [3, 2], values: [0, 3, 1, 4, 2, 5]), file: file, line: line)
        XCTAssertEqual(dict["slice"], WeightTensor(shape: [4], values: Array(base[5..<9])), file: file, line: line)
        XCTAssertEqual(dict["half"], WeightTensor(shape: [3], values: [0.5, -2, 65504]), file: file, line: line)
        XCTAssertEqual(dict["bf16"], WeightTensor(shape: [3], values: [1, -3.5, 0.15625]), file: file, line: line)
        XCTAssertEqual(dict["double"], WeightTensor(shape: [2, 1], values: [1.25, -0.5]), file: file, line: line)
        XCTAssertEqual(dict["bn.num_batches_tracked"], WeightTensor(shape: [], values: [7]), file: file, line: line)
        XCTAssertEqual(dict["empty"], WeightTensor(shape: [0, 3], values: []), file: file, line: line)
        XCTAssertEqual(dict["param"], WeightTensor(shape: [2], values: [3, 4]), file: file, line: line)
    }

    func testZipCheckpoint() throws {
        assertSmallStateDict(try loadPyTorchCheckpoint(fixture("small_zip.pth")))
    }

    func testZipCheckpointWithPickleProtocol4() throws {
        assertSmallStateDict(try loadPyTorchCheckpoint(fixture("small_zip_protocol4.pth")))
    }

    func testZipCheckpointMissingAStorage() throws {
        let url = fixture("missing_storage.pth")
        XCTAssertThrowsWeightsError(.missingStorage(path: url.path, key: "0"), try loadPyTorchCheckpoint(url))
    }

    func testLegacyCheckpoint() throws {
        assertSmallStateDict(try loadPyTorchCheckpoint(fixture("small_legacy.pth")))
    }

    func testTrainingCheckpointIsUnwrappedToModelWeights() throws {
        // {"model": {w, b}, "optimizer": {...tensors...}, "epoch": 3, "note": str}: only the model's tensors.
        let dict = try loadPyTorchCheckpoint(fixture("mae_style.pth"))
        XCTAssertEqual(dict.keys, ["w", "b"])
        XCTAssertEqual(dict["w"], WeightTensor(shape: [2], values: [1, 2]))
        XCTAssertEqual(dict["b"], WeightTensor(shape: [1], values: [0.5]))
    }

    func testPickleCallingOSSystemIsRefusedAndNothingRuns() throws {
        let marker = "/tmp/weights-fixture-pwned"
        try? FileManager.default.removeItem(atPath: marker)
        let url = fixture("os_system.pth")
        // CPython pickles os.system as posix.system on Linux.
        XCTAssertThrowsWeightsError(
            .forbiddenPickleGlobal(path: url.path, module: "posix", name: "system"),
            try loadPyTorchCheckpoint(url))
        XCTAssertThrowsWeightsError(
            .forbiddenPickleGlobal(path: url.path, module: "posix", name: "system"), try loadWeights(url))
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    }

    // MARK: The real default-model weights

    func testRealEfficientNetLite0Weights() throws {
        let weights = try Fixtures.efficientNetLite0Weights()
        let dict = try loadWeights(weights)
        // Reference values: torch.load(path, weights_only=True) with torch 2.15; the file is legacy-format
        // and most conv weights are stored channels-last (strided), e.g. _conv_stem.weight strides (1, 32, 288, 96).
        XCTAssertEqual(dict.count, 296)
        XCTAssertEqual(dict.keys.first, "_conv_stem.weight")
        XCTAssertEqual(dict.keys.last, "_fc.bias")
        XCTAssertEqual(dict.keys.firstIndex(of: "_fc.weight"), 294)
        XCTAssertEqual(dict.keys.filter { $0.hasSuffix("num_batches_tracked") }.count, 49)
        XCTAssertEqual(dict.reduce(0) { $0 + $1.tensor.elementCount }, 4_694_073)

        let stem = try XCTUnwrap(dict["_conv_stem.weight"])
        XCTAssertEqual(stem.shape, [32, 3, 3, 3])
        XCTAssertEqual(Array(stem.values.prefix(3)), [-1.1103360652923584, -1.3087704181671143, -0.010156914591789246])
        XCTAssertEqual(stem.values[((5 * 3 + 1) * 3 + 2) * 3 + 0], 0.06300771236419678)  // [5, 1, 2, 0]
        XCTAssertEqual(stem.values.last, 2.2351741790771484e-08)

        let depthwise = try XCTUnwrap(dict["_blocks.0._depthwise_conv.weight"])
        XCTAssertEqual(depthwise.shape, [32, 1, 3, 3])
        XCTAssertEqual(
            Array(depthwise.values.prefix(3)), [-0.16969285905361176, 0.2102574110031128, -0.03239037096500397])

        let project = try XCTUnwrap(dict["_blocks.15._project_conv.weight"])
        XCTAssertEqual(project.shape, [320, 1152, 1, 1])
        XCTAssertEqual(project.values[100 * 1152 + 7], -0.025674358010292053)
        XCTAssertEqual(project.values[191 * 1152 + 1151], -0.047256652265787125)

        let fc = try XCTUnwrap(dict["_fc.weight"])
        XCTAssertEqual(fc.shape, [1000, 1280])
        XCTAssertEqual(fc.values[1 * 1280 + 2], -0.04489930346608162)
        XCTAssertEqual(fc.values[999 * 1280 + 1279], 0.04085797071456909)
        XCTAssertEqual(
            Array(try XCTUnwrap(dict["_fc.bias"]).values.prefix(3)),
            [0.032053910195827484, -0.01598576083779335, 0.005290735047310591])
        XCTAssertEqual(
            Array(try XCTUnwrap(dict["_bn0.running_mean"]).values.prefix(3)),
            [-0.001974928192794323, 1.1308561563491821, -0.508353590965271])
        XCTAssertEqual(dict["_bn1.num_batches_tracked"], WeightTensor(shape: [], values: [0]))
    }

    // MARK: Hand-made legacy files (layout in PickleWriter.swift)

    private func handMadeFile(_ bytes: [UInt8]) throws -> URL {
        let url = try makeTemporaryDirectory(self).appendingPathComponent("hand.pth")
        try write(bytes, to: url)
        return url
    }

    private func oneTensorPickle(
        offset: Int = 0, shape: [Int] = [2, 2], strides: [Int] = [2, 1], key: String = "0"
    ) -> [UInt8] {
        PickleWriter.stateDict { writer in
            writer.string("w")
            writer.tensor(key: key, numel: 4, offset: offset, shape: shape, strides: strides)
        }
    }

    func testHandMadeLegacyFileLoads() throws {
        let url = try handMadeFile(
            legacyTorchFile(
                main: oneTensorPickle(offset: 1, shape: [2], strides: [2]),
                storages: [("0", 4, littleEndianBytes([10, 11, 12, 13]))]))
        XCTAssertEqual(try loadWeights(url), StateDict([("w", WeightTensor(shape: [2], values: [11, 13]))]))
    }

    func testTensorReachingPastItsStorage() throws {
        // Offset 1 + (2-1)*2 + (2-1)*1 = element 4 of a 4-element storage.
        let url = try handMadeFile(
            legacyTorchFile(
                main: oneTensorPickle(offset: 1),
                storages: [("0", 4, littleEndianBytes([1, 2, 3, 4]))]))
        XCTAssertThrowsWeightsError(
            .offsetOutOfRange(path: url.path, key: "w", begin: 4, end: 20, limit: 16),
            try loadPyTorchCheckpoint(url))
    }

    func testLegacyStorageLongerThanFile() throws {
        var bytes = legacyTorchFile(main: oneTensorPickle(), storages: [("0", 1000, littleEndianBytes([1, 2, 3, 4]))])
        let url = try handMadeFile(bytes)
        XCTAssertThrowsWeightsError(
            .truncated(path: url.path, needed: bytes.count - 16 + 4000, available: bytes.count),
            try loadPyTorchCheckpoint(url))
        bytes.removeLast(20)  // cut into the element count
        let cut = try handMadeFile(bytes)
        XCTAssertThrowsWeightsError(try loadPyTorchCheckpoint(cut)) {
            if case .truncated(path: cut.path, _, _) = $0 { return true }
            return false
        }
    }

    func testLegacyStorageNeverListed() throws {
        let url = try handMadeFile(legacyTorchFile(main: oneTensorPickle(key: "9"), storages: []))
        XCTAssertThrowsWeightsError(.missingStorage(path: url.path, key: "9"), try loadPyTorchCheckpoint(url))
    }

    func testCheckpointThatIsNotADict() throws {
        var writer = PickleWriter()
        writer.emptyList()
        writer.stop()
        let url = try handMadeFile(legacyTorchFile(main: writer.bytes, storages: []))
        XCTAssertThrowsWeightsError(try loadPyTorchCheckpoint(url)) {
            if case .malformedPickle(path: url.path, _, _) = $0 { return true }
            return false
        }
    }

    // MARK: Format detection

    func testLoadWeightsDispatchesOnContentNotExtension() throws {
        let directory = try makeTemporaryDirectory(self)
        let safetensors = directory.appendingPathComponent("really-safetensors.pth")
        try saveSafetensors(StateDict([("w", WeightTensor(shape: [1], values: [2]))]), to: safetensors)
        XCTAssertEqual(try loadWeights(safetensors)["w"], WeightTensor(shape: [1], values: [2]))
        XCTAssertThrowsWeightsError(.unrecognizedFormat(path: safetensors.path), try loadPyTorchCheckpoint(safetensors))

        // A header of 128 bytes makes the file start with 0x80, the pickle PROTO opcode.
        let header = #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        let padded = header + String(repeating: " ", count: 128 - header.utf8.count)
        let startsLikeAPickle = directory.appendingPathComponent("header128.safetensors")
        try write(safetensorsBytes(header: padded, data: littleEndianBytes([5])), to: startsLikeAPickle)
        XCTAssertEqual(try loadWeights(startsLikeAPickle)["w"], WeightTensor(shape: [1], values: [5]))

        let zip = directory.appendingPathComponent("zip.safetensors")
        try FileManager.default.copyItem(at: fixture("small_zip.pth"), to: zip)
        XCTAssertEqual(try loadWeights(zip).count, 9)

        let text = directory.appendingPathComponent("notes.txt")
        try write(Array("hello, not weights".utf8), to: text)
        XCTAssertThrowsWeightsError(.unrecognizedFormat(path: text.path), try loadWeights(text))
    }

    func testCorruptZipIsATypedError() throws {
        var bytes = [UInt8](try Data(contentsOf: fixture("small_zip.pth")))
        bytes.removeLast(200)  // loses the central directory
        let url = try handMadeFile(bytes)
        XCTAssertThrowsWeightsError(try loadWeights(url)) {
            if case .unreadable(path: url.path, _) = $0 { return true }
            return false
        }
    }
}
