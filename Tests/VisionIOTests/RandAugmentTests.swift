import Randomness
import XCTest

@testable import VisionIO

/// timm's RandAugment: the config string, determinism under a seed, each op and its level mapping.
final class RandAugmentTests: XCTestCase {
    private let image = Fixtures.noiseImage

    func testRandAugmentConfigParsingAndDeterminism() throws {
        let augment = try XCTUnwrap(RandAugment(config: "rand-m9-mstd0.5"))
        XCTAssertEqual(augment.magnitude, 9)
        XCTAssertEqual(augment.magnitudeStd, 0.5)
        XCTAssertEqual(augment.numLayers, 2)
        XCTAssertEqual(RandAugment(config: "rand-m7-n3-mstd1-p0.8")?.numLayers, 3)
        XCTAssertNil(RandAugment(config: "augmix-m5"))
        var a = RandomGenerator(seed: 5)
        var b = RandomGenerator(seed: 5)
        var changed = 0
        for _ in 0..<50 {
            let x = augment(image, using: &a)
            XCTAssertEqual(x, augment(image, using: &b))
            XCTAssertEqual(x.width, 32)
            if x != image { changed += 1 }
        }
        XCTAssertGreaterThan(changed, 20)  // two ops at p = 0.5: ~75% of images change
    }

    func testEveryRandAugmentOpRunsAtEveryLevel() {
        var rng = RandomGenerator(seed: 1)
        for op in RandAugment.Op.allCases {
            for level in [0.0, 5, 10] {
                XCTAssertEqual(
                    RandAugment().apply(op, level: level, to: image, using: &rng).pixels.count, image.pixels.count)
            }
        }
        // Level 10 posterize keeps 4 bits; solarize at 10 (threshold 256) changes nothing.
        XCTAssertTrue(
            RandAugment().apply(.posterize, level: 10, to: image, using: &rng).pixels.allSatisfy { $0 & 0x0F == 0 })
        XCTAssertEqual(RandAugment().apply(.solarize, level: 10, to: image, using: &rng), image)
    }

    /// Config parts as timm reads them: mmax, inc (ignored) and p; an unknown part or another prefix is refused.
    func testConfigVariants() throws {
        let augment = try XCTUnwrap(RandAugment(config: "rand-m5-mmax8-inc1-p0.3"))
        XCTAssertEqual(augment.magnitude, 5)
        XCTAssertEqual(augment.magnitudeMax, 8)
        XCTAssertEqual(augment.probability, 0.3)
        XCTAssertEqual(augment.numLayers, 2)
        XCTAssertEqual(augment.magnitudeStd, 0.5)
        XCTAssertEqual(RandAugment(config: "rand")?.magnitude, 9)
        XCTAssertNil(RandAugment(config: "rand-m9-x3"))
        XCTAssertNil(RandAugment(config: "rand-mfive"))
        XCTAssertNil(RandAugment(config: "randaug-m9"))
    }

    /// Invert is 255 − x; solarize at level 0 (threshold 0) inverts everything; posterize at level 0 keeps no bits
    /// (PIL's ImageOps.posterize with 0 bits), at level 10 four.
    func testOpsAtTheirExtremeLevels() {
        var rng = RandomGenerator(seed: 4)
        let inverted = image.pixels.map { 255 - $0 }
        XCTAssertEqual(RandAugment().apply(.invert, level: 3, to: image, using: &rng).pixels, inverted)
        XCTAssertEqual(RandAugment().apply(.solarize, level: 0, to: image, using: &rng).pixels, inverted)
        XCTAssertTrue(RandAugment().apply(.posterize, level: 0, to: image, using: &rng).pixels.allSatisfy { $0 == 0 })
        XCTAssertEqual(
            RandAugment().apply(.posterize, level: 10, to: image, using: &rng).pixels, image.pixels.map { $0 & 0xF0 })
    }

    /// The drawn magnitude is clipped to [0, magnitudeMax]: 20 acts as 10 (solarize threshold 256: no change),
    /// −5 as 0 (threshold 0: everything inverted).
    func testMagnitudeIsClippedToItsRange() {
        var rng = RandomGenerator(seed: 6)
        let high = RandAugment(ops: [.solarize], numLayers: 1, magnitude: 20, magnitudeStd: 0, probability: 1)
        XCTAssertEqual(high(image, using: &rng), image)
        let low = RandAugment(ops: [.solarize], numLayers: 1, magnitude: -5, magnitudeStd: 0, probability: 1)
        XCTAssertEqual(low(image, using: &rng).pixels, image.pixels.map { 255 - $0 })
    }

    /// No layers, no ops or probability 0: the image comes back unchanged.
    func testNothingToApplyLeavesTheImage() {
        var rng = RandomGenerator(seed: 7)
        for _ in 0..<20 {
            XCTAssertEqual(RandAugment(numLayers: 0)(image, using: &rng), image)
            XCTAssertEqual(RandAugment(ops: [])(image, using: &rng), image)
            XCTAssertEqual(RandAugment(probability: 0)(image, using: &rng), image)
        }
    }
}
