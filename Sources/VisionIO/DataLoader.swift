// Batches of normalized CHW floats from an ImageDataset, built on worker threads with bounded prefetch.
// Determinism: the epoch order and each sample's augmentation RNG derive from (seed, epoch, index),
// so results do not depend on thread scheduling.
import Foundation
import Randomness

/// (B, 3, H, W) floats plus labels; `indices` are the dataset positions of the rows.
public struct Batch: Sendable {
    public var images: [Float]
    public var shape: [Int]
    public var labels: [Int]
    public var indices: [Int]
    public var count: Int { labels.count }
}

/// Which of each epoch's samples a loader yields: all of them, or one rank's share in a data-parallel run
/// (torch's DistributedSampler). A share takes every `count`-th sample of the epoch's order from `index`;
/// `padded` first repeats the order's start up to a multiple of `count`, so that every rank runs the same
/// number of steps (training); unpadded shares are disjoint and together hold each sample once (evaluation).
/// A global batch of `count` ranks × b images is then a contiguous run of the epoch's order, whatever `count` is.
public struct DataShard: Equatable, Sendable {
    public var index: Int
    public var count: Int
    public var padded: Bool

    /// Every sample, once.
    public static let whole = DataShard(index: 0, count: 1)

    public init(index: Int, count: Int, padded: Bool = true) {
        precondition(count > 0 && (0..<count).contains(index), "DataShard: index \(index) of \(count)")
        self.index = index
        self.count = count
        self.padded = padded
    }

    /// This share of `order`.
    public func samples(of order: [Int]) -> [Int] {
        guard count > 1, !order.isEmpty else { return order }
        var all = order
        if padded {
            let total = (order.count + count - 1) / count * count
            while all.count < total { all += order.prefix(total - all.count) }
        }
        return Array(stride(from: index, to: all.count, by: count).map { all[$0] })
    }

    /// How many samples this share of `total` holds.
    public func sampleCount(of total: Int) -> Int {
        guard count > 1, total > 0 else { return total }
        return padded ? (total + count - 1) / count : (total - index + count - 1) / count
    }
}

/// Turns a decoded image into exactly `height * width * 3` floats (CHW), using the sample's own RNG.
public typealias SampleTransform = @Sendable (Image, inout RandomGenerator) throws -> [Float]

public final class DataLoader: @unchecked Sendable {
    public let dataset: ImageDataset
    public let batchSize: Int
    public let outputSize: (height: Int, width: Int)
    public let shuffle: Bool
    public let dropLast: Bool
    public let shard: DataShard
    public let seed: UInt64
    public let workers: Int
    public let prefetchBatches: Int
    public let maxPixels: UInt64
    /// timm / torchvision loaders ignore EXIF orientation; set false to match them on rotated photos.
    public let applyExifOrientation: Bool
    private let transform: SampleTransform
    private let warnedLock = NSLock()
    private var warned = Set<String>()

    public init(
        dataset: ImageDataset, batchSize: Int, outputSize: (height: Int, width: Int),
        shuffle: Bool = true, dropLast: Bool = false, shard: DataShard = .whole, seed: UInt64 = 0, workers: Int = 2,
        prefetchBatches: Int = 4, maxPixels: UInt64 = Image.defaultMaxPixels,
        applyExifOrientation: Bool = true, transform: @escaping SampleTransform
    ) {
        precondition(batchSize > 0 && workers > 0 && prefetchBatches > 0, "DataLoader: sizes must be positive")
        self.dataset = dataset
        self.batchSize = batchSize
        self.outputSize = outputSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.shard = shard
        self.seed = seed
        self.workers = workers
        self.prefetchBatches = prefetchBatches
        self.maxPixels = maxPixels
        self.applyExifOrientation = applyExifOrientation
        self.transform = transform
    }

    /// Training loader: RandomResizedCrop + horizontal flip (p = 0.5) + normalize.
    public static func training(
        dataset: ImageDataset, batchSize: Int, size: Int, mean: [Float] = PreprocessConfig.imagenetMean,
        std: [Float] = PreprocessConfig.imagenetStd, seed: UInt64 = 0, workers: Int = 2,
        filter: ResampleFilter = .bilinear, scale: ClosedRange<Double> = 0.08...1.0,
        dropLast: Bool = false, shard: DataShard = .whole
    ) -> DataLoader {
        let crop = RandomResizedCrop(width: size, height: size, scale: scale, filter: filter)
        return DataLoader(
            dataset: dataset, batchSize: batchSize, outputSize: (size, size), shuffle: true,
            dropLast: dropLast, shard: shard, seed: seed, workers: workers
        ) { image, rng in
            var out = crop(image, using: &rng)
            if rng.bernoulli(0.5) { out = out.flippedHorizontally() }
            return out.normalizedCHW(mean: mean, std: std)
        }
    }

