import Foundation
import XCTest

/// `zoo bench --model`: times classifiers and MAE presets, inference and a full training step, as JSON.
final class BenchCommandTests: XCTestCase {
    struct Result: Decodable {
        var model: String
        var batch: Int
        var mode: String
        var inputSize: Int
        var msMedian: Double
        var msMin: Double
        var msMax: Double
        var isa: String
        var cpu: String
        var profile: [ProfileRow]?
        var layers: [LayerRow]?
    }

    struct LayerRow: Decodable {
        var kind: String
        var shape: String
        var msMedian: Double
    }

    struct ProfileRow: Decodable, Equatable {
        var kind: String
        var calls: Int
        var share: Double
    }

    private func bench(_ arguments: [String]) throws -> Result {
        let (status, stdout, stderr) = try runZoo(try builtZoo(), ["bench", "--iterations", "2", "--json"] + arguments)
        XCTAssertEqual(status, 0, stderr)
        return try snakeCaseDecoder.decode(Result.self, from: Data(stdout.utf8))
    }

    func testMaskedAutoencoderTrainingStep() throws {
        let result = try bench(["--model", "mae_vit_tiny_patch16", "--train", "--batch", "2", "--img-size", "32"])
        XCTAssertEqual(result.model, "mae_vit_tiny_patch16")
        XCTAssertEqual(result.mode, "train")
        XCTAssertEqual(result.batch, 2)
        XCTAssertEqual(result.inputSize, 32)
        XCTAssertGreaterThan(result.msMin, 0)
        XCTAssertLessThanOrEqual(result.msMin, result.msMedian)
        XCTAssertLessThanOrEqual(result.msMedian, result.msMax)
    }

    func testClassifierInferenceAndTraining() throws {
        let inference = try bench(["--model", "resnet18", "--img-size", "32"])
        XCTAssertEqual(inference.mode, "inference")
        XCTAssertEqual(inference.inputSize, 32)
        XCTAssertEqual(try bench(["--model", "resnet18", "--img-size", "32", "--train"]).mode, "train")
    }

    /// An unknown name is a one-line error that suggests the nearest names.
    /// `--profile` counts each layer kind's kernel calls per run, as the architecture has them: resnet18 has
    /// 16 3×3 convs in its blocks, 3 1×1 downsample convs, the 7×7 stem, the max pool and the fc (its global
    /// average pool is a mean, counted in "other").
    func testProfileCountsEachLayerKind() throws {
        let result = try bench(["--model", "resnet18", "--img-size", "32", "--profile"])
        let rows = try XCTUnwrap(result.profile)
        let calls = Dictionary(uniqueKeysWithValues: rows.map { ($0.kind, $0.calls) })
        XCTAssertEqual(
            calls, ["conv 3×3": 16, "conv 1×1": 3, "conv other": 1, "pooling": 1, "GEMM": 1, "other": 0], "\(rows)")
        XCTAssertEqual(rows.last?.kind, "other")
        XCTAssertEqual(rows.map(\.share).reduce(0, +), 1, accuracy: 1e-6, "the kinds and 'other' make up each run")
        let (status, stdout, stderr) = try runZoo(
            try builtZoo(), ["bench", "--model", "resnet18", "--img-size", "32", "--profile"])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertTrue(stdout.contains("time per layer kind"), stdout)
        XCTAssertTrue(stdout.contains("conv 3×3"), stdout)
    }

    /// `--layers` lists resnet18's layers in the order a forward runs them, each with its shape and the algorithm
    /// it ran; the per-kind table comes with it.
    func testLayersListEachCallInOrder() throws {
        let result = try bench(["--model", "resnet18", "--img-size", "32", "--layers"])
        let layers = try XCTUnwrap(result.layers)
        XCTAssertEqual(layers.count, 16 + 3 + 1 + 1 + 1, "\(layers)")
        XCTAssertEqual(layers.first?.kind, "conv other")
        XCTAssertTrue(layers.first?.shape.hasPrefix("3→64 @32×32 /2") == true, "\(layers)")
        XCTAssertEqual(layers[1].kind, "pooling")
        XCTAssertEqual(layers.last?.kind, "GEMM")
        XCTAssertEqual(layers.last?.shape, "1×1000×512")
        XCTAssertEqual(layers.filter { $0.kind == "conv 3×3" }.count, 16)
        XCTAssertTrue(layers.allSatisfy { $0.msMedian >= 0 })
        XCTAssertNotNil(result.profile)
        XCTAssertNil(try bench(["--model", "resnet18", "--img-size", "32", "--profile"]).layers)
    }

    func testUnknownModel() throws {
        let (status, _, stderr) = try runZoo(try builtZoo(), ["bench", "--model", "mae_vit_tiny_patch61"])
        XCTAssertEqual(status, 1, stderr)
        XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
        XCTAssertTrue(stderr.contains("mae_vit_tiny_patch16"), stderr)
    }

    /// `--isa` forces a narrower instruction-set path, and the result names it and the CPU.
    func testForcedPathIsReported() throws {
        let result = try bench(["--model", "resnet18", "--img-size", "32", "--isa", "baseline"])
        XCTAssertEqual(result.isa, "baseline")
        XCTAssertFalse(result.cpu.isEmpty)
        let (status, _, stderr) = try runZoo(try builtZoo(), ["bench", "--model", "resnet18", "--isa", "sse9"])
        XCTAssertEqual(status, 2, stderr)
        XCTAssertTrue(stderr.contains("sse9") && stderr.contains("avx2"), stderr)
    }

    /// `ZOO_ISA` holds every command to a path; a value that is not a path is named in one line and ignored.
    func testEnvironmentChoosesThePath() throws {
        let arguments = ["bench", "--model", "resnet18", "--img-size", "32", "--iterations", "1", "--json"]
        let (status, stdout, stderr) = try runZoo(try builtZoo(), arguments, environment: ["ZOO_ISA": "baseline"])
        XCTAssertEqual(status, 0, stderr)
        XCTAssertEqual(try snakeCaseDecoder.decode(Result.self, from: Data(stdout.utf8)).isa, "baseline")
        let (typoStatus, _, typoError) = try runZoo(try builtZoo(), arguments, environment: ["ZOO_ISA": "avx3"])
        XCTAssertEqual(typoStatus, 0, typoError)
        XCTAssertEqual(typoError.split(separator: "\n").count, 1, typoError)
        XCTAssertTrue(typoError.contains("ZOO_ISA=avx3"), typoError)
    }

    /// `zoo bench kernels` measures every kernel on every path the CPU runs, plus OpenBLAS's SGEMM.
    func testKernelsOnEveryPathNextToOpenBLAS() throws {
        struct Row: Decodable {
            var name: String
            var isa: String
            var gflops: Double
        }
        struct Report: Decodable {
            var cpu: String
            var isa: String
            var openblasCore: String
            var rows: [Row]
        }
        let (status, stdout, stderr) = try runZoo(try builtZoo(), ["bench", "kernels", "--iterations", "1", "--json"])
        XCTAssertEqual(status, 0, stderr)
        let report = try snakeCaseDecoder.decode(Report.self, from: Data(stdout.utf8))
        let paths = Set(report.rows.map(\.isa))
        XCTAssertTrue(paths.contains("baseline"), "\(paths)")
        XCTAssertTrue(paths.contains(report.isa), "\(paths)")
        XCTAssertTrue(paths.contains("openblas \(report.openblasCore)"), "\(paths)")
        XCTAssertTrue(report.rows.allSatisfy { $0.gflops > 0 })
    }
}
