import Foundation
import Models
import NN
import Randomness
import Tensors
import VisionIO
import Weights

/// The optimizer of a supervised run (`zoo train --opt`): SGD with Nesterov momentum, AdamW, or SAM around
/// SGD with plain momentum.
public enum OptimizerKind: String, CaseIterable, Sendable { case sgd, adamw, sam }

/// The supervised recipe (timm train.py in miniature): RandomResizedCrop + flip, label smoothing,
/// optional mixup / cutmix, SGD / AdamW / SAM with warmup + cosine, evaluation every epoch.
public struct SupervisedTrainingConfig: Sendable {
    /// Epochs of the whole run (a resumed run trains up to this total).
    public var epochs = 10
    /// Images per batch on each replica.
    public var batchSize = 32
    /// Side of the square training and evaluation crops, in pixels.
    public var imageSize = 224
    /// The optimizer; SGD by default.
    public var optimizer = OptimizerKind.sgd
    /// The peak learning rate; nil scales a per-optimizer default to the global batch.
    public var learningRate: Float?
    /// The weight decay of weights (biases and norms get none); nil means 0.05 for AdamW, 1e-4 for SGD / SAM.
    public var weightDecay: Float?
    /// SGD's momentum (timm's `--momentum`), also for SAM's inner SGD.
    public var momentum: Float = 0.9
    /// SAM's neighbourhood radius ρ.
    public var samRho: Float = 0.05
    /// timm's `--smoothing`: the probability mass spread evenly over all classes.
    public var labelSmoothing: Float = 0.1
    /// timm's `--mixup`: the Beta(α, α) parameter of mixup; 0 turns it off.
    public var mixupAlpha: Float = 0
    /// timm's `--cutmix`: the Beta(α, α) parameter of cutmix; 0 turns it off.
    public var cutmixAlpha: Float = 0
    /// Epochs of linear warmup (timm's `--warmup-epochs`), applied per step.
    public var warmupEpochs = 1
    /// The smallest crop area fraction of RandomResizedCrop (timm's `--scale` lower bound).
    public var minScale = 0.08
    /// Seeds the crops, flips and mixup (and each rank's dropout / stochastic-depth stream).
    public var seed: UInt64 = 0
    /// Image-decoding threads of each data loader.
    public var workers = 2
    /// Processes training together, each with `batchSize` images per batch (set by the trainer).
    public var replicas = 1
    /// The defaults: 10 epochs of 32 images at 224 px with SGD, label smoothing 0.1 and 1 warmup epoch.
    public init() {}

    /// Default peak learning rates per 256 images, scaled linearly with the batch: AdamW 1e-3 (at least 1e-4
    /// in all), SGD / SAM 0.4 (4× timm's `--lr-base` of 0.1; `zoo train --help` says the same).
    static let adamWLearningRatePer256: Float = 1e-3, sgdLearningRatePer256: Float = 0.4

    /// The peak learning rate: the one given, else the default per 256 images scaled to the global batch.
    var resolvedLearningRate: Float {
        let scale = Float(batchSize * replicas) / 256
        return learningRate
            ?? (optimizer == .adamw
                ? max(1e-4, Self.adamWLearningRatePer256 * scale) : Self.sgdLearningRatePer256 * scale)
    }

    /// The weight decay: the one given, else 0.05 for AdamW and 1e-4 for SGD / SAM.
    var resolvedWeightDecay: Float { weightDecay ?? (optimizer == .adamw ? 0.05 : 1e-4) }
}

/// Top-1 / top-5 accuracy and mean cross-entropy.
public struct EvaluationResult: Codable, Equatable, Sendable {
    /// Top-1 accuracy in percent (0–100) of all images scored.
    public var top1: Double
    /// Top-5 accuracy in percent (0–100) of all images scored.
    public var top5: Double
    /// The mean cross-entropy per image.
    public var loss: Double
    /// Images scored, over all replicas.
    public var images: Int
    /// Images whose logits held a NaN or an infinity (counted as wrong).
    public var nonFinite: Int
}

