import Foundation
import Randomness
import XCTest

@testable import VisionIO

final class ImageDecodingTests: XCTestCase {
    /// Every PNG layout bit-exact, every JPEG within 1 of Pillow's `convert("RGB")`.
    func testDecodesLikePillow() throws {
        let manifest = try Fixtures.manifest()
        let entries = try XCTUnwrap(manifest["codecs"] as? [[String: Any]])
        XCTAssertGreaterThan(entries.count, 40)
        for entry in entries {
            let file = try XCTUnwrap(entry["file"] as? String)
            let transpose = try XCTUnwrap(entry["exif_transpose"] as? Bool)
            let expected = try Fixtures.bytes("codecs", XCTUnwrap(entry["reference"] as? String))
            let image = try Image(contentsOf: Fixtures.url("codecs", file), applyExifOrientation: transpose)
            XCTAssertEqual(image.width, entry["width"] as? Int, file)
            XCTAssertEqual(image.height, entry["height"] as? Int, file)
            XCTAssertEqual(image.pixels.count, expected.count, file)
            guard image.pixels.count == expected.count else { continue }
            let maxDiff = zip(image.pixels, expected).map { abs(Int($0) - Int($1)) }.max() ?? 0
            let tolerance = (entry["kind"] as? String) == "png" ? 0 : 1
            XCTAssertLessThanOrEqual(maxDiff, tolerance, "\(file) (exif_transpose \(transpose))")
        }
    }

    func testSamplePhotosDecodeToExpectedSizes() throws {
        let samples = try Fixtures.samplesDirectory()
        let expected = [
            "chelsea.png": (451, 300), "camera.png": (512, 512), "horse.png": (400, 328),
            "grace_hopper.jpg": (512, 600), "rocket.jpg": (640, 427),
        ]
        for (name, size) in expected {
            let image = try Image(contentsOf: samples.appendingPathComponent(name))
            XCTAssertEqual(image.width, size.0, name)
            XCTAssertEqual(image.height, size.1, name)
        }
    }

    func testNotAnImageIsUnsupported() {
        XCTAssertThrowsError(try Image(bytes: Array("hello, world".utf8), path: "x.txt")) { error in
            guard case ImageDecodeError.unsupportedFormat(let path, _)? = error as? ImageDecodeError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(path, "x.txt")
        }
    }

    func testMissingFileIsUnreadable() {
        XCTAssertThrowsError(try Image(contentsOf: URL(fileURLWithPath: "/nonexistent/a.png"))) { error in
            guard case ImageDecodeError.unreadable? = error as? ImageDecodeError else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("/nonexistent/a.png"))
        }
    }

    func testTruncatedFilesThrowTruncated() throws {
        for name in ["rgb8.png", "baseline.jpg", "progressive.jpg", "rgba16_interlaced.png"] {
            let bytes = try Fixtures.bytes("codecs", name)
            let cut = Array(bytes.prefix(bytes.count * 2 / 3))
            XCTAssertThrowsError(try Image(bytes: cut, path: name)) { error in
                guard case ImageDecodeError.truncated(let path, _)? = error as? ImageDecodeError else {
                    return XCTFail("\(name): expected truncated, got \(error)")
                }
                XCTAssertEqual(path, name)
            }
        }
    }

    /// The guard reads the header only: a 30000x30000 PNG header with no pixel data must be refused.
    func testDecompressionBombIsRefusedFromHeader() throws {
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var ihdr: [UInt8] = Array("IHDR".utf8)
        for v in [UInt32(30000), UInt32(30000)] { ihdr += withUnsafeBytes(of: v.bigEndian, Array.init) }
        ihdr += [8, 2, 0, 0, 0]
        png += withUnsafeBytes(of: UInt32(13).bigEndian, Array.init) + ihdr
        png += withUnsafeBytes(of: crc32(ihdr).bigEndian, Array.init)
        // An empty IDAT: png_read_info stops at the first IDAT, so the header is complete.
        png += [0, 0, 0, 0] + Array("IDAT".utf8) + withUnsafeBytes(of: crc32(Array("IDAT".utf8)).bigEndian, Array.init)
        XCTAssertThrowsError(try Image(bytes: png, path: "bomb.png")) { error in
            XCTAssertEqual(
                error as? ImageDecodeError,
                .tooLarge(path: "bomb.png", pixels: 900_000_000, limit: Image.defaultMaxPixels))
        }
        // A configurable limit applies to real files too (13x7 = 91 pixels).
        let small = try Fixtures.bytes("codecs", "rgb8.png")
        XCTAssertThrowsError(try Image(bytes: small, path: "rgb8.png", maxPixels: 90))
        XCTAssertNoThrow(try Image(bytes: small, path: "rgb8.png", maxPixels: 91))
        let jpeg = try Fixtures.bytes("codecs", "baseline.jpg")
        XCTAssertThrowsError(try Image(bytes: jpeg, maxPixels: 40 * 48 - 1)) { error in
            guard case ImageDecodeError.tooLarge(_, 1920, _)? = error as? ImageDecodeError else {
                return XCTFail("\(error)")
            }
        }
    }

    /// Thousands of mutated and truncated files: each must decode or throw a typed error, never crash or hang.
    func testFuzzedInputsNeverCrash() throws {
        let seeds = try [
            "baseline.jpg", "progressive.jpg", "cmyk.jpg", "grayscale.jpg", "exif6.jpg", "rgb8.png",
            "palette4_trns.png", "rgba16_interlaced.png", "gray2.png", "graya16.png",
        ]
        .map { try Fixtures.bytes("codecs", $0) }
        var rng = RandomGenerator(seed: 42)
        var outcomes = [String: Int]()
        let start = Date()
        for iteration in 0..<6000 {
            var bytes = seeds[iteration % seeds.count]
            switch rng.next() % 4 {
            case 0:  // truncate
                bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
            case 1:  // flip a few random bytes (past the signature so both decoders get exercised)
                for _ in 0..<(1 + Int(rng.next() % 8)) where bytes.count > 8 {
                    bytes[8 + Int(rng.next() % UInt64(bytes.count - 8))] = UInt8(truncatingIfNeeded: rng.next())
                }
            case 2:  // overwrite a run with random data
                let at = Int(rng.next() % UInt64(bytes.count))
                let length = min(bytes.count - at, Int(rng.next() % 64))
                for i in at..<(at + length) { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
            default:  // duplicate or delete a slice
                let at = Int(rng.next() % UInt64(bytes.count))
                let length = min(bytes.count - at, Int(rng.next() % 128))
                if rng.next() % 2 == 0 {
                    bytes.insert(contentsOf: bytes[at..<(at + length)], at: at)
                } else {
                    bytes.removeSubrange(at..<(at + length))
                }
            }
            do {
                let image = try Image(bytes: bytes, path: "fuzz", maxPixels: 1 << 20)
                XCTAssertEqual(image.pixels.count, image.width * image.height * 3)
                outcomes["ok", default: 0] += 1
            } catch let error as ImageDecodeError {
                outcomes[String("\(error)".split(separator: "(")[0]), default: 0] += 1
            } catch {
                XCTFail("untyped error \(error)")
            }
        }
        print("fuzz outcomes:", outcomes.sorted { $0.key < $1.key }, "in", Date().timeIntervalSince(start), "s")
        XCTAssertGreaterThan(outcomes["ok"] ?? 0, 0)
        XCTAssertGreaterThan(outcomes.count, 2)
    }

    private func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
