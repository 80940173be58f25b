import NN
import Randomness
import Tensors
import XCTest

@testable import Models

extension XCTestCase {
    /// One training step on a random batch: every parameter must receive a gradient that is not all
    /// zero, and every BatchNorm must have moved its running statistics.
    func assertTrainingStep(
        _ model: any ImageClassifier, inputSize: Int = 64, batch: Int = 2,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        var rng = RandomGenerator(seed: 7)
        let input = try Tensor.normal([batch, 3, inputSize, inputSize], using: &rng)
        let norms = model.descendants(ofType: BatchNorm2d.self)
        XCTAssertFalse(norms.isEmpty, file: file, line: line)
        let before = norms.map { ($0.runningMean.scalars, $0.runningVar.scalars) }
        model.train()
        let logits = try model(input)
        let labels = (0..<batch).map { $0 % max(1, model.numClasses) }
        try logits.crossEntropy(labels: labels).backward()
        for (name, parameter) in model.namedParameters() {
            guard let grad = parameter.grad else {
                XCTFail("\(name): no gradient", file: file, line: line)
                continue
            }
            XCTAssertTrue(grad.scalars.contains { $0 != 0 }, "\(name): gradient is all zero", file: file, line: line)
            XCTAssertFalse(
                grad.scalars.contains { !$0.isFinite }, "\(name): gradient is not finite", file: file, line: line)
        }
        for (norm, (mean, variance)) in zip(norms, before) {
            XCTAssertNotEqual(norm.runningMean.scalars, mean, "running mean unchanged", file: file, line: line)
            XCTAssertNotEqual(norm.runningVar.scalars, variance, "running variance unchanged", file: file, line: line)
        }
        model.eval()
    }

    /// A full-size preset classifies one image of each size: (1, 1000) finite logits, without gradients.
    func assertRunsAtFullSize(
        _ name: String, sizes: [Int] = [224, 160], file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let model = try ModelRegistry.create(name)
        var rng = RandomGenerator(seed: 3)
        for size in sizes {
            let input = try Tensor.normal([1, 3, size, size], using: &rng)
            let logits = try withoutGrad { try model(input) }
            XCTAssertEqual(logits.shape, [1, 1000], "\(name) at \(size)", file: file, line: line)
            XCTAssertFalse(
                logits.scalars.contains { !$0.isFinite }, "\(name) at \(size): non-finite logits", file: file,
                line: line)
        }
    }
}