/// Scores `model` on every batch of `loader` in evaluation mode (no graph, no saved activations); with several
/// replicas, each scores its shard of the data and the counts are summed.
public func evaluate(
    _ model: any ImageClassifier, on loader: DataLoader, communicator: Communicator = SingleProcess()
) throws -> EvaluationResult {
    model.eval()
    var correct1 = 0
    var correct5 = 0
    var total = 0
    var nonFinite = 0
    var lossSum = 0.0
    for batch in loader.epoch(0) where batch.count > 0 {
        let x = try Tensor(shape: batch.shape, scalars: batch.images)
        let logits = try withoutGrad { try model(x) }
        lossSum += Double(try withoutGrad { try logits.crossEntropy(labels: batch.labels) }.item) * Double(batch.count)
        let classes = logits.shape[1]
        let values = logits.scalars
        for (row, label) in batch.labels.enumerated() {
            let scores = values[row * classes..<(row + 1) * classes]
            // NaN compares false with everything, so it would rank first: never count it as correct.
            guard scores.allSatisfy(\.isFinite) else {
                nonFinite += 1
                continue
            }
            let rank = scores.filter { $0 > scores[row * classes + label] }.count
            if rank < 1 { correct1 += 1 }
            if rank < 5 { correct5 += 1 }
        }
        total += batch.count
    }
    let sums = communicator.sum([Double(correct1), Double(correct5), Double(total), Double(nonFinite), lossSum])
    guard sums[2] > 0 else { throw TrainingError.noUsableImages(loader.dataset.root.path) }
    let n = sums[2]
    return EvaluationResult(
        top1: 100 * sums[0] / n, top5: 100 * sums[1] / n, loss: sums[4] / n, images: Int(n), nonFinite: Int(sums[3]))
}

/// One epoch's numbers, as written to metrics.csv and printed with --json.
public struct EpochSummary: Codable, Sendable {
    /// The epoch's number, 1-based.
    public var epoch: Int
    /// The mean training loss per image (against the mixed, smoothed targets).
    public var trainLoss: Double
    /// Validation top-1 accuracy in percent.
    public var validationTop1: Double
    /// Validation top-5 accuracy in percent.
    public var validationTop5: Double
    /// The mean validation cross-entropy.
    public var validationLoss: Double
    /// The best validation top-1 so far in the run, this epoch included.
    public var bestTop1: Double
    /// The learning rate at the epoch's end (the one of its last step).
    public var learningRate: Double
    /// Training images over all replicas per second of the epoch's wall time (its evaluation included).
    public var imagesPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case epoch
        case trainLoss = "train_loss"
        case validationTop1 = "val_top1"
        case validationTop5 = "val_top5"
        case validationLoss = "val_loss"
        case bestTop1 = "best_top1"
        case learningRate = "lr"
        case imagesPerSecond = "images_per_s"
    }
}

/// Fine-tunes or trains an `ImageClassifier` on labelled image folders with the `SupervisedTrainingConfig`
/// recipe, writing last / best weights and a resumable checkpoint to `output` after every epoch.
public final class SupervisedTrainer {
    /// The classifier being trained, in place.
    public let model: any ImageClassifier
    /// The recipe, with `replicas` set from the communicator.
    public let config: SupervisedTrainingConfig
    /// The training loader (augmented crops, this replica's shard) and the validation loader (centre crops).
    public let trainLoader: DataLoader, valLoader: DataLoader
    /// The output folder: last.safetensors, best.safetensors and checkpoint.safetensors.
    public let output: URL
    /// Only rank 0 writes to the output folder.
    let folder: OutputFolder?
    let optimizer: any Optimizer
    let mixup: Mixup
    let parallel: DataParallel

