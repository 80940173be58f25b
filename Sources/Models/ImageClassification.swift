import Dispatch
import Foundation
import Tensors
import VisionIO

/// Top-k classification of image files as `zoo classify` does it: each file decoded and transformed as the
/// weights expect (`PreprocessConfig` from their pretrained config), batched through the model, softmax, top-k.
public struct ImageClassification {
    /// One class of an image's top k.
    public struct Prediction: Codable, Equatable, Sendable {
        /// The class index into the model's logits.
        public var index: Int
        /// The class name (`"class N"` when no label was given for it).
        public var label: String
        /// The softmax probability, in 0…1 (encoded as `prob`).
        public var probability: Float

        enum CodingKeys: String, CodingKey {
            case index, label
            case probability = "prob"
        }
    }

    /// The classifier (`init` puts it in evaluation mode).
    public let model: any ImageClassifier
    /// How each file becomes the `[3, height, width]` input the model's weights expect.
    public let preprocessing: PreprocessConfig
    /// Class names by index ("class N" for indices without one).
    public let labels: [String]

    /// - Parameters:
    ///   - model: a classifier in evaluation mode (this calls `eval()` on it).
    ///   - preprocessing: the transform its weights expect, e.g. `PreprocessConfig(entry.pretrained)`.
    ///   - labels: class names by index.
    public init(model: any ImageClassifier, preprocessing: PreprocessConfig, labels: [String] = []) {
        model.eval()
        self.model = model
        self.preprocessing = preprocessing
        self.labels = labels
    }

    /// Decodes and transforms `files` on all cores; each succeeds or fails on its own (a damaged file is its
    /// own error, not the batch's).
    public func prepare(_ files: [URL]) -> [Result<[Float], Error>] {
        var outcomes = [Result<[Float], Error>](repeating: .success([]), count: files.count)
        outcomes.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots  // each iteration writes its own slot
            DispatchQueue.concurrentPerform(iterations: files.count) { i in
                slots[i] = Result { try preprocessing.evalTransform(try Image(contentsOf: files[i])) }
            }
        }
        return outcomes
    }

    /// The top `k` classes of each prepared image, in one forward pass.
    public func predict(_ images: [[Float]], topK k: Int) throws -> [[Prediction]] {
        guard k >= 1 else {
            throw ModelError.invalidArgument(model: "classify", argument: "topK", reason: "must be ≥ 1, got \(k)")
        }
        guard !images.isEmpty else { return [] }
        let input = try Tensor(
            shape: [images.count, 3, preprocessing.height, preprocessing.width], scalars: images.flatMap { $0 })
        let probabilities = try withoutGrad { try model(input).softmax() }.scalars
        let classes = model.numClasses
        return images.indices.map { row in
            let p = probabilities[row * classes..<(row + 1) * classes]
            return p.indices.sorted { p[$0] > p[$1] }.prefix(k).map { i in
                let index = i - row * classes
                return Prediction(
                    index: index, label: index < labels.count ? labels[index] : "class \(index)", probability: p[i])
            }
        }
    }

    /// Each file's top `k` classes, or why it could not be read, in batches of `batchSize`.
    public func classify(_ files: [URL], topK k: Int = 5, batchSize: Int = 8) throws -> [Result<[Prediction], Error>] {
        guard batchSize >= 1 else {
            throw ModelError.invalidArgument(
                model: "classify", argument: "batchSize", reason: "must be ≥ 1, got \(batchSize)")
        }
        var results: [Result<[Prediction], Error>] = []
        for start in stride(from: 0, to: files.count, by: batchSize) {
            let prepared = prepare(Array(files[start..<min(start + batchSize, files.count)]))
            var predictions = try predict(prepared.compactMap { try? $0.get() }, topK: k).makeIterator()
            for outcome in prepared {
                switch outcome {
                case .success: results.append(.success(predictions.next()!))
                case .failure(let error): results.append(.failure(error))
                }
            }
        }
        return results
    }
}
