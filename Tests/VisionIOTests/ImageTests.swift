import XCTest

@testable import VisionIO

/// The RGB image: interleaved HWC bytes, pixel (x, y) at (y · width + x) · 3.
final class ImageTests: XCTestCase {
    func testFillAndPixelAddressing() {
        let filled = Image(width: 3, height: 2, fill: (1, 2, 3))
        XCTAssertEqual(filled.pixels, Array([[UInt8]](repeating: [1, 2, 3], count: 6).joined()))
        XCTAssertEqual(Image(width: 2, height: 2).pixels, [UInt8](repeating: 0, count: 12))

        // Pixel (x, y) has red 10·y + x, green 100 + it, blue 200 + it.
        var pixels: [UInt8] = []
        for y in 0..<2 {
            for x in 0..<3 {
                let red = UInt8(10 * y + x)
                pixels += [red, 100 + red, 200 + red]
            }
        }
        let image = Image(width: 3, height: 2, pixels: pixels)
        XCTAssertTrue(image[2, 0] == (2, 102, 202))
        XCTAssertTrue(image[0, 1] == (10, 110, 210))
        XCTAssertTrue(image[2, 1] == (12, 112, 212))
        XCTAssertEqual(Image.channels, 3)
    }

    func testEqualityIsByPixels() {
        let a = Image(width: 1, height: 1, fill: (5, 5, 5))
        var b = a
        XCTAssertEqual(a, b)
        b.pixels[2] = 6
        XCTAssertNotEqual(a, b)
        XCTAssertNotEqual(Image(width: 1, height: 2), Image(width: 2, height: 1))
    }
}
