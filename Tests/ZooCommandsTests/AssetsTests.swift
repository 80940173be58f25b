import ArgumentParser
import Foundation
import Models
import XCTest

@testable import ZooCommands

/// The project's data folder and the options shared by the commands that run a model.
final class AssetsTests: XCTestCase {
    /// The checkout's zoo/imagenet_labels.txt, found from the test binary's location: 1000 classes in
    /// torchvision's order (class 0 is the tench, class 999 toilet tissue).
    func testImageNetLabelsAreFoundAndComplete() throws {
        let labels = try Assets.imagenetLabels()
        XCTAssertEqual(labels.count, 1000)
        XCTAssertTrue(labels.first?.hasPrefix("tench") == true, labels.first ?? "")
        XCTAssertTrue(labels.last?.hasPrefix("toilet tissue") == true, labels.last ?? "")
    }

    /// `--pretrained` and `--weights` exclude each other; `--model-args` must be a JSON object; an unknown
    /// model is bad usage naming the nearest names.
    func testModelOptionsAreValidated() {
        XCTAssertThrowsError(try ModelOptions.parse(["--pretrained", "--weights", "w.pth"])) { error in
            XCTAssertEqual(ModelOptions.message(for: error), "--pretrained and --weights exclude each other")
        }
        XCTAssertThrowsError(try ModelOptions.parse(["--model-args", "[1, 2]"])) { error in
            XCTAssertTrue(
                ModelOptions.message(for: error).hasPrefix(
                    "--model-args must be a JSON object of timm keyword arguments"),
                ModelOptions.message(for: error))
        }
        XCTAssertThrowsError(try ModelOptions.parse(["--model", "resnet5"])) { error in
            XCTAssertTrue(ModelOptions.message(for: error).contains("did you mean 'resnet50'"))
        }
    }

    /// The model, its tag and its keyword arguments as given; --weights is the file named.
    func testModelOptionsResolveWhatWasGiven() throws {
        let options = try ModelOptions.parse([
            "--model", "resnet50.tv_in1k", "--weights", "/tmp/w.safetensors", "--model-args", #"{"num_classes": 10}"#,
        ])
        let (entry, pretrained) = try options.resolved()
        XCTAssertEqual(entry.name, "resnet50")
        XCTAssertEqual(pretrained.tag, "tv_in1k")
        XCTAssertEqual(try options.arguments().values, ["num_classes": .int(10)])
        XCTAssertEqual(try options.weightsURL().path, "/tmp/w.safetensors")
        XCTAssertEqual(try ModelOptions.parse([]).model, Assets.defaultModel)
        XCTAssertEqual(try ModelOptions.parse([]).arguments().values, [:])
    }

    func testCommandErrorIsItsMessage() {
        XCTAssertEqual("\(CommandError("x.png: corrupt"))", "x.png: corrupt")
    }
}
