import Foundation
import VisionIO
import XCTest

/// `zoo train` then `zoo eval` end to end on a tiny generated ImageFolder.
final class TrainCommandsTests: XCTestCase {
    struct Summary: Decodable {
        var epoch: Int
        var valTop1: Double
        var valTop5: Double
        var bestTop1: Double
    }
    struct Evaluation: Decodable {
        var top1: Double
        var top5: Double
        var loss: Double
    }

    func testTrainThenEvalTheBestWeights() throws {
        let zoo = try builtZoo()
        let root = try stripedImageFolder(self)
        let out = root.appendingPathComponent("out")
        let (status, stdout, stderr) = try runZoo(
            zoo,
            [
                "train", root.appendingPathComponent("train").path,
                "--val", root.appendingPathComponent("val").path,
                "--model", "resnet18", "--img-size", "32", "--epochs", "2", "--batch-size", "4",
                "--output", out.path, "--json",
            ])
        XCTAssertEqual(status, 0, stderr)
        let lastLine = try XCTUnwrap(stdout.split(separator: "\n").last, "no stdout")
        let summary = try snakeCaseDecoder.decode(Summary.self, from: Data(lastLine.utf8))
        XCTAssertEqual(summary.epoch, 2)
        XCTAssertTrue((0...100).contains(summary.valTop1) && summary.valTop5 >= summary.valTop1, "\(summary)")
        XCTAssertEqual(summary.valTop5, 100, "two classes: the top 5 always holds the right one")
        for file in ["best.safetensors", "last.safetensors", "checkpoint.safetensors", "metrics.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }

        let csv = try String(contentsOf: out.appendingPathComponent("metrics.csv"), encoding: .utf8).split(
            separator: "\n")
        XCTAssertEqual(csv.count, 3, csv.joined(separator: "\n"))
        XCTAssertEqual(csv.first, "epoch,train_loss,val_top1,val_top5,val_loss,lr")
        let rows = csv.dropFirst().map { $0.split(separator: ",").map { Double($0) ?? .nan } }
        XCTAssertEqual(rows.map { $0[0] }, [1, 2])
        let best = try XCTUnwrap(rows.map { $0[2] }.max())
        XCTAssertEqual(summary.bestTop1, best, accuracy: 1e-3)
        XCTAssertEqual(rows.last?[2] ?? .nan, summary.valTop1, accuracy: 1e-3)

        // best.safetensors holds the latest epoch that reached the best top-1: eval reproduces its validation numbers.
        let (evalStatus, evalOut, evalError) = try runZoo(
            zoo,
            [
                "eval", root.appendingPathComponent("val").path, "--model", "resnet18",
                "--weights", out.appendingPathComponent("best.safetensors").path,
                "--img-size", "32", "--json",
            ])
        XCTAssertEqual(evalStatus, 0, evalError)
        let evaluation = try snakeCaseDecoder.decode(
            Evaluation.self, from: Data(try XCTUnwrap(evalOut.split(separator: "\n").last).utf8))
        XCTAssertEqual(evaluation.top1, best, accuracy: 1e-3)
        XCTAssertEqual(evaluation.top5, 100, accuracy: 1e-3)
        let bestRow = try XCTUnwrap(rows.last { abs($0[2] - best) < 1e-3 })
        XCTAssertEqual(evaluation.loss, bestRow[4], accuracy: 1e-4, "eval loss vs the best epoch's val_loss")
    }

    func testBadUsage() throws {
        let zoo = try builtZoo()
        XCTAssertEqual(try runZoo(zoo, ["train", "x", "--val", "y", "--model", "resnt18", "--output", "o"]).0, 2)
        XCTAssertEqual(
            try runZoo(zoo, ["train", "x", "--val", "y", "--model", "resnet18", "--output", "o", "--opt", "lion"]).0, 2)
        XCTAssertEqual(try runZoo(zoo, ["eval", "x", "--model", "resnet18.nope"]).0, 2)
        XCTAssertEqual(
            try runZoo(
                zoo,
                [
                    "train", "x", "--val", "y", "--model", "resnet18", "--output", "o", "--pretrained",
                    "--init-weights", "w",
                ]
            ).0, 2)
    }
}
