import Foundation
import Randomness
import XCTest

@testable import VisionIO

final class DataLoaderTests: XCTestCase {
    private func makeFolder(classes: Int = 3, perClass: Int = 7) throws -> (TemporaryTree, ImageFolder) {
        let tree = TemporaryTree()
        for c in 0..<classes {
            for i in 0..<perClass {
                try tree.image(
                    "class\(c)/img\(i).\(i % 2 == 0 ? "png" : "jpg")", width: 20 + i, height: 16 + c,
                    seed: UInt64(c * 100 + i))
            }
        }
        return (tree, try ImageFolder(root: tree.root))
    }

    func testEpochVisitsEverySampleOnceWithCorrectLabels() throws {
        let (tree, folder) = try makeFolder()
        _ = tree
        let loader = DataLoader.training(dataset: folder, batchSize: 4, size: 8, seed: 3, workers: 2)
        var seen = [Int]()
        var batches = 0
        for batch in loader.epoch(0) {
            XCTAssertEqual(batch.shape, [batch.count, 3, 8, 8])
            XCTAssertEqual(batch.images.count, batch.count * 3 * 64)
            for (row, index) in batch.indices.enumerated() {
                XCTAssertEqual(batch.labels[row], folder.label(at: index))
            }
            seen += batch.indices
            batches += 1
        }
        XCTAssertEqual(batches, 6)  // 21 samples / 4, last batch partial
        XCTAssertEqual(seen.sorted(), Array(0..<21))
        XCTAssertNotEqual(seen, Array(0..<21), "shuffled")
    }

    func testDeterministicAcrossRunsAndWorkerCounts() throws {
        let (tree, folder) = try makeFolder()
        _ = tree
        func run(workers: Int, epoch: Int) -> [Float] {
            DataLoader.training(dataset: folder, batchSize: 5, size: 8, seed: 11, workers: workers)
                .epoch(epoch).flatMap { $0.images }
        }
        let a = run(workers: 1, epoch: 0)
        XCTAssertEqual(a, run(workers: 2, epoch: 0))
        XCTAssertEqual(a, run(workers: 3, epoch: 0))
        XCTAssertNotEqual(a, run(workers: 2, epoch: 1))
    }

    /// DistributedSampler's contract: padded shares have equal length, a global batch (ranks × b) is a
    /// contiguous run of the epoch's order, and each sample's augmentation does not depend on the rank.
    func testShardsOfAnEpochInterleaveIntoIt() throws {
        let (tree, folder) = try makeFolder()  // 21 samples
        _ = tree
        let whole = DataLoader.training(dataset: folder, batchSize: 6, size: 8, seed: 5, workers: 1)
        let order = whole.order(epoch: 2)
        for ranks in [2, 3, 4] {
            let loaders = (0..<ranks).map { rank in
                DataLoader.training(
                    dataset: folder, batchSize: 2, size: 8, seed: 5, workers: 1,
                    shard: DataShard(index: rank, count: ranks))
            }
            let shares = loaders.map { $0.order(epoch: 2) }
            let length = (21 + ranks - 1) / ranks
            XCTAssertEqual(shares.map(\.count), Array(repeating: length, count: ranks), "padded to equal length")
            XCTAssertEqual(loaders.map { $0.batchCount() }, Array(repeating: (length + 1) / 2, count: ranks))
            let interleaved = (0..<ranks * length).map { shares[$0 % ranks][$0 / ranks] }
            XCTAssertEqual(Array(interleaved.prefix(21)), order, "\(ranks) ranks")
            XCTAssertEqual(
                Array(interleaved.dropFirst(21)), Array(order.prefix(ranks * length - 21)), "padding repeats the start")
        }
        // The same sample gets the same crop and flip in the whole epoch and in a share.
        let rank1 = DataLoader.training(
            dataset: folder, batchSize: 3, size: 8, seed: 5, workers: 1, shard: DataShard(index: 1, count: 2))
        let shareBatch = try XCTUnwrap(rank1.epoch(2).next())
        let wholeBatches = Array(whole.epoch(2))
        let sample = shareBatch.indices[0]
        let batch = try XCTUnwrap(wholeBatches.first { $0.indices.contains(sample) })
        let row = batch.indices.firstIndex(of: sample)!
        XCTAssertEqual(Array(shareBatch.images[0..<192]), Array(batch.images[row * 192..<(row + 1) * 192]))

        // Unpadded shares (evaluation) split the samples without repeating any.
        let evaluation = (0..<4).map { DataShard(index: $0, count: 4, padded: false) }
        XCTAssertEqual(evaluation.flatMap { $0.samples(of: Array(0..<21)) }.sorted(), Array(0..<21))
        XCTAssertEqual(evaluation.map { $0.sampleCount(of: 21) }, [6, 5, 5, 5])
    }

