import XCTest

@testable import VisionIO

/// EXIF orientations undone as Pillow's `ImageOps.exif_transpose` does, on a 3×2 image whose pixels are
/// a b c / d e f (each pixel's three channels hold its letter's index).
final class ExifOrientationTests: XCTestCase {
    private let image = Image(width: 3, height: 2, pixels: (0..<6).flatMap { [UInt8($0), UInt8($0), UInt8($0)] })

    /// The rows of `image.applying(orientation)` as letters.
    private func rows(_ orientation: ExifOrientation) -> [String] {
        let out = image.applying(orientation)
        return (0..<out.height).map { y in
            String((0..<out.width).map { x in Character(UnicodeScalar(UInt8(ascii: "a") + out[x, y].r)) })
        }
    }

    /// Pillow's transpose for each tag: 2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE,
    /// 6 ROTATE_270 (clockwise), 7 TRANSVERSE, 8 ROTATE_90 (counter-clockwise).
    func testEachOrientationAsPillowTransposesIt() {
        XCTAssertEqual(rows(.up), ["abc", "def"])
        XCTAssertEqual(rows(.upMirrored), ["cba", "fed"])
        XCTAssertEqual(rows(.down), ["fed", "cba"])
        XCTAssertEqual(rows(.downMirrored), ["def", "abc"])
        XCTAssertEqual(rows(.leftMirrored), ["ad", "be", "cf"])
        XCTAssertEqual(rows(.right), ["da", "eb", "fc"])
        XCTAssertEqual(rows(.rightMirrored), ["fc", "eb", "da"])
        XCTAssertEqual(rows(.left), ["cf", "be", "ad"])
    }

    /// The EXIF tag values 1…8 name the cases in order.
    func testTagValues() {
        XCTAssertEqual(ExifOrientation(rawValue: 1), .up)
        XCTAssertEqual(ExifOrientation(rawValue: 6), .right)
        XCTAssertEqual(ExifOrientation(rawValue: 8), .left)
        XCTAssertNil(ExifOrientation(rawValue: 0))
        XCTAssertNil(ExifOrientation(rawValue: 9))
    }

    /// Undoing a clockwise turn four times, or a mirror twice, gives the image back.
    func testTurnsAndMirrorsCompose() {
        var turned = image
        for _ in 0..<4 { turned = turned.applying(.right) }
        XCTAssertEqual(turned, image)
        XCTAssertEqual(image.applying(.upMirrored).applying(.upMirrored), image)
        XCTAssertEqual(image.applying(.leftMirrored).applying(.leftMirrored), image)
    }
}
