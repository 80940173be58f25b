import Foundation
import Models
import NN
import Randomness
import Tensors
import VisionIO
import Weights

/// The MAE pretraining recipe (He et al., "Masked Autoencoders Are Scalable Vision Learners" —
/// arXiv:2111.06377, main_pretrain.py): RandomResizedCrop(0.2, 1) + flip, norm-pix loss on removed
/// patches, AdamW (0.9, 0.95) with weight decay 0.05 except biases, norms and tokens,
/// lr = blr · effective batch / 256, per-step linear warmup then half-cycle cosine. Data parallel over the
/// ranks of a `Communicator`; each sample's crop, flip and mask derive from (seed, epoch, sample), so a run's
/// result does not depend on how many ranks compute it.
public struct MaskedAutoencoderPretrainingConfig: Sendable {
    /// Epochs of the whole run (a resumed run trains up to this total).
    public var epochs = 20
    /// Images per batch on each replica (main_pretrain.py's `batch_size`).
    public var batchSize = 16
    /// Side of the square training crops, in pixels.
    public var imageSize = 224
    /// The absolute peak learning rate (main_pretrain.py's `lr`); nil derives it from `baseLearningRate`.
    public var learningRate: Float?
    /// The peak learning rate per 256 images of global batch (main_pretrain.py's `blr`).
    public var baseLearningRate: Float = 1.5e-4
    /// The rate the cosine decays to (main_pretrain.py's `min_lr`).
    public var minLearningRate: Float = 0
    /// AdamW's weight decay for weights; biases, norms and tokens get none.
    public var weightDecay: Float = 0.05
    /// Epochs of linear warmup (main_pretrain.py's `warmup_epochs`), applied per step.
    public var warmupEpochs = 2
    /// Batches whose gradients are summed before each optimizer step (main_pretrain.py's `accum_iter`).
    public var accumulationSteps = 1
    /// Seeds the crops, flips and masks (and each rank's dropout / stochastic-depth stream).
    public var seed: UInt64 = 0
    /// Image-decoding threads of the data loader.
    public var workers = 2
    /// Processes training together, each with `batchSize` images per batch (set by the trainer).
    public var replicas = 1
    /// The defaults: 20 epochs of 16 images at 224 px, blr 1.5e-4 with 2 warmup epochs, weight decay 0.05.
    public init() {}

    /// Images per optimizer step over all replicas.
    public var globalBatchSize: Int { batchSize * accumulationSteps * replicas }

    /// The peak learning rate: `learningRate` when set, else `baseLearningRate` · `globalBatchSize` / 256.
    public var effectiveLearningRate: Float {
        learningRate ?? baseLearningRate * Float(globalBatchSize) / 256
    }
}

/// Pretrains a `MaskedAutoencoder` on unlabeled images with the `MaskedAutoencoderPretrainingConfig` recipe,
/// checkpointing to `output` so that a stopped run resumes where it left off.
public final class MaskedAutoencoderPretrainer {
    /// The autoencoder being trained, in place.
    public let model: MaskedAutoencoder
    /// The recipe, with `replicas` set from the communicator.
    public let config: MaskedAutoencoderPretrainingConfig
    /// The output folder: checkpoint.safetensors and, at the end, encoder.safetensors.
    public let output: URL
    /// Only rank 0 writes to the output folder.
    let folder: OutputFolder?
    let dataset: ImageDataset
    let loader: DataLoader
    let optimizer: AdamW
    let parallel: DataParallel
    let mean = PreprocessConfig.imagenetMean, std = PreprocessConfig.imagenetStd

