import XCTest
import NN
import Tensors
@testable import Models

extension XCTestCase {
    /// One training forward/backward on a small model: every parameter must receive a gradient that is
    /// not all zeros (a parameter left out of the graph, or cut off from the loss, fails here).
    func assertEveryParameterGetsGradient(_ model: any ImageClassifier, inputSize: Int = 32, batch: Int = 2,
                                          file: StaticString = #filePath, line: UInt = #line) throws {
        model.train()
        defer { model.eval() }
        var rng = RandomGenerator(seed: 7)
        let input = Tensor.normal([batch, 3, inputSize, inputSize], using: &rng)
        let logits = try model(input)
        let loss = try logits.crossEntropy(labels: (0..<batch).map { $0 % max(model.numClasses, 1) })
        try loss.backward()
        XCTAssertTrue(loss.item.isFinite, "loss \(loss.item)", file: file, line: line)
        for (name, parameter) in model.namedParameters() {
            guard let grad = parameter.grad else { XCTFail("\(name): no gradient", file: file, line: line); continue }
            XCTAssertTrue(grad.scalars.contains { $0 != 0 }, "\(name): all-zero gradient", file: file, line: line)
            XCTAssertTrue(grad.scalars.allSatisfy(\.isFinite), "\(name): non-finite gradient", file: file, line: line)
        }
    }

    /// A no-grad forward of a full-size registry model on one random image: (1, 1000), all finite.
    func assertFullSizeForward(_ name: String, size: Int, _ arguments: ModelArguments = [:],
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try ModelRegistry.create(name, arguments)
        var rng = RandomGenerator(seed: 3)
        let input = Tensor.normal([1, 3, size, size], using: &rng)
        let output = try withoutGrad { try model(input) }
        XCTAssertEqual(output.shape, [1, 1000], name, file: file, line: line)
        XCTAssertTrue(output.scalars.allSatisfy(\.isFinite), "\(name) at \(size): non-finite logits", file: file, line: line)
    }
}
