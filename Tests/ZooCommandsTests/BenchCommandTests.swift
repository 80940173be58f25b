import Foundation
import XCTest

/// `zoo bench --model`: times classifiers and MAE presets, inference and a full training step, as JSON.
final class BenchCommandTests: XCTestCase {
    struct Result: Decodable { var model: String; var batch: Int; var mode: String; var input_size: Int; var ms_median: Double; var ms_min: Double; var ms_max: Double }

    private func bench(_ arguments: [String]) throws -> Result {
        let (status, stdout, stderr) = try runZoo(try builtZoo(), ["bench", "--iterations", "2", "--json"] + arguments)
        XCTAssertEqual(status, 0, stderr)
        return try JSONDecoder().decode(Result.self, from: Data(stdout.utf8))
    }

    func testMaskedAutoencoderTrainingStep() throws {
        let result = try bench(["--model", "mae_vit_tiny_patch16", "--train", "--batch", "2", "--img-size", "32"])
        XCTAssertEqual(result.model, "mae_vit_tiny_patch16")
        XCTAssertEqual(result.mode, "train")
        XCTAssertEqual(result.batch, 2)
        XCTAssertEqual(result.input_size, 32)
        XCTAssertGreaterThan(result.ms_min, 0)
        XCTAssertLessThanOrEqual(result.ms_min, result.ms_median)
        XCTAssertLessThanOrEqual(result.ms_median, result.ms_max)
    }

    func testClassifierInferenceAndTraining() throws {
        let inference = try bench(["--model", "resnet18", "--img-size", "32"])
        XCTAssertEqual(inference.mode, "inference")
        XCTAssertEqual(inference.input_size, 32)
        XCTAssertEqual(try bench(["--model", "resnet18", "--img-size", "32", "--train"]).mode, "train")
    }

    /// An unknown name is a one-line error that suggests the nearest names.
    func testUnknownModel() throws {
        let (status, _, stderr) = try runZoo(try builtZoo(), ["bench", "--model", "mae_vit_tiny_patch61"])
        XCTAssertEqual(status, 1, stderr)
        XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
        XCTAssertTrue(stderr.contains("mae_vit_tiny_patch16"), stderr)
    }
}
