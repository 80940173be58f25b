import Randomness
import XCTest

@testable import NN
@testable import Tensors

/// Dropout, DropPath (stochastic depth), LayerScale and timm's drop-path schedule.
final class RegularizationTests: XCTestCase {
    /// Inverted dropout: kept elements are scaled by 1 / (1 − p), so the mean is preserved.
    func testDropoutPreservesTheMean() throws {
        let dropout = Dropout(0.25)
        dropout.train()
        var generator = RandomGenerator(seed: 1)
        let y = try TrainingRandomness.using(&generator) { try dropout(Tensor(repeating: 3, shape: [100_000])) }
        let values = y.scalars
        XCTAssertTrue(values.allSatisfy { $0 == 0 || abs($0 - 4) < 1e-6 })  // 3 / (1 − 0.25)
        let dropped = Float(values.filter { $0 == 0 }.count) / Float(values.count)
        XCTAssertEqual(dropped, 0.25, accuracy: 0.01)
        XCTAssertEqual(values.reduce(0, +) / Float(values.count), 3, accuracy: 0.04)
    }

    /// DropPath drops whole samples (axis 0): each sample's values are all 0 or all 1 / (1 − p).
    func testDropPathDropsWholeSamples() throws {
        let path = DropPath(0.5)
        path.train()
        var generator = RandomGenerator(seed: 2)
        var copy = generator
        let y = try TrainingRandomness.using(&generator) { try path(Tensor(repeating: 1, shape: [16, 3, 4])) }
        let values = y.scalars
        var kept = 0
        for sample in 0..<16 {
            let row = Set(values[sample * 12..<(sample + 1) * 12])
            XCTAssertTrue(row == [0] || row == [2], "sample \(sample): \(row)")
            // One draw per sample, dropping it when the draw is below p.
            XCTAssertEqual(row == [0], copy.uniform() < 0.5, "sample \(sample)")
            if row == [2] { kept += 1 }
        }
        XCTAssertGreaterThan(kept, 0)
        XCTAssertLessThan(kept, 16)
        XCTAssertEqual(generator, copy)
    }

    func testEvaluationModeIsTheIdentity() throws {
        let x = try Tensor(repeating: 1, shape: [4, 4])
        XCTAssertTrue(try Dropout(0.9)(x) === x)
        XCTAssertTrue(try DropPath(0.9)(x) === x)
    }

    func testLayerScaleMultipliesTheLastAxis() throws {
        let scale = try LayerScale(3, initialValue: 0.5)
        XCTAssertEqual(scale.gamma.scalars, [0.5, 0.5, 0.5])
        XCTAssertEqual(scale.stateDict().map(\.name), ["gamma"])
        try scale.gamma.assign(Tensor(shape: [3], scalars: [1, 2, 3]))
        let y = try scale(Tensor(shape: [2, 3], scalars: [1, 1, 1, 2, 2, 2]))
        XCTAssertEqual(y.scalars, [1, 2, 3, 2, 4, 6])
        XCTAssertEqual(try LayerScale(4).gamma.scalars, [Float](repeating: 1e-5, count: 4))  // timm's default
    }

    /// torch.linspace(0, rate, total): 0 at the first block, `rate` at the last, evenly between.
    func testLinearDropPathSchedule() {
        XCTAssertEqual(DropPath.linearRate(0.1, block: 0, of: 12), 0)
        XCTAssertEqual(DropPath.linearRate(0.1, block: 11, of: 12), 0.1, accuracy: 1e-7)
        XCTAssertEqual(DropPath.linearRate(0.2, block: 2, of: 5), 0.1, accuracy: 1e-7)
        XCTAssertEqual(DropPath.linearRate(0.3, block: 0, of: 1), 0)  // a single block
    }
}
