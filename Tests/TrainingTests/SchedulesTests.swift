import XCTest

@testable import Training

/// Linear warmup then half-cycle cosine (timm's CosineLRScheduler with warmup), values worked out by hand.
final class SchedulesTests: XCTestCase {
    func testWarmupCosineSchedule() {
        let s = WarmupCosineSchedule(baseLearningRate: 1, minLearningRate: 0.1, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(s.learningRate(atStep: 0), 0)
        XCTAssertEqual(s.learningRate(atStep: 5), 0.5)
        XCTAssertEqual(s.learningRate(atStep: 10), 1)
        XCTAssertEqual(s.learningRate(atStep: 60), 0.55, accuracy: 1e-6)  // half way: min + (1 − min)/2
        XCTAssertEqual(s.learningRate(atStep: 110), 0.1, accuracy: 1e-6)
    }

    /// Base 0.1, 5 warmup steps of 15: 0.02 per warmup step, then 0.05 · (1 + cos(π · (step − 5) / 10)).
    func testWarmupThenCosineByHand() {
        let s = WarmupCosineSchedule(baseLearningRate: 0.1, warmupSteps: 5, totalSteps: 15)
        XCTAssertEqual(s.minLearningRate, 0)
        XCTAssertEqual(s.learningRate(atStep: 0), 0)
        XCTAssertEqual(s.learningRate(atStep: 2), 0.04, accuracy: 1e-7)
        XCTAssertEqual(s.learningRate(atStep: 4), 0.08, accuracy: 1e-7)
        XCTAssertEqual(s.learningRate(atStep: 5), 0.1, accuracy: 1e-7)
        XCTAssertEqual(s.learningRate(atStep: 6), 0.05 * (1 + 0.951_056_5), accuracy: 1e-7)  // cos(π/10)
        XCTAssertEqual(s.learningRate(atStep: 10), 0.05, accuracy: 1e-7)
        XCTAssertEqual(s.learningRate(atStep: 14), 0.05 * (1 - 0.951_056_5), accuracy: 1e-7)
        XCTAssertEqual(s.learningRate(atStep: 15), 0, accuracy: 1e-7)
        XCTAssertEqual(s.learningRate(atStep: 40), 0, accuracy: 1e-7, "stays at the floor after the run")
    }

    func testWithoutWarmupTheRunStartsAtThePeak() {
        let s = WarmupCosineSchedule(baseLearningRate: 2, minLearningRate: 1, warmupSteps: 0, totalSteps: 4)
        XCTAssertEqual(s.learningRate(atStep: 0), 2)
        XCTAssertEqual(s.learningRate(atStep: 1), 1 + 0.5 * (1 + 0.707_106_8), accuracy: 1e-6)  // cos(π/4)
        XCTAssertEqual(s.learningRate(atStep: 2), 1.5, accuracy: 1e-6)
        XCTAssertEqual(s.learningRate(atStep: 4), 1, accuracy: 1e-6)
    }

    /// A run of 0 steps keeps 1, and a warmup as long as the run ends at the peak.
    func testDegenerateLengths() {
        XCTAssertEqual(WarmupCosineSchedule(baseLearningRate: 1, warmupSteps: 0, totalSteps: 0).totalSteps, 1)
        let s = WarmupCosineSchedule(baseLearningRate: 1, warmupSteps: 3, totalSteps: 3)
        XCTAssertEqual(s.learningRate(atStep: 2), 2.0 / 3, accuracy: 1e-7)
        XCTAssertEqual(s.learningRate(atStep: 3), 1)
    }
}