    /// Prepares a run: takes the output folder (rank 0 only), builds the training loader (ImageNet
    /// normalisation, bicubic crops, the last partial batch dropped when there is a full one) and AdamW.
    ///
    /// - Parameters:
    ///   - model: The autoencoder to train; its mask ratio and norm-pix setting apply.
    ///   - dataset: The images; each replica reads its shard.
    ///   - config: The recipe; `replicas` is overwritten with the communicator's size.
    ///   - output: The output folder, created if needed.
    ///   - communicator: The ranks of a data-parallel run; a single process by default.
    /// - Throws: `OutputFolderError` when the folder cannot be created or another run holds it, or
    ///   `TensorError` when the optimizer state exceeds the memory budget.
    public init(
        model: MaskedAutoencoder, dataset: ImageDataset, config: MaskedAutoencoderPretrainingConfig, output: URL,
        communicator: Communicator = SingleProcess()
    ) throws {
        var config = config
        config.replicas = communicator.size
        self.model = model
        self.config = config
        self.output = output
        self.dataset = dataset
        parallel = DataParallel(communicator: communicator)
        folder = parallel.isLeader ? try OutputFolder(output) : nil
        // Drop the last partial batch, as main_pretrain.py does: every step sees a full batch.
        let shard = DataShard(index: communicator.rank, count: communicator.size)
        loader = DataLoader.training(
            dataset: dataset, batchSize: config.batchSize, size: config.imageSize, mean: mean, std: std,
            seed: config.seed, workers: config.workers, filter: .bicubic, scale: 0.2...1.0,
            dropLast: shard.sampleCount(of: dataset.count) >= config.batchSize, shard: shard)
        optimizer = try AdamW(
            groups: weightDecayGroups(
                model, weightDecay: config.weightDecay, skip: ["cls_token", "mask_token", "pos_embed"]),
            learningRate: config.effectiveLearningRate, betas: (0.9, 0.95))
    }

    /// OUT/checkpoint.safetensors, written after every epoch and on a stop, read by `run(resume: true)`.
    public var checkpointURL: URL { output.appendingPathComponent("checkpoint.safetensors") }

    /// An epoch's number (1-based) and mean loss.
    public typealias EpochLoss = (epoch: Int, loss: Double)

    /// One finished epoch: its number (1-based), mean loss, the learning rate, and every epoch's mean loss so far.
    public struct Epoch: Sendable {
        /// Epochs completed, this one included (1-based number of this epoch).
        public var epoch: Int
        /// The mean loss over this epoch's batches.
        public var loss: Double
        /// The learning rate at the epoch's end (the one set for its last batch).
        public var learningRate: Float
        /// Every finished epoch's number and mean loss, those before a resume included.
        public var history: [EpochLoss]
    }

