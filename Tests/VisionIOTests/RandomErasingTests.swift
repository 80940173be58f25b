import Randomness
import XCTest

@testable import VisionIO

/// timm's RandomErasing (mode "pixel"): one rectangle of the drawn area and aspect, the same in every channel.
final class RandomErasingTests: XCTestCase {
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

    /// Area fixed at a quarter of 20×20 and aspect 1: h = w = √100 = 10, so exactly a 10×10 square per channel,
    /// at the same place in each, and nothing outside it.
    func testFixedAreaAndAspectGiveThatRectangle() {
        var rng = RandomGenerator(seed: 10)
        let erasing = RandomErasing(probability: 1, minArea: 0.25, maxArea: 0.25, aspect: 1...1)
        for _ in 0..<10 {
            var values = [Float](repeating: 7, count: 3 * 20 * 20)
            erasing.apply(to: &values, height: 20, width: 20, using: &rng)
            var boxes: [[Int]] = []
            for c in 0..<3 {
                let erased = (0..<400).filter { values[c * 400 + $0] != 7 }
                let rows = erased.map { $0 / 20 }
                let columns = erased.map { $0 % 20 }
                XCTAssertEqual(erased.count, 100)
                XCTAssertEqual(rows.max()! - rows.min()!, 9)
                XCTAssertEqual(columns.max()! - columns.min()!, 9)
                boxes.append([rows.min()!, columns.min()!])
            }
            XCTAssertEqual(Set(boxes).count, 1, "the channels' boxes differ: \(boxes)")
        }
    }

    /// A rectangle that cannot fit (the whole image: h = w = 20, not < 20) is given up after timm's 10 attempts.
    func testRectangleThatNeverFitsLeavesTheValues() {
        var rng = RandomGenerator(seed: 11)
        var values = [Float](repeating: 7, count: 3 * 20 * 20)
        RandomErasing(probability: 1, minArea: 1, maxArea: 1, aspect: 1...1)
            .apply(to: &values, height: 20, width: 20, using: &rng)
        XCTAssertTrue(values.allSatisfy { $0 == 7 })
    }

    /// With `offset`, only that image of a batch is touched.
    func testOffsetSelectsOneImageOfABatch() {
        var rng = RandomGenerator(seed: 12)
        var batch = [Float](repeating: 7, count: 2 * 3 * 10 * 10)
        RandomErasing(probability: 1).apply(to: &batch, offset: 300, height: 10, width: 10, using: &rng)
        XCTAssertTrue(batch[..<300].allSatisfy { $0 == 7 })
        XCTAssertTrue(batch[300...].contains { $0 != 7 })
    }
}
