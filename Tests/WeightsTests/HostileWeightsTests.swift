import Foundation
import Randomness
import Tensors
import XCTest

@testable import Weights

/// Weight files that are hostile by size rather than by syntax: what they make the reader allocate is
/// bounded by what they hold.
final class HostileWeightsTests: XCTestCase {
    private func legacyFile(_ main: [UInt8], storageFloats: Int) throws -> URL {
        let url = try makeTemporaryDirectory(self).appendingPathComponent("hostile.pth")
        let bytes = littleEndianBytes([Float](repeating: 1, count: storageFloats))
        try write(legacyTorchFile(main: main, storages: [("0", Int64(storageFloats), bytes)]), to: url)
        return url
    }

    /// A 100000×100000 view with stride 0 over a 4-element storage: 40 GB from a few hundred bytes.
    func testStrideZeroViewLargerThanItsStorageIsRefused() throws {
        let main = PickleWriter.stateDict { w in
            w.string("w")
            w.tensor(key: "0", numel: 4, shape: [100_000, 100_000], strides: [0, 0])
        }
        let url = try legacyFile(main, storageFloats: 4)
        XCTAssertThrowsWeightsError(try loadWeights(url)) { error in
            "\(error)".contains("'w' has 10000000000 elements but its storage holds 4")
        }
    }

    /// Shared nested dicts, 30 wide and 7 deep, name 30⁷ ≈ 2·10¹⁰ entries in 3 KB ("billion laughs").
    func testSharedNestedDictsAreCapped() throws {
        var w = PickleWriter()
        w.tensor(key: "0", numel: 1, shape: [1], strides: [1])
        w.put(0)
        for level in 1...7 {
            w.emptyDict()
            w.mark()
            for i in 0..<30 {
                w.string("k\(i)")
                w.get(UInt8(level - 1))
            }
            w.setItems()
            w.put(UInt8(level))
        }
        w.stop()
        let url = try legacyFile(w.bytes, storageFloats: 1)
        let start = Date()
        XCTAssertThrowsWeightsError(try loadWeights(url)) { "\($0)".contains("nested dicts name more than") }
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    /// 3,000 keys naming one tensor decode it once; every key shares the same values.
    func testKeysNamingOneTensorShareItsValues() throws {
        var w = PickleWriter()
        w.global("collections", "OrderedDict")
        w.emptyTuple()
        w.reduce()
        w.mark()
        w.string("key0")
        w.tensor(key: "0", numel: 100_000, shape: [100_000], strides: [1])
        w.put(0)
        for i in 1..<3000 {
            w.string("key\(i)")
            w.get(0)
        }
        w.setItems()
        w.stop()
        let dict = try loadWeights(try legacyFile(w.bytes, storageFloats: 100_000))
        XCTAssertEqual(dict.count, 3000)
        let addresses = Set(
            (0..<3000).map { i in
                dict["key\(i)"]!.values.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
            })
        XCTAssertEqual(addresses.count, 1, "each key got its own copy")
    }

    /// A zip cut in half has no end-of-central-directory record: refused from its last 64 KB, not its whole length.
    func testTruncatedZipIsRefusedFromItsTail() throws {
        var bytes = [UInt8](try Data(contentsOf: fixturesDirectory.appendingPathComponent("small_zip.pth")))
        bytes += [UInt8](repeating: 0, count: 32 << 20)  // a big archive …
        bytes.removeLast(bytes.count / 2)  // … cut in half
        let url = try makeTemporaryDirectory(self).appendingPathComponent("cut.pth")
        try write(bytes, to: url)
        let start = Date()
        XCTAssertThrowsWeightsError(try loadWeights(url)) { "\($0)".contains("truncated zip archive") }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    /// Thousands of mutants of real .pth (zip and legacy) and safetensors files: each loads or throws a
    /// WeightsError, never crashes, hangs or allocates more than a small multiple of its size.
    func testFuzzedWeightFilesNeverCrash() throws {
        let seeds =
            try ["small_zip.pth", "small_legacy.pth", "small_zip_protocol4.pth", "mae_style.pth"]
            .map { [UInt8](try Data(contentsOf: fixturesDirectory.appendingPathComponent($0))) }
            + [
                safetensorsBytes(
                    header:
                        #"{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},"__metadata__":{"k":"v"}}"#,
                    data: littleEndianBytes([1, 2, 3, 4]) + [0, 60, 0, 64, 0, 66])
            ]
        let directory = try makeTemporaryDirectory(self)
        let interesting: [UInt64] = [
            0, 1, 0x7F, 0xFF, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF_FFFF_FFFF, UInt64.max,
        ]
        var rng = RandomGenerator(seed: 42)  // the same mutants on every run
        func next() -> UInt64 { rng.next() }
        var outcomes = [String: Int]()
        for iteration in 0..<3000 {
            var bytes = seeds[iteration % seeds.count]
            let at = Int(next() % UInt64(bytes.count))
            switch next() % 4 {
            case 0: bytes = Array(bytes.prefix(at))
            case 1:
                for _ in 0..<(1 + Int(next() % 8)) {
                    bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next())
                }
            case 2:  // a size-like value where one may be read
                let value = interesting[Int(next() % UInt64(interesting.count))]
                let width = min([1, 2, 4, 8][Int(next() % 4)], bytes.count - at)
                for k in 0..<width { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
            default:
                let length = min(bytes.count - at, Int(next() % 64))
                if next() % 2 == 0 {
                    bytes.insert(contentsOf: bytes[at..<(at + length)], at: at)
                } else {
                    bytes.removeSubrange(at..<(at + length))
                }
            }
            let url = directory.appendingPathComponent("mutant\(iteration % 8)")
            try write(bytes, to: url)
            do {
                let dict = try loadWeights(url)
                // Keys may share one tensor's values: count each buffer once.
                var buffers = [Int: Int]()
                for (_, tensor) in dict {
                    tensor.values.withUnsafeBufferPointer { buffers[Int(bitPattern: $0.baseAddress)] = $0.count }
                }
                let floats = buffers.values.reduce(0, +)
                XCTAssertLessThanOrEqual(
                    floats, 8 * bytes.count + 1024, "mutant \(iteration) allocates beyond its size")
                outcomes["ok", default: 0] += 1
            } catch let error as WeightsError {
                outcomes[String("\(error)".split(separator: ":").dropFirst().first ?? "?"), default: 0] += 1
            } catch {
                XCTFail("mutant \(iteration): untyped error \(error)")
            }
        }
        XCTAssertGreaterThan(outcomes["ok"] ?? 0, 0)
        XCTAssertGreaterThan(outcomes.count, 3)
    }
}