    func testEvaluationLoaderMatchesEvalTransformInOrder() throws {
        let (tree, folder) = try makeFolder(classes: 2, perClass: 3)
        _ = tree
        let config = PreprocessConfig(inputSize: (3, 12, 12), cropPct: 0.875)
        let batches = Array(DataLoader.evaluation(dataset: folder, batchSize: 4, config: config).epoch(0))
        XCTAssertEqual(batches.flatMap(\.indices), Array(0..<6))
        let expected = try config.evalTransform(Image(contentsOf: folder.url(at: 5)))
        XCTAssertEqual(Array(batches[1].images[(1 * 432)..<(2 * 432)]), expected)
    }

    func testDamagedFilesAreSkippedNotFatal() throws {
        let (tree, _) = try makeFolder(classes: 1, perClass: 4)
        let good = try Fixtures.bytes("codecs", "baseline.jpg")
        try tree.write("class0/broken.jpg", Array(good.prefix(good.count / 2)))
        let folder = try ImageFolder(root: tree.root)
        XCTAssertEqual(folder.count, 5)
        let loader = DataLoader.training(dataset: folder, batchSize: 8, size: 8)
        let batches = Array(loader.epoch(0))
        XCTAssertEqual(batches.map(\.count), [4])
    }

    func testAbandonedEpochDoesNotHang() throws {
        let (tree, folder) = try makeFolder()
        _ = tree
        let loader = DataLoader.training(dataset: folder, batchSize: 2, size: 8, workers: 2)
        var iterator: EpochIterator? = loader.epoch(0)
        XCTAssertNotNil(iterator?.next())
        iterator = nil
        XCTAssertEqual(Array(loader.epoch(1)).flatMap(\.indices).count, 21)
    }

    /// Prints images/s for decode + RandomResizedCrop(224) + flip + normalize on 2 worker threads.
    /// No assertion on speed (shared machine); run with `-c release` for a meaningful number.
    func testLoaderThroughput() throws {
        let tree = TemporaryTree()
        var sources = [Image]()
        if let samples = try? Fixtures.samplesDirectory() {
            for name in [
                "chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "grace_hopper.jpg", "motorcycle_left.png",
            ] {
                sources.append(try Image(contentsOf: samples.appendingPathComponent(name)))
            }
        } else {
            var rng = RandomGenerator(seed: 5)
            sources.append(
                Image(
                    width: 500, height: 375,
                    pixels: (0..<(500 * 375 * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }))
        }
        #if DEBUG
        let count = 64  // keeps the debug suite quick; the release figure uses 240
        #else
        let count = 240
        #endif
        for i in 0..<count {  // ImageNet-like: ~500x375 JPEG, quality 90
            let source = sources[i % sources.count]
            let scaled = source.resized(
                width: i % 2 == 0 ? 500 : 375, height: i % 2 == 0 ? 375 : 500, filter: .bilinear)
            try tree.write("c\(i % 4)/\(i).jpg", try scaled.encodeJPEG(quality: 90))
        }
        let folder = try ImageFolder(root: tree.root)
        let loader = DataLoader.training(dataset: folder, batchSize: 32, size: 224, seed: 1, workers: 2)
        _ = Array(loader.epoch(0).prefix(1))  // warm up
        let start = Date()
        var images = 0
        for batch in loader.epoch(1) { images += batch.count }
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(images, count)
        print(
            String(
                format:
                    "loader throughput: %.0f images/s (%d images, 2 workers, 224px RandomResizedCrop+flip+normalize)",
                Double(images) / seconds, images))
    }
}
