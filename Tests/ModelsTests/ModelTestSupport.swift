import Foundation
import NN
import Randomness
import Tensors
import XCTest
import ZooTestSupport

@testable import Models

extension XCTestCase {
    /// One training forward/backward on a small model: every parameter must receive a gradient that is
    /// not all zeros (a parameter left out of the graph, or cut off from the loss, fails here).
    func assertEveryParameterGetsGradient(
        _ model: any ImageClassifier, inputSize: Int = 32, batch: Int = 2,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        model.train()
        defer { model.eval() }
        var rng = RandomGenerator(seed: 7)
        let input = try Tensor.normal([batch, 3, inputSize, inputSize], using: &rng)
        let logits = try model(input)
        let loss = try logits.crossEntropy(labels: (0..<batch).map { $0 % max(model.numClasses, 1) })
        try loss.backward()
        XCTAssertTrue(loss.item.isFinite, "loss \(loss.item)", file: file, line: line)
        for (name, parameter) in model.namedParameters() {
            guard let grad = parameter.grad else {
                XCTFail("\(name): no gradient", file: file, line: line)
                continue
            }
            XCTAssertTrue(grad.scalars.contains { $0 != 0 }, "\(name): all-zero gradient", file: file, line: line)
            XCTAssertTrue(grad.scalars.allSatisfy(\.isFinite), "\(name): non-finite gradient", file: file, line: line)
        }
    }

    /// A no-grad forward of a full-size registry model on one random image: (1, 1000), all finite.
    func assertFullSizeForward(
        _ name: String, size: Int, _ arguments: ModelArguments = [:],
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let model = try ModelRegistry.create(name, arguments)
        var rng = RandomGenerator(seed: 3)
        let input = try Tensor.normal([1, 3, size, size], using: &rng)
        let output = try withoutGrad { try model(input) }
        XCTAssertEqual(output.shape, [1, 1000], name, file: file, line: line)
        XCTAssertTrue(
            output.scalars.allSatisfy(\.isFinite), "\(name) at \(size): non-finite logits", file: file, line: line)
    }
}

/// The weights and input of scripts/token-mixing-references.py: parameter k (keys sorted) holds
/// sin(0.731·i + 1.37·k)/√fan_in (rank ≥ 2) or 0.2·sin(…) (+1 for norm weights and running variances);
/// the input sin(0.137·i).
enum FormulaWeights {
    static func apply(to model: Module) {
        for (k, entry) in model.stateDict().sorted(by: { $0.name < $1.name }).enumerated() {
            let t = entry.tensor
            let fanIn = t.rank >= 2 ? Double(t.count / t.shape[0]) : 1
            let isNormWeight = entry.name.contains("norm") && entry.name.hasSuffix("weight")
            let offset: Double = t.rank < 2 && (isNormWeight || entry.name.hasSuffix("running_var")) ? 1 : 0
            t.withUnsafeMutableBufferPointer { buffer in
                for i in buffer.indices {
                    let s = Foundation.sin(Double(i) * 0.731 + 1.37 * Double(k))
                    buffer[i] = Float(t.rank >= 2 ? s / fanIn.squareRoot() : 0.2 * s + offset)
                }
            }
        }
        model.weightsDidChange()
    }

    static func input(_ shape: [Int]) throws -> Tensor {
        try Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { Float(Foundation.sin(Double($0) * 0.137)) })
    }

    /// Logits of `model` with formula weights on the formula input, against the reference script's values.
    static func assertLogits(
        _ model: any ImageClassifier, inputSize: Int, expected: [Float], _ name: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        apply(to: model)
        model.eval()
        let output = try withoutGrad { try model(input([1, 3, inputSize, inputSize])) }
        Fixtures.assertParity(output.scalars, expected, name, file: file, line: line)
    }

    /// A full-size registry model against the script's fingerprint: the first 8 logits, their sum and max |logit|.
    static func assertFingerprint(
        _ modelName: String, inputSize: Int, first8: [Float], sum: Double, maxAbs: Float,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let model = try ModelRegistry.create(modelName)
        apply(to: model)
        model.eval()
        let logits = try withoutGrad { try model(input([1, 3, inputSize, inputSize])) }.scalars
        XCTAssertEqual(logits.count, 1000, file: file, line: line)
        Fixtures.assertParity(Array(logits.prefix(8)), first8, "\(modelName) at \(inputSize)", file: file, line: line)
        XCTAssertEqual(
            logits.reduce(0.0) { $0 + Double($1) }, sum, accuracy: 1e-3 * max(1, abs(sum)) + 5e-3, file: file,
            line: line)
        XCTAssertEqual(logits.map(abs).max() ?? 0, maxAbs, accuracy: 1e-3, file: file, line: line)
    }
}
