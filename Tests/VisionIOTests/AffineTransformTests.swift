import XCTest

@testable import VisionIO

/// Affine warps are close to Pillow's bilinear `transform`, not bit-exact: check that honestly.
final class AffineTransformTests: XCTestCase {
    func testCloseToPillowBilinear() throws {
        let source = Image(width: 37, height: 29, pixels: try Fixtures.bytes("resize", "source.rgb"))
        let fill: (UInt8, UInt8, UInt8) = (124, 116, 104)
        let cases: [(String, Image)] = [
            ("rotate_30.rgb", source.rotated(degrees: 30, fill: fill)),
            ("shearx_0.2.rgb", source.affineTransformed([1, 0.2, 0, 0, 1, 0], fill: fill)),
            ("translatey_-6.5.rgb", source.affineTransformed([1, 0, 0, 0, 1, -6.5], fill: fill)),
        ]
        for (name, result) in cases {
            let expected = try Fixtures.bytes("augment", name)
            let diffs = zip(result.pixels, expected).map { abs(Int($0) - Int($1)) }
            let mean = Double(diffs.reduce(0, +)) / Double(diffs.count)
            let within2 = Double(diffs.filter { $0 <= 2 }.count) / Double(diffs.count)
            print("\(name): mean |diff| \(mean), share within 2: \(within2)")
            XCTAssertLessThan(mean, 1, name)
            XCTAssertGreaterThan(within2, 0.99, name)
        }
    }

    func testIdentityAndFullTurn() {
        let image = Image(width: 6, height: 4, pixels: (0..<72).map { UInt8($0 * 3) })
        XCTAssertEqual(image.affineTransformed([1, 0, 0, 0, 1, 0]), image)
        XCTAssertEqual(image.rotated(degrees: 360), image)
    }
}