    /// Evaluation loader: timm's eval transform for `config`, dataset order.
    public static func evaluation(
        dataset: ImageDataset, batchSize: Int, config: PreprocessConfig,
        workers: Int = 2, applyExifOrientation: Bool = true, shard: DataShard = .whole
    ) -> DataLoader {
        DataLoader(
            dataset: dataset, batchSize: batchSize, outputSize: (config.height, config.width), shuffle: false,
            shard: shard, workers: workers, applyExifOrientation: applyExifOrientation
        ) { image, _ in try config.evalTransform(image) }
    }

    /// Sample order for `epoch`: a seeded Fisher–Yates shuffle, or dataset order; then this loader's shard of it.
    public func order(epoch: Int) -> [Int] {
        var order = Array(0..<dataset.count)
        if shuffle {
            var rng = RandomGenerator.derived(seed: seed, 0x5348_5546, UInt64(epoch))
            order.shuffle(using: &rng)
        }
        return shard.samples(of: order)
    }

    public func batchCount(epoch: Int = 0) -> Int {
        let samples = shard.sampleCount(of: dataset.count)
        return dropLast ? samples / batchSize : (samples + batchSize - 1) / batchSize
    }

    /// Batches of one epoch, in order, produced ahead by the worker threads.
    public func epoch(_ epoch: Int) -> EpochIterator { EpochIterator(loader: self, epoch: epoch) }

    /// Decodes and transforms the listed samples; damaged files are dropped with one warning each.
    func makeBatch(indices: [Int], epoch: Int) -> Batch {
        let sampleSize = 3 * outputSize.height * outputSize.width
        var images = [Float]()
        images.reserveCapacity(indices.count * sampleSize)
        var labels = [Int]()
        var kept = [Int]()
        for index in indices {
            let url = dataset.url(at: index)
            do {
                let image = try Image(contentsOf: url, maxPixels: maxPixels, applyExifOrientation: applyExifOrientation)
                var rng = RandomGenerator.derived(seed: seed, UInt64(epoch), UInt64(index))
                let values = try transform(image, &rng)
                precondition(
                    values.count == sampleSize,
                    "DataLoader transform returned \(values.count) values, expected \(sampleSize)")
                images += values
                labels.append(dataset.label(at: index))
                kept.append(index)
            } catch {
                let message = "\(error)"
                warnOnce(
                    url.path, "warning: skipping " + (message.contains(url.path) ? message : "\(url.path): \(message)"))
            }
        }
        return Batch(
            images: images, shape: [labels.count, 3, outputSize.height, outputSize.width],
            labels: labels, indices: kept)
    }

    private func warnOnce(_ key: String, _ line: String) {
        warnedLock.lock()
        let first = warned.insert(key).inserted
        warnedLock.unlock()
        if first { printWarning(line) }
    }
}

/// Hands out batches in order while worker threads fill up to `prefetchBatches` ahead.
/// Releasing the iterator early stops the workers (they hold only the shared state, not the iterator).
public final class EpochIterator: IteratorProtocol, Sequence {
    private let state: EpochState

    init(loader: DataLoader, epoch: Int) {
        let order = loader.order(epoch: epoch)
        var batches = [[Int]]()
        var start = 0
        while start < order.count {
            let end = Swift.min(start + loader.batchSize, order.count)
            if end - start == loader.batchSize || !loader.dropLast { batches.append(Array(order[start..<end])) }
            start = end
        }
        state = EpochState(loader: loader, epoch: epoch, batches: batches)
        for _ in 0..<Swift.min(loader.workers, Swift.max(batches.count, 1)) {
            let state = self.state
            let thread = Thread { state.work() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit { state.cancel() }

    public var batchCount: Int { state.batches.count }

    public func next() -> Batch? { state.next() }
}

final class EpochState: @unchecked Sendable {
    let loader: DataLoader
    let epoch: Int
    let batches: [[Int]]
    private let condition = NSCondition()
    private var ready = [Int: Batch]()
    private var nextToBuild = 0
    private var nextToReturn = 0
    private var cancelled = false

    init(loader: DataLoader, epoch: Int, batches: [[Int]]) {
        self.loader = loader
        self.epoch = epoch
        self.batches = batches
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    func work() {
        while true {
            condition.lock()
            while !cancelled && nextToBuild < batches.count && nextToBuild >= nextToReturn + loader.prefetchBatches {
                condition.wait()
            }
            if cancelled || nextToBuild >= batches.count {
                condition.unlock()
                return
            }
            let index = nextToBuild
            nextToBuild += 1
            condition.unlock()

            let batch = loader.makeBatch(indices: batches[index], epoch: epoch)

            condition.lock()
            ready[index] = batch
            condition.broadcast()
            condition.unlock()
        }
    }

    func next() -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        guard nextToReturn < batches.count else { return nil }
        while ready[nextToReturn] == nil { condition.wait() }
        let batch = ready.removeValue(forKey: nextToReturn)
        nextToReturn += 1
        condition.broadcast()
        return batch
    }
}