    /// With several replicas (`communicator`), each trains on its shard of every epoch with synchronised batch
    /// norm, and mixup / cutmix pair images within each replica's batch (as timm under DDP).
    public init(
        model: any ImageClassifier, train: ImageDataset, val: ImageDataset, pretrained: PretrainedConfig,
        config: SupervisedTrainingConfig, output: URL, communicator: Communicator = SingleProcess()
    ) throws {
        var config = config
        config.replicas = communicator.size
        self.model = model
        self.config = config
        self.output = output
        parallel = DataParallel(communicator: communicator)
        folder = parallel.isLeader ? try OutputFolder(output) : nil
        parallel.synchronizeBatchNorms(in: model)
        // The pretrained interpolation for both crops, so training and evaluation see the same resampling.
        let filter = pretrained.interpolation
        trainLoader = DataLoader.training(
            dataset: train, batchSize: config.batchSize, size: config.imageSize, mean: pretrained.mean,
            std: pretrained.std, seed: config.seed, workers: config.workers, filter: filter,
            scale: config.minScale...1.0, shard: DataShard(index: communicator.rank, count: communicator.size))
        let evalConfig = PreprocessConfig(pretrained, imageSize: config.imageSize)
        valLoader = DataLoader.evaluation(
            dataset: val, batchSize: config.batchSize, config: evalConfig, workers: config.workers,
            shard: DataShard(index: communicator.rank, count: communicator.size, padded: false))
        let groups = weightDecayGroups(model, weightDecay: config.resolvedWeightDecay)
        switch config.optimizer {
        case .sgd:
            optimizer = try SGD(
                groups: groups, learningRate: config.resolvedLearningRate, momentum: config.momentum, nesterov: true)
        case .adamw: optimizer = try AdamW(groups: groups, learningRate: config.resolvedLearningRate)
        case .sam:
            optimizer = SAM(
                base: try SGD(groups: groups, learningRate: config.resolvedLearningRate, momentum: config.momentum),
                rho: config.samRho)
        }
        // With both alphas 0 this only smooths the labels (λ stays 1).
        mixup = Mixup(
            mixupAlpha: Double(config.mixupAlpha), cutmixAlpha: Double(config.cutmixAlpha),
            labelSmoothing: Double(config.labelSmoothing), classes: model.numClasses)
    }

    var checkpointURL: URL { output.appendingPathComponent("checkpoint.safetensors") }

    /// Trains the remaining epochs (resuming from OUT/checkpoint.safetensors when asked), evaluating each;
    /// writes last/best weights and the checkpoint after every epoch. Returns the per-epoch summaries run now;
    /// `events` sees each as it ends.
    public func run(resume: Bool, events: TrainingEvents<EpochSummary> = TrainingEvents()) throws -> [EpochSummary] {
        var startEpoch = 0
        var step = 0
        var best = 0.0
        var rng = RandomGenerator(seed: config.seed)
        // Dropout and stochastic depth: a stream of each rank's own, so the ranks drop different paths.
        var dropout = RandomGenerator(seed: config.seed &+ 1 &+ UInt64(parallel.communicator.rank) << 32)
        if resume {
            let position = try TrainingCheckpoint.load(
                parallel.leaderReads(checkpointURL), path: checkpointURL.path, model: model, optimizer: optimizer)
            startEpoch = position.epoch
            step = position.step
            rng = position.generators["mixup"] ?? rng
            dropout = position.generators["dropout"] ?? dropout
            best = position.extra["best_top1"].flatMap(Double.init) ?? 0
        } else {
            parallel.broadcastState(of: model)
        }
        if parallel.isLeader { try events.started(startEpoch, step) }
        let stepsPerEpoch = trainLoader.batchCount()
        let schedule = WarmupCosineSchedule(
            baseLearningRate: config.resolvedLearningRate, minLearningRate: 1e-6,
            warmupSteps: config.warmupEpochs * stepsPerEpoch, totalSteps: config.epochs * stepsPerEpoch)
        var summaries: [EpochSummary] = []
        for epoch in startEpoch..<config.epochs {
            model.train()
            var lossSum = 0.0
            var seen = 0
            var done = 0
            var interrupted = false
            let start = Date()
            for batch in trainLoader.epoch(epoch) {
                let agreed = parallel.agree(samples: batch.count, interrupted: events.shouldStop())
                interrupted = agreed.interrupted
                if interrupted { break }
                guard !agreed.someRankIsEmpty else { continue }
                optimizer.learningRate = schedule.learningRate(atStep: step)
                var mixed = batch
                let soft = mixup.apply(to: &mixed, using: &rng).targets
                let targets = try Tensor(shape: [batch.count, model.numClasses], scalars: soft)
                let x = try Tensor(shape: mixed.shape, scalars: mixed.images)
                // This rank's share of the global batch: summed over ranks, the gradients are the global mean's.
                func lossAndBackward() throws -> Double {
                    optimizer.zeroGrad()
                    let loss = try model(x).crossEntropy(softTargets: targets)
                    let global = parallel.globalLoss(loss.item, samples: batch.count, total: agreed.samples)
                    // Stop before a non-finite gradient reaches the weights; the last checkpoint stays good.
                    guard global.isFinite else {
                        throw TrainingError.diverged(loss: Float(global), epoch: epoch + 1, step: step + 1)
                    }
                    try (loss * (Float(batch.count) / Float(agreed.samples))).backward()
                    try parallel.sumGradients(optimizer.allParameters)
                    return global
                }
                let loss = try TrainingRandomness.using(&dropout) { try lossAndBackward() }
                if let sam = optimizer as? SAM {
                    try sam.perturb()
                    _ = try TrainingRandomness.using(&dropout) { try lossAndBackward() }
                }
                try optimizer.step()
                step += 1
                done += 1
                lossSum += loss * Double(agreed.samples)
                seen += agreed.samples
                if parallel.isLeader {
                    events.batchEnded(
                        BatchProgress(
                            epoch: epoch + 1, epochs: config.epochs, batch: done, batches: stepsPerEpoch,
                            images: seen, loss: loss))
                }
            }
            if interrupted {
                // The epoch is incomplete: keep the last finished epoch's checkpoint as the resume point.
                throw TrainingInterrupted(checkpoint: checkpointURL)
            }
            guard seen > 0 else { throw TrainingError.noUsableImages(trainLoader.dataset.root.path) }
            let result = try evaluate(model, on: valLoader, communicator: parallel.communicator)
            guard result.nonFinite == 0, result.loss.isFinite else {
                throw TrainingError.diverged(loss: Float(result.loss), epoch: epoch + 1, step: step)
            }
            best = max(best, result.top1)
            let summary = EpochSummary(
                epoch: epoch + 1, trainLoss: lossSum / Double(max(seen, 1)), validationTop1: result.top1,
                validationTop5: result.top5, validationLoss: result.loss, bestTop1: best,
                learningRate: Double(optimizer.learningRate),
                imagesPerSecond: Double(seen) / Date().timeIntervalSince(start))
            summaries.append(summary)
            let fingerprints = try parallel.checkedFingerprints(of: model)
            guard parallel.isLeader else { continue }  // rank 0 writes the outputs
            try saveSafetensors(model.exportStateDict(), to: output.appendingPathComponent("last.safetensors"))
            if result.top1 >= best {
                try saveSafetensors(model.exportStateDict(), to: output.appendingPathComponent("best.safetensors"))
            }
            var extra = ["best_top1": String(best)]
            extra["replica_fingerprints"] = fingerprints
            try TrainingCheckpoint(
                epoch: epoch + 1, step: step, generators: ["mixup": rng, "dropout": dropout],
                extra: extra
            ).save(model: model, optimizer: optimizer, to: checkpointURL)
            try events.epochEnded(summary)
        }
        return summaries
    }
}

