import Randomness
import XCTest

@testable import VisionIO

final class RandomResizedCropTests: XCTestCase {
    func testCropsStayInsideAndFollowScaleAndRatio() {
        let crop = RandomResizedCrop(size: 32)
        var rng = RandomGenerator(seed: 7)
        var areas = [Double]()
        for _ in 0..<2000 {
            let p = crop.parameters(imageWidth: 500, imageHeight: 375, using: &rng)
            XCTAssertGreaterThanOrEqual(p.top, 0)
            XCTAssertGreaterThanOrEqual(p.left, 0)
            XCTAssertLessThanOrEqual(p.top + p.height, 375)
            XCTAssertLessThanOrEqual(p.left + p.width, 500)
            let ratio = Double(p.width) / Double(p.height)
            XCTAssertTrue(ratio > 0.70 && ratio < 1.40, "ratio \(ratio)")  // 3/4...4/3 up to integer rounding
            areas.append(Double(p.width * p.height) / (500 * 375))
        }
        XCTAssertLessThan(areas.min() ?? 1, 0.12)
        XCTAssertGreaterThan(areas.max() ?? 0, 0.9)
    }

    /// torchvision's fallback: a whole-image central crop clamped to the ratio range.
    func testFallbackIsCentralCrop() {
        let crop = RandomResizedCrop(width: 8, height: 8, scale: 2.0...3.0)  // never satisfiable
        var rng = RandomGenerator(seed: 1)
        let p = crop.parameters(imageWidth: 100, imageHeight: 20, using: &rng)
        XCTAssertEqual(p.height, 20)
        XCTAssertEqual(p.width, 27)  // round(20 * 4/3) = 27
        XCTAssertEqual(p.left, (100 - 27) / 2)
        XCTAssertEqual(p.top, 0)
    }

    func testDeterministicUnderSeed() {
        let image = Image(width: 40, height: 30, pixels: (0..<3600).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let crop = RandomResizedCrop(size: 16, filter: .bicubic)
        var a = RandomGenerator(seed: 99)
        var b = RandomGenerator(seed: 99)
        var c = RandomGenerator(seed: 100)
        let first = crop(image, using: &a)
        XCTAssertEqual(first, crop(image, using: &b))
        XCTAssertEqual(first.width, 16)
        XCTAssertNotEqual(first, crop(image, using: &c))
    }

    func testFlipTwiceIsIdentity() {
        let image = Image(width: 5, height: 3, pixels: (0..<45).map { UInt8($0) })
        XCTAssertEqual(image.flippedHorizontally()[0, 1].r, image[4, 1].r)
        XCTAssertEqual(image.flippedHorizontally().flippedHorizontally(), image)
        XCTAssertEqual(image.flippedVertically()[2, 0].g, image[2, 2].g)
    }
}
