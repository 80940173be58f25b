import Randomness
import XCTest

@testable import VisionIO

final class AugmentationTests: XCTestCase {
    private let image: Image = {
        var rng = RandomGenerator(seed: 3)
        return Image(
            width: 32, height: 24, pixels: (0..<(32 * 24 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
    }()

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

    func testRandomErasingErasesOneRectangle() {
        var rng = RandomGenerator(seed: 9)
        let erasing = RandomErasing(probability: 1)
        var values = [Float](repeating: 7, count: 3 * 20 * 30)
        erasing.apply(to: &values, height: 20, width: 30, using: &rng)
        let erased = values.indices.filter { values[$0] != 7 }
        XCTAssertFalse(erased.isEmpty)
        let perChannel = erased.count / 3
        XCTAssertGreaterThanOrEqual(Double(perChannel), 0.015 * 600)
        XCTAssertLessThanOrEqual(Double(perChannel), 0.34 * 600)
        var untouched = [Float](repeating: 7, count: 600)
        RandomErasing(probability: 0).apply(to: &untouched, height: 10, width: 20, using: &rng)
        XCTAssertTrue(untouched.allSatisfy { $0 == 7 })
    }

    func testLabelSmoothing() {
        let targets = smoothedOneHot(labels: [2, 0], classes: 4, smoothing: 0.1)
        XCTAssertEqual(targets, [0.025, 0.025, 0.925, 0.025, 0.925, 0.025, 0.025, 0.025])
    }

    func testMixupAndCutmixTargetsMatchTheMixedPixels() {
        // Sample i is constant i+1, so every mixed pixel reveals its mix weight.
        let (b, h, w) = (4, 8, 8)
        let base = Batch(
            images: (0..<b).flatMap { [Float](repeating: Float($0 + 1), count: 3 * h * w) },
            shape: [b, 3, h, w], labels: [0, 1, 2, 3], indices: [0, 1, 2, 3])
        var rng = RandomGenerator(seed: 4)
        var sawMixup = false
        var sawCutmix = false
        for _ in 0..<40 {
            var batch = base
            let (targets, decision) = Mixup(classes: 4).apply(to: &batch, using: &rng)
            for row in 0..<b {
                let rowTargets = Array(targets[(row * 4)..<((row + 1) * 4)])
                XCTAssertEqual(rowTargets.reduce(0, +), 1, accuracy: 1e-5)
                let sample = Array(batch.images[(row * 3 * h * w)..<((row + 1) * 3 * h * w)])
                let own = Float(row + 1)
                let other = Float(b - row)
                if decision.cutmixBox != nil {
                    sawCutmix = true
                    let ownShare = Float(sample.filter { $0 == own }.count) / Float(sample.count)
                    if own != other { XCTAssertEqual(Double(ownShare), decision.lambda, accuracy: 1e-6) }
                } else if decision.lambda < 1 {
                    sawMixup = true
                    let expected = own * Float(decision.lambda) + other * Float(1 - decision.lambda)
                    XCTAssertEqual(sample[0], expected, accuracy: 1e-5)
                }
                // Soft target weight on the row's own label: lam * 0.925 + (1 - lam) * 0.025.
                let lam = Float(decision.lambda)
                XCTAssertEqual(rowTargets[row], lam * 0.925 + (1 - lam) * 0.025, accuracy: 1e-5)
            }
        }
        XCTAssertTrue(sawMixup && sawCutmix)
    }

    func testBetaSamplesHaveTheRightMean() {
        var rng = RandomGenerator(seed: 8)
        let samples = (0..<4000).map { _ in Mixup.beta(0.8, using: &rng) }
        XCTAssertEqual(samples.reduce(0, +) / 4000, 0.5, accuracy: 0.03)
        XCTAssertTrue(samples.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Beta(0.8, 0.8) variance = 1 / (4 * 2.6) ≈ 0.096
        let variance = samples.map { ($0 - 0.5) * ($0 - 0.5) }.reduce(0, +) / 4000
        XCTAssertEqual(variance, 0.096, accuracy: 0.01)
    }
}