    /// Trains the remaining epochs (from OUT/checkpoint.safetensors when `resume`), writing the checkpoint
    /// after every epoch and on a stop, and the encoder at the end. Returns the mean loss of every epoch
    /// completed, those of a resumed run's earlier sessions included. The mask ratio is the model's.
    public func run(resume: Bool, events: TrainingEvents<Epoch> = TrainingEvents()) throws -> [EpochLoss] {
        let log = events.message
        // Where the run stands: epochs completed, images of the current epoch done (over all ranks), steps taken.
        var (epoch, samplesInEpoch, step) = (0, 0, 0)
        var epochLosses: [EpochLoss] = []
        // The current epoch's running loss, kept in checkpoints so an epoch resumed mid-way still averages all its batches.
        var epochLossSum = 0.0
        var epochBatches = 0
        // Dropout and stochastic depth (the masks come from maskNoise): a stream of each rank's own.
        var dropout = RandomGenerator(seed: config.seed &+ 1 &+ UInt64(parallel.communicator.rank) << 32)
        if resume {
            let saved = try TrainingCheckpoint.load(
                parallel.leaderReads(checkpointURL), path: checkpointURL.path, model: model, optimizer: optimizer)
            (epoch, step) = (saved.epoch, saved.step)
            samplesInEpoch = Int(saved.extra["samples_in_epoch"] ?? "0") ?? 0
            dropout = saved.generators["dropout"] ?? dropout
            epochLosses = Self.parseLosses(saved.extra["epoch_losses"])
            epochLossSum = saved.extra["epoch_loss_sum"].flatMap(Double.init) ?? 0
            epochBatches = saved.extra["epoch_batches"].flatMap(Int.init) ?? 0
        } else {
            parallel.broadcastState(of: model)
        }
        // Whole optimizer steps of the current epoch already done; with another global batch than the saved
        // run's, the images of a partly done step are seen again.
        let stepSamples = config.globalBatchSize
        if resume {
            log("resuming at epoch \(epoch + 1), image \(samplesInEpoch) of the epoch, step \(step)")
            if samplesInEpoch % stepSamples != 0 {
                log(
                    "note: the saved run stopped inside a global batch of this run's size: "
                        + "\(samplesInEpoch % stepSamples) images are seen again"
                )
            }
        }
        if parallel.isLeader { try events.started(epoch, step) }
        let batchesPerEpoch = loader.batchCount()
        guard batchesPerEpoch > 0, config.accumulationSteps <= batchesPerEpoch else {
            throw TrainingError.noOptimizerStep(
                images: dataset.count, batchSize: config.batchSize * config.replicas,
                accumulation: config.accumulationSteps)
        }
        let stepsPerEpoch = max(1, batchesPerEpoch / config.accumulationSteps)
        let schedule = WarmupCosineSchedule(
            baseLearningRate: config.effectiveLearningRate, minLearningRate: config.minLearningRate,
            warmupSteps: config.warmupEpochs * stepsPerEpoch, totalSteps: config.epochs * stepsPerEpoch)

        func save(samplesInEpoch: Int) throws {
            let fingerprints = try parallel.checkedFingerprints(of: model)
            guard parallel.isLeader else { return }
            var extra = [
                "samples_in_epoch": String(samplesInEpoch),
                "epoch_loss_sum": String(epochLossSum), "epoch_batches": String(epochBatches),
                "epoch_losses": epochLosses.map { "\($0.0):\($0.1)" }.joined(separator: ","),
            ]
            extra["replica_fingerprints"] = fingerprints
            try TrainingCheckpoint(
                epoch: epoch, step: step, generators: ["dropout": dropout], extra: extra
            )
            .save(model: model, optimizer: optimizer, to: checkpointURL)
        }

        while epoch < config.epochs {
            model.train()
            let firstBatch = samplesInEpoch / stepSamples * config.accumulationSteps
            var seen = 0
            var (stepLoss, stepBatches) = (0.0, 0)
            optimizer.zeroGrad()
            for (index, batch) in loader.epoch(epoch).enumerated() {
                if index < firstBatch { continue }  // done before the interruption
                let agreed = parallel.agree(samples: batch.count, interrupted: events.shouldStop())
                if agreed.interrupted {
                    // Saved at the last optimizer step: a partly accumulated step is redone on resume.
                    epochLossSum -= stepLoss
                    epochBatches -= stepBatches
                    try save(samplesInEpoch: index / config.accumulationSteps * stepSamples)
                    throw TrainingInterrupted(checkpoint: checkpointURL)
                }
                guard !agreed.someRankIsEmpty else { continue }
                optimizer.learningRate = schedule.learningRate(atStep: step)
                let images = try Tensor(shape: batch.shape, scalars: batch.images)
                let noise = try maskNoise(for: batch.indices, epoch: epoch)
                let local = try TrainingRandomness.using(&dropout) { try model(images, noise: noise).loss }
                let loss = parallel.globalLoss(local.item, samples: batch.count, total: agreed.samples)
                // Stop before a non-finite gradient reaches the weights; the last checkpoint stays good.
                guard loss.isFinite else {
                    throw TrainingError.diverged(loss: Float(loss), epoch: epoch + 1, step: step + 1)
                }
                // This rank's share of the global batch: summed over ranks, the gradients are the global mean's.
                let share = Float(batch.count) / Float(agreed.samples) / Float(config.accumulationSteps)
                try (local * share).backward()
                epochLossSum += loss
                epochBatches += 1
                stepLoss += loss
                stepBatches += 1
                seen += agreed.samples
                if (index + 1) % config.accumulationSteps == 0 {
                    try parallel.sumGradients(optimizer.allParameters)
                    try optimizer.step()
                    optimizer.zeroGrad()
                    step += 1
                    if parallel.isLeader {
                        try events.stepEnded(
                            StepRecord(
                                epoch: epoch + 1, step: step, loss: stepLoss / Double(stepBatches),
                                learningRate: optimizer.learningRate))
                    }
                    (stepLoss, stepBatches) = (0, 0)
                }
                if parallel.isLeader {
                    events.batchEnded(
                        BatchProgress(
                            epoch: epoch + 1, epochs: config.epochs, batch: index + 1, batches: batchesPerEpoch,
                            images: seen, loss: loss))
                }
            }
            guard epochBatches > 0 else { throw TrainingError.noUsableImages(dataset.root.path) }
            let epochLoss = epochLossSum / Double(epochBatches)
            epochLosses.append((epoch + 1, epochLoss))
            epochLossSum = 0
            epochBatches = 0
            samplesInEpoch = 0
            epoch += 1
            try save(samplesInEpoch: 0)
            if parallel.isLeader {
                try events.epochEnded(
                    Epoch(epoch: epoch, loss: epochLoss, learningRate: optimizer.learningRate, history: epochLosses))
            }
        }
        if parallel.isLeader {
            try saveSafetensors(model.encoderStateDict(), to: output.appendingPathComponent("encoder.safetensors"))
        }
        return epochLosses
    }

