import Foundation
import XCTest

@testable import VisionIO

final class ResizeTests: XCTestCase {
    /// Every filter, up- and down-scaling, with and without a box: bit-exact with Pillow's uint8 output.
    func testMatchesPillowResizeExactly() throws {
        let manifest = try Fixtures.manifest()
        let spec = try XCTUnwrap(manifest["resize"] as? [String: Any])
        let source = Image(
            width: try XCTUnwrap(spec["width"] as? Int), height: try XCTUnwrap(spec["height"] as? Int),
            pixels: try Fixtures.bytes("resize", XCTUnwrap(spec["source"] as? String)))
        let cases = try XCTUnwrap(spec["cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 50)
        for entry in cases {
            let filter = try XCTUnwrap(ResampleFilter(rawValue: XCTUnwrap(entry["filter"] as? String)))
            let width = try XCTUnwrap(entry["width"] as? Int)
            let height = try XCTUnwrap(entry["height"] as? Int)
            var box: ResizeBox?
            if let b = entry["box"] as? [Int] {
                box = ResizeBox(x0: Float(b[0]), y0: Float(b[1]), x1: Float(b[2]), y1: Float(b[3]))
            }
            let name = try XCTUnwrap(entry["reference"] as? String)
            let expected = try Fixtures.bytes("resize", name)
            let result = source.resized(width: width, height: height, filter: filter, box: box)
            XCTAssertEqual(result.width, width, name)
            XCTAssertEqual(result.height, height, name)
            let mismatches = zip(result.pixels, expected).filter { $0 != $1 }.count
            XCTAssertEqual(mismatches, 0, name)
        }
    }

    func testIdentityResizeIsACopy() {
        let image = Image(width: 5, height: 4, pixels: (0..<60).map { UInt8($0) })
        for filter in ResampleFilter.allCases {
            XCTAssertEqual(image.resized(width: 5, height: 4, filter: filter), image)
        }
    }
}
