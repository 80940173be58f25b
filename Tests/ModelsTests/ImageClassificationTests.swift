import Foundation
import NN
import Tensors
import VisionIO
import XCTest

@testable import Models

/// Top-k classification as `zoo classify` does it, with a model whose logits are its input's channel means,
/// so every probability can be worked out by hand.
final class ImageClassificationTests: XCTestCase {
    private final class ChannelMeans: Module, ImageClassifier {
        var numClasses: Int { 3 }
        var numFeatures: Int { 3 }
        func forwardFeatures(_ input: Tensor) throws -> Tensor { try input.mean(axes: [2, 3]) }
        func forwardHead(_ features: Tensor, preLogits: Bool) throws -> Tensor { features }
    }

    /// 2×2 planes holding one value each.
    private func planes(_ values: [Float]) -> [Float] { values.flatMap { [Float](repeating: $0, count: 4) } }

    /// Logits [0, ln 2, ln 3] give softmax [1/6, 1/3, 1/2]; [ln 3, 0, 0] give [3/5, 1/5, 1/5]. Classes without a
    /// label are "class N".
    func testTopKIsSortedSoftmaxWithLabels() throws {
        let classifier = ImageClassification(
            model: ChannelMeans(), preprocessing: PreprocessConfig(inputSize: (3, 2, 2)), labels: ["zero", "one"])
        let (ln2, ln3) = (Float(log(2.0)), Float(log(3.0)))
        let predictions = try classifier.predict([planes([0, ln2, ln3]), planes([ln3, 0, 0])], topK: 2)
        XCTAssertEqual(predictions.count, 2)
        XCTAssertEqual(predictions[0].map(\.index), [2, 1])
        XCTAssertEqual(predictions[0].map(\.label), ["class 2", "one"])
        XCTAssertEqual(predictions[0][0].probability, 0.5, accuracy: 1e-6)
        XCTAssertEqual(predictions[0][1].probability, 1.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(predictions[1][0].index, 0)
        XCTAssertEqual(predictions[1][0].label, "zero")
        XCTAssertEqual(predictions[1][0].probability, 0.6, accuracy: 1e-6)
        XCTAssertEqual(try classifier.predict([], topK: 5).count, 0)
        XCTAssertEqual(try classifier.predict([planes([0, 0, 1])], topK: 10)[0].count, 3)
    }

    /// Files are decoded and transformed as the config says (ToTensor only here: red is [1, 0, 0], softmax
    /// e / (e + 2) = 0.5761169 on class 0); a damaged file fails alone, also inside a batch.
    func testFilesAreClassifiedAndADamagedOneFailsAlone() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("classify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let red = folder.appendingPathComponent("red.png")
        let blue = folder.appendingPathComponent("blue.png")
        let damaged = folder.appendingPathComponent("damaged.png")
        try Image(width: 8, height: 8, fill: (255, 0, 0)).write(to: red)
        try Image(width: 8, height: 8, fill: (0, 0, 255)).write(to: blue)
        try Data("not a png".utf8).write(to: damaged)

        let classifier = ImageClassification(
            model: ChannelMeans(),
            preprocessing: PreprocessConfig(inputSize: (3, 4, 4), mean: [0, 0, 0], std: [1, 1, 1], cropPct: 1))
        let results = try classifier.classify([red, damaged, blue], topK: 1, batchSize: 2)
        XCTAssertEqual(results.count, 3)
        let first = try results[0].get()
        XCTAssertEqual(first.map(\.index), [0])
        XCTAssertEqual(first[0].probability, 0.5761169, accuracy: 2e-3)
        XCTAssertThrowsError(try results[1].get())
        XCTAssertEqual(try results[2].get().map(\.index), [2])
        XCTAssertEqual(try results[2].get()[0].label, "class 2")
    }

    /// The JSON form names the probability `prob`, as the command line prints it.
    func testPredictionEncodesProbabilityAsProb() throws {
        let json = try JSONEncoder().encode(ImageClassification.Prediction(index: 3, label: "cat", probability: 0.5))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: json) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["index", "label", "prob"])
        XCTAssertEqual(object["prob"] as? Double, 0.5)
    }
}