/// Why a run stopped without a result; the last checkpoint (if any) is left as it was.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// Every image of the folder failed to decode (each was reported), so there is nothing to learn or score.
    case noUsableImages(String)
    /// The loss (or the validation outputs) became NaN or infinite.
    case diverged(loss: Float, epoch: Int, step: Int)
    /// Too few images for one batch, or for one optimizer step after gradient accumulation.
    case noOptimizerStep(images: Int, batchSize: Int, accumulation: Int)
    /// The replicas of a data-parallel run hold different weights after the same steps.
    case replicasDiverged(fingerprints: [UInt64])

    /// The message shown to the user, with what to do where there is something to do.
    public var description: String {
        switch self {
        case .noUsableImages(let folder): return "\(folder): no usable images (every file failed to decode)"
        case .diverged(let loss, let epoch, let step):
            return "training diverged: loss is \(loss) at epoch \(epoch), step \(step); lower the learning rate "
                + "(the last checkpoint is kept)"
        case .noOptimizerStep(let images, let batchSize, let accumulation):
            return "\(images) images make no optimizer step at batch size \(batchSize)"
                + (accumulation > 1 ? " with \(accumulation) accumulation steps" : "")
        case .replicasDiverged(let fingerprints):
            return "the ranks' weights differ after the same steps (fingerprints "
                + fingerprints.map { String(format: "%016llx", $0) }.joined(separator: ", ")
                + "); the last checkpoint is kept"
        }
    }
}

/// Training stopped on SIGINT/SIGTERM; the checkpoint of the last finished epoch is kept for --resume.
public struct TrainingInterrupted: Error, CustomStringConvertible {
    /// The checkpoint a `--resume` run continues from.
    public var checkpoint: URL
    /// The message shown to the user, naming the checkpoint.
    public var description: String { "interrupted; resume with --resume (checkpoint: \(checkpoint.path))" }
}
