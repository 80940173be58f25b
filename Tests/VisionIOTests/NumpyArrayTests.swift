import Foundation
import XCTest

@testable import VisionIO

final class NumpyArrayTests: XCTestCase {
    func testRoundTrip() throws {
        let array = FloatArray(shape: [2, 3, 1], values: [1, -2.5, 3, .infinity, 0, 1e-30])
        let bytes = NumpyArray.encode(array)
        XCTAssertEqual((bytes.count - array.values.count * 4) % 64, 0, "header padded to 64 bytes")
        XCTAssertEqual(try NumpyArray.decode(bytes), array)
        let vector = FloatArray(shape: [3], values: [1, 2, 3])
        XCTAssertTrue(String(decoding: NumpyArray.encode(vector).prefix(80), as: UTF8.self).contains("(3,)"))
        XCTAssertEqual(try NumpyArray.decode(NumpyArray.encode(vector)), vector)
    }

    /// Written by numpy (np.save) in make_fixtures.py.
    func testReadsNumpyWrittenFile() throws {
        let entries = try XCTUnwrap(try Fixtures.manifest()["preprocess"] as? [[String: Any]])
        let array = try NumpyArray.read(
            contentsOf: Fixtures.url("preprocess", XCTUnwrap(entries[0]["tensor"] as? String)))
        XCTAssertEqual(array.shape, [3, 224, 224])
        XCTAssertTrue(array.values.allSatisfy { $0.isFinite && abs($0) < 5 })
    }

    func testRejectsBadFiles() {
        XCTAssertThrowsError(try NumpyArray.decode(Array("not numpy at all".utf8), path: "a.npy")) {
            XCTAssertEqual($0 as? NumpyError, .badMagic(path: "a.npy"))
        }
        var bytes = NumpyArray.encode(FloatArray(shape: [4], values: [1, 2, 3, 4]))
        XCTAssertThrowsError(try NumpyArray.decode(Array(bytes.dropLast(2)), path: "b.npy")) {
            guard case NumpyError.sizeMismatch? = $0 as? NumpyError else { return XCTFail("\($0)") }
        }
        let header = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(header.contains("'<f4'"))
        if let range = bytes.firstRange(of: Array("<f4".utf8)) { bytes.replaceSubrange(range, with: Array("<f8".utf8)) }
        XCTAssertThrowsError(try NumpyArray.decode(bytes, path: "c.npy")) {
            XCTAssertEqual($0 as? NumpyError, .unsupportedDType(path: "c.npy", dtype: "<f8"))
        }
    }
}
