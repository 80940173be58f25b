import Foundation
import Models
import VisionIO
import XCTest
import ZooTestSupport

/// The README's library example, compiled and run: a model from its typed configuration, timm's weights
/// loaded unchanged, a photo classified. The test holds the README's lines verbatim and checks they match.
final class ReadmeExampleTests: XCTestCase {
    func testTheReadmeExampleRunsAndIsTheReadmesCode() throws {
        let root = try Fixtures.efficientNetLite0Weights()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(root.path))  // the example's paths are relative
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }

        // BEGIN README EXAMPLE
        // tf_efficientnet_lite0, typed: TensorFlow's "same" padding and BN ε = 1e-3, as timm builds it.
        let model = try EfficientNet(EfficientNetConfig(tfSamePadding: true, bnEpsilon: 1e-3))
        try model.load(weightsAt: URL(fileURLWithPath: "zoo/weights/efficientnet-lite0.pth"))
        let pretrained = try ModelRegistry.resolve("tf_efficientnet_lite0").pretrained  // its preprocessing
        let labels = try String(contentsOfFile: "zoo/imagenet_labels.txt", encoding: .utf8).split(separator: "\n")
        let classifier = ImageClassification(
            model: model, preprocessing: PreprocessConfig(pretrained), labels: labels.map(String.init))
        let photo = URL(fileURLWithPath: "datasets/samples/chelsea.png")
        for prediction in try classifier.classify([photo], topK: 3)[0].get() {
            print(prediction.label, prediction.probability)  // tiger cat 0.39, Egyptian cat 0.36, tabby 0.17
        }
        // END README EXAMPLE

        let top = try classifier.classify([photo], topK: 3)[0].get()
        XCTAssertEqual(top.map(\.index), [282, 285, 281], "tiger cat, Egyptian cat, tabby (as zoo classify says)")
        XCTAssertEqual(top[0].label, "tiger cat")

        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let readme = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let afterBegin = try XCTUnwrap(source.components(separatedBy: "// BEGIN README EXAMPLE\n").last)
        let example = try XCTUnwrap(afterBegin.components(separatedBy: "        // END README EXAMPLE").first)
        let lines = example.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0.dropFirst(8) }
        let block = lines.joined(separator: "\n")
        XCTAssertTrue(
            readme.contains("```swift\n" + block + "\n```"), "README.md must show the example as run here:\n\(block)")
    }
}
