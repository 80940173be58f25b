import Randomness
import XCTest

@testable import VisionIO

/// torchvision's ColorJitter: factors drawn in their ranges, and the float-HSV hue rotation.
final class ColorJitterTests: XCTestCase {
    private let image = Fixtures.noiseImage

    func testColorJitterIdentityAtZeroAndHueRoundTrip() {
        var rng = RandomGenerator(seed: 2)
        XCTAssertEqual(ColorJitter(brightness: 0, contrast: 0, saturation: 0, hue: 0)(image, using: &rng), image)
        let shifted = image.adjustingHue(0.25).adjustingHue(-0.25)
        let maxDiff = zip(shifted.pixels, image.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(maxDiff, 2)
        XCTAssertNotEqual(image.adjustingHue(0.25), image)
        // Pure red shifted by a third of a turn is pure green.
        XCTAssertEqual(Image(width: 1, height: 1, pixels: [255, 0, 0]).adjustingHue(1.0 / 3).pixels, [0, 255, 0])
    }

    /// Hue rotations of saturated and unsaturated colours, worked out by hand in HSV: red (h 0) by ±1/3 is green or
    /// blue, by 1/6 yellow, by 1/2 cyan; (200, 100, 100) (s 0.5) by 1/2 is (100, 200, 200). Grays have no hue.
    func testHueRotationKnownColours() {
        func shifted(_ rgb: [UInt8], _ shift: Double) -> [UInt8] {
            Image(width: 1, height: 1, pixels: rgb).adjustingHue(shift).pixels
        }
        XCTAssertEqual(shifted([255, 0, 0], -1.0 / 3), [0, 0, 255])
        XCTAssertEqual(shifted([255, 0, 0], 1.0 / 6), [255, 255, 0])
        XCTAssertEqual(shifted([255, 0, 0], 0.5), [0, 255, 255])
        XCTAssertEqual(shifted([200, 100, 100], 0.5), [100, 200, 200])
        XCTAssertEqual(shifted([0, 0, 255], 1.0 / 3), [255, 0, 0])
        XCTAssertEqual(shifted([90, 90, 90], 0.25), [90, 90, 90])
    }

    /// Brightness alone scales a gray by a factor in [1 − b, 1 + b]: 100 stays within [50, 150] for b = 0.5,
    /// and the factors drawn cover the range (some darker, some brighter).
    func testBrightnessFactorStaysInItsRange() {
        var rng = RandomGenerator(seed: 8)
        let gray = Image(width: 2, height: 2, fill: (100, 100, 100))
        let jitter = ColorJitter(brightness: 0.5, contrast: 0, saturation: 0, hue: 0)
        let levels = (0..<200).map { _ in jitter(gray, using: &rng).pixels[0] }
        XCTAssertTrue(levels.allSatisfy { (50...150).contains($0) }, "\(levels.min()!)…\(levels.max()!)")
        XCTAssertLessThan(levels.min()!, 70)
        XCTAssertGreaterThan(levels.max()!, 130)
    }

    /// The same seed gives the same jitter; the default jitter changes a noise image.
    func testDeterministicUnderSeed() {
        var a = RandomGenerator(seed: 9)
        var b = RandomGenerator(seed: 9)
        let jitter = ColorJitter(hue: 0.1)
        let first = jitter(image, using: &a)
        XCTAssertEqual(first, jitter(image, using: &b))
        XCTAssertNotEqual(first, image)
    }
}
