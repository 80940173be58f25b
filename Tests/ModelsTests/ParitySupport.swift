import Kernels
import Tensors
import Weights
import XCTest
import ZooTestSupport

@testable import Models

/// Builds a fixture's model by its timm name and keyword arguments, loads its weights and checks
/// that the logits match timm's (the DESIGN.md tolerance).
extension XCTestCase {
    /// The fixture's timm keyword arguments (the manifest's JSON decodes straight into ArgumentValue), less
    /// those timm ignores for the architecture (`Fixtures.ignoredByTimm`).
    func parityArguments(_ kwargs: [String: ArgumentValue]) -> ModelArguments {
        ModelArguments(kwargs.filter { !Fixtures.ignoredByTimm.contains($0.key) })
    }

    @discardableResult
    func checkFixture(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> any ImageClassifier
    {
        guard let fixture = try Fixtures.parityManifest().first(where: { $0.name == name }) else {
            throw XCTSkip("no fixture \(name) in the manifest")
        }
        let model = try ModelRegistry.create(fixture.timmArch, parityArguments(fixture.timmArguments))
        try model.load(Fixtures.parityWeights(name))
        model.eval()
        let io = try Fixtures.parityIO(name)
        let input = try Tensor(shape: io["input"]!.shape, scalars: io["input"]!.values)
        // Every instruction-set path this CPU runs must reproduce timm's logits.
        for path in KernelPath.available {
            let output = try KernelPath.with(path) { try withoutGrad { try model(input) } }
            XCTAssertEqual(output.shape, fixture.outputShape, file: file, line: line)
            Fixtures.assertParity(output.scalars, io["output"]!.values, "\(name) on \(path)", file: file, line: line)
            print(
                "parity \(name) on \(path): max |diff| \(zip(output.scalars, io["output"]!.values).map { abs($0 - $1) }.max() ?? .nan)"
            )
        }
        return model
    }
}
