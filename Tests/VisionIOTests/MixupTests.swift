import Randomness
import XCTest

@testable import VisionIO

/// Batch Mixup and CutMix with soft targets (timm.data.Mixup), and label smoothing.
final class MixupTests: XCTestCase {
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
