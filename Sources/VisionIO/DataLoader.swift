// Batches of normalized CHW floats from an ImageDataset, built on worker threads with bounded prefetch.
// Determinism: the epoch order and each sample's augmentation RNG derive from (seed, epoch, index),
// so results do not depend on thread scheduling.
import Foundation
import Randomness

/// (B, 3, H, W) floats plus labels; `indices` are the dataset positions of the rows.
public struct Batch: Sendable {
    /// The normalized images, row-major `[B, 3, H, W]`.
    public var images: [Float]
    /// `[B, 3, H, W]`; B is below the loader's batch size for a short last batch or when damaged files were dropped.
    public var shape: [Int]
    /// One class index per row (-1 for unlabeled datasets).
    public var labels: [Int]
    /// The dataset index of each row.
    public var indices: [Int]
    /// Rows in the batch (B).
    public var count: Int { labels.count }
}

/// Which of each epoch's samples a loader yields: all of them, or one rank's share in a data-parallel run
/// (torch's DistributedSampler). A share takes every `count`-th sample of the epoch's order from `index`;
/// `padded` first repeats the order's start up to a multiple of `count`, so that every rank runs the same
/// number of steps (training); unpadded shares are disjoint and together hold each sample once (evaluation).
/// A global batch of `count` ranks × b images is then a contiguous run of the epoch's order, whatever `count` is.
public struct DataShard: Equatable, Sendable {
    /// This rank, in `0..<count` (torch's `rank`).
    public var index: Int
    /// The number of ranks (torch's `num_replicas`).
    public var count: Int
    /// Pad to equal shares, as DistributedSampler with `drop_last=False` does; unpadded shares differ by one at most.
    public var padded: Bool

    /// Every sample, once.
    public static let whole = DataShard(index: 0, count: 1)

    /// One rank's share; `index` outside `0..<count` is a precondition failure.
    /// - Parameters:
    ///   - index: this rank.
    ///   - count: the number of ranks, ≥ 1.
    ///   - padded: `true` for training (equal shares), `false` for evaluation (each sample exactly once).
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

/// torch's `DataLoader` for image folders: decodes, transforms and batches samples on worker threads.
/// Files that fail to decode or transform are dropped from their batch with one warning each on stderr.
public final class DataLoader: @unchecked Sendable {
    /// Where the samples come from.
    public let dataset: ImageDataset
    /// Samples per batch on this rank (before any damaged files are dropped).
    public let batchSize: Int
    /// The size every transformed sample has; a batch row is `3 × height × width` floats.
    public let outputSize: (height: Int, width: Int)
    /// Reshuffle every epoch (seeded by `seed` and the epoch), or keep dataset order.
    public let shuffle: Bool
    /// Skip the last, short batch of each epoch (torch's `drop_last`).
    public let dropLast: Bool
    /// This rank's share of each epoch.
    public let shard: DataShard
    /// Seeds the epoch orders and every sample's augmentation generator.
    public let seed: UInt64
    /// Decoding threads per epoch (at most one per batch).
    public let workers: Int
    /// How many batches the workers may build ahead of the consumer.
    public let prefetchBatches: Int
    /// The decoder's per-image pixel limit (decompression-bomb guard); larger files are skipped.
    public let maxPixels: UInt64
    /// timm / torchvision loaders ignore EXIF orientation; set false to match them on rotated photos.
    public let applyExifOrientation: Bool
    private let transform: SampleTransform
    private let warnedLock = NSLock()
    private var warned = Set<String>()

    /// A loader running `transform` on each decoded sample; batch size, workers and prefetch must be positive.
    /// - Parameters:
    ///   - dataset: the samples.
    ///   - batchSize: samples per batch.
    ///   - outputSize: the `(height, width)` that `transform` produces.
    ///   - shuffle: reshuffle every epoch rather than keep dataset order.
    ///   - dropLast: skip a short last batch.
    ///   - shard: this rank's share of each epoch; the whole epoch by default.
    ///   - seed: seeds the shuffles and each sample's generator, so results are reproducible.
    ///   - workers: decoding threads.
    ///   - prefetchBatches: batches built ahead of the consumer.
    ///   - maxPixels: the decoder's per-image pixel limit (Pillow's `MAX_IMAGE_PIXELS` by default).
    ///   - applyExifOrientation: honour EXIF rotation; `false` matches timm / torchvision.
    ///   - transform: turns an image into exactly `3 × height × width` floats (CHW).
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

    /// Batches per epoch on this rank, counting a short last batch unless `dropLast`; the same for every epoch.
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

    /// Batches in this epoch.
    public var batchCount: Int { state.batches.count }

    /// The next batch in order, waiting for the workers if needed; nil after the last one.
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