    /// Uniform noise that picks each sample's mask, from (seed, epoch, sample): the same for a sample
    /// whichever rank and batch it falls in.
    func maskNoise(for samples: [Int], epoch: Int) throws -> Tensor {
        let patches = model.config.patches
        let noise = try Tensor(zeros: [samples.count, patches])
        noise.withUnsafeMutableBufferPointer { values in
            for (row, sample) in samples.enumerated() {
                var generator = RandomGenerator.derived(seed: config.seed, 0x4D41_534B, UInt64(epoch), UInt64(sample))
                generator.fillUniform(values.baseAddress! + row * patches, count: patches)
            }
        }
        return noise
    }

    static func parseLosses(_ text: String?) -> [EpochLoss] {
        (text ?? "").split(separator: ",").compactMap { item in
            let parts = item.split(separator: ":")
            guard parts.count == 2, let e = Int(parts[0]), let l = Double(parts[1]) else { return nil }
            return (e, l)
        }
    }

    /// Up to four images of the dataset, centre-cropped, for `reconstructionGrid` (the same ones every epoch).
    public func previewImages() throws -> Tensor {
        let config = PreprocessConfig(
            inputSize: (3, self.config.imageSize, self.config.imageSize), mean: mean, std: std, cropPct: 1)
        var values: [Float] = []
        var count = 0
        for index in 0..<dataset.count where count < 4 {
            guard let image = try? Image(contentsOf: dataset.url(at: index)) else { continue }
            values += try config.evalTransform(image)
            count += 1
        }
        return try Tensor(shape: [count, 3, self.config.imageSize, self.config.imageSize], scalars: values)
    }

    /// Rows of original | masked | reconstruction (visible patches pasted back), as in the MAE demo.
    public func reconstructionGrid(_ images: Tensor) throws -> Image? {
        guard images.shape[0] > 0 else { return nil }
        model.eval()
        defer { model.train() }
        var rng = RandomGenerator(seed: 7)  // the same mask every time, so grids are comparable across epochs
        let (b, s, p) = (images.shape[0], config.imageSize, model.config.patchSize)
        let (pred, mask) = try withoutGrad { () throws -> (Tensor, Tensor) in
            let out = try model(images, noise: Tensor.uniform([b, model.config.patches], using: &rng))
            return (out.pred, out.mask)
        }
        // Undo the per-patch normalisation of norm_pix_loss with the original patches' statistics.
        let patches = try model.patchify(images)
        var predicted = pred
        if model.config.normPixLoss {
            let m = try patches.mean(axes: [2], keepDims: true)
            let v = try patches.variance(axes: [2], keepDims: true)
            predicted = try pred * (v + Float(1e-6)).sqrt() + m
        }
        let removed = try mask.reshaped([b, model.config.patches, 1])
        let visible = try removed.affine(scale: -1, shift: 1)
        let masked = try model.unpatchify(patches * visible)
        let reconstruction = try model.unpatchify(patches * visible + predicted * removed)
        let removedPixels = try model.unpatchify(removed.expanded(to: patches.shape)).scalars
        let original = images.scalars
        let maskedValues = masked.scalars
        let reconstructed = reconstruction.scalars
        var grid = Image(width: 3 * s + p, height: b * s + (b - 1) * (p / 2), fill: (255, 255, 255))
        let gap = p / 2
        for row in 0..<b {
            for (column, source) in [original, maskedValues, reconstructed].enumerated() {
                for y in 0..<s {
                    for x in 0..<s {
                        let gx = column * (s + gap) + x
                        let gy = row * (s + gap) + y
                        for c in 0..<3 {
                            let i = ((row * 3 + c) * s + y) * s + x
                            // Removed patches show grey in the masked column.
                            let value: Float = column == 1 && removedPixels[i] == 1 ? 0.5 : source[i] * std[c] + mean[c]
                            let byte = max(Float(0), min(Float(255), (value * 255).rounded()))
                            grid.pixels[(gy * grid.width + gx) * 3 + c] = UInt8(byte)
                        }
                    }
                }
            }
        }
        return grid
    }
}
