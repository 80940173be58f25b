import Foundation
import Models
import NN
import Tensors
import VisionIO
import Weights

public enum OptimizerKind: String, CaseIterable, Sendable { case sgd, adamw, sam }

/// The supervised recipe (timm train.py in miniature): RandomResizedCrop + flip, label smoothing,
/// optional mixup / cutmix, SGD / AdamW / SAM with warmup + cosine, evaluation every epoch.
public struct SupervisedTrainingConfig: Sendable {
    public var epochs = 10
    public var batchSize = 32
    public var imageSize = 224
    public var optimizer = OptimizerKind.sgd
    public var learningRate: Float?
    public var weightDecay: Float?
    public var momentum: Float = 0.9
    public var samRho: Float = 0.05
    public var labelSmoothing: Float = 0.1
    public var mixupAlpha: Float = 0
    public var cutmixAlpha: Float = 0
    public var warmupEpochs = 1
    public var minScale = 0.08
    public var seed: UInt64 = 0
    public var workers = 2
    public init() {}

    /// Default peak learning rates per 256 images, scaled linearly with the batch: AdamW 1e-3 (at least 1e-4
    /// in all), SGD / SAM 0.4 (4× timm's `--lr-base` of 0.1; `zoo train --help` says the same).
    static let adamWLearningRatePer256: Float = 1e-3, sgdLearningRatePer256: Float = 0.4

    /// The peak learning rate: the one given, else the default per 256 images scaled to the batch.
    var resolvedLearningRate: Float {
        let scale = Float(batchSize) / 256
        return learningRate
            ?? (optimizer == .adamw
                ? max(1e-4, Self.adamWLearningRatePer256 * scale) : Self.sgdLearningRatePer256 * scale)
    }

    /// The weight decay: the one given, else 0.05 for AdamW and 1e-4 for SGD / SAM.
    var resolvedWeightDecay: Float { weightDecay ?? (optimizer == .adamw ? 0.05 : 1e-4) }
}

/// Top-1 / top-5 accuracy and mean cross-entropy.
public struct EvaluationResult: Codable, Equatable, Sendable {
    public var top1: Double
    public var top5: Double
    public var loss: Double
    public var images: Int
    /// Images whose logits held a NaN or an infinity (counted as wrong).
    public var nonFinite: Int
}

/// Scores `model` on every batch of `loader` in evaluation mode (no graph, no saved activations).
public func evaluate(_ model: any ImageClassifier, on loader: DataLoader) throws -> EvaluationResult {
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
    guard total > 0 else { throw TrainingError.noUsableImages(loader.dataset.root.path) }
    let n = Double(total)
    return EvaluationResult(
        top1: 100 * Double(correct1) / n, top5: 100 * Double(correct5) / n, loss: lossSum / n, images: total,
        nonFinite: nonFinite)
}

/// One epoch's numbers, as written to metrics.csv and printed with --json.
public struct EpochSummary: Codable, Sendable {
    public var epoch: Int
    public var train_loss: Double
    public var val_top1: Double
    public var val_top5: Double
    public var val_loss: Double
    public var best_top1: Double
    public var lr: Double
    public var images_per_s: Double
}

public final class SupervisedTrainer {
    public let model: any ImageClassifier
    public let config: SupervisedTrainingConfig
    public let trainLoader: DataLoader, valLoader: DataLoader
    public let output: URL
    let folder: OutputFolder
    let optimizer: any Optimizer
    let mixup: Mixup

    public init(
        model: any ImageClassifier, train: ImageDataset, val: ImageDataset, pretrained: PretrainedConfig,
        config: SupervisedTrainingConfig, output: URL
    ) throws {
        self.model = model
        self.config = config
        self.output = output
        folder = try OutputFolder(output)
        // The pretrained interpolation for both crops, so training and evaluation see the same resampling.
        let filter = pretrained.interpolation
        trainLoader = DataLoader.training(
            dataset: train, batchSize: config.batchSize, size: config.imageSize, mean: pretrained.mean,
            std: pretrained.std, seed: config.seed, workers: config.workers, filter: filter,
            scale: config.minScale...1.0)
        let evalConfig = PreprocessConfig(pretrained, imageSize: config.imageSize)
        valLoader = DataLoader.evaluation(
            dataset: val, batchSize: config.batchSize, config: evalConfig, workers: config.workers)
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
    /// writes last/best weights, the checkpoint and metrics.csv. Returns the per-epoch summaries run now.
    public func run(resume: Bool, report: (EpochSummary) -> Void) throws -> [EpochSummary] {
        var startEpoch = 0
        var step = 0
        var best = 0.0
        var rng = RandomGenerator(seed: config.seed)
        if resume {
            let position = try TrainingCheckpoint.load(from: checkpointURL, model: model, optimizer: optimizer)
            startEpoch = position.epoch
            step = position.step
            rng = position.generators["mixup"] ?? rng
            TrainingRandomness.generator = position.generators["dropout"] ?? TrainingRandomness.generator
            best = position.extra["best_top1"].flatMap(Double.init) ?? 0
        }
        let log = try MetricsLog(
            url: output.appendingPathComponent("metrics.csv"),
            columns: ["epoch", "train_loss", "val_top1", "val_top5", "val_loss", "lr"],
            resume: resume
        ) { row in Int(row[0]).map { $0 <= startEpoch } == true }
        let stepsPerEpoch = trainLoader.batchCount()
        let schedule = WarmupCosineSchedule(
            baseLearningRate: config.resolvedLearningRate, minLearningRate: 1e-6,
            warmupSteps: config.warmupEpochs * stepsPerEpoch, totalSteps: config.epochs * stepsPerEpoch)
        Interruption.install()
        var summaries: [EpochSummary] = []
        for epoch in startEpoch..<config.epochs {
            model.train()
            let progress = ProgressReporter(total: stepsPerEpoch, label: "epoch \(epoch + 1)/\(config.epochs)")
            var lossSum = 0.0
            var seen = 0
            var done = 0
            let start = Date()
            for batch in trainLoader.epoch(epoch) where batch.count > 0 {
                optimizer.learningRate = schedule.learningRate(atStep: step)
                var mixed = batch
                let soft = mixup.apply(to: &mixed, using: &rng).targets
                let targets = try Tensor(shape: [batch.count, model.numClasses], scalars: soft)
                let x = try Tensor(shape: mixed.shape, scalars: mixed.images)
                func lossAndBackward() throws -> Float {
                    optimizer.zeroGrad()
                    let loss = try model(x).crossEntropy(softTargets: targets)
                    // Stop before a non-finite gradient reaches the weights; the last checkpoint stays good.
                    guard loss.item.isFinite else {
                        throw TrainingError.diverged(loss: loss.item, epoch: epoch + 1, step: step + 1)
                    }
                    try loss.backward()
                    return loss.item
                }
                let loss = try lossAndBackward()
                if let sam = optimizer as? SAM {
                    try sam.perturb()
                    _ = try lossAndBackward()
                }
                try optimizer.step()
                step += 1
                done += 1
                lossSum += Double(loss) * Double(batch.count)
                seen += batch.count
                progress.update(done: done, items: seen, detail: String(format: "loss %.4f", loss))
                if Interruption.requested { break }
            }
            if Interruption.requested {
                // The epoch is incomplete: keep the last finished epoch's checkpoint as the resume point.
                throw TrainingInterrupted(checkpoint: checkpointURL)
            }
            guard seen > 0 else { throw TrainingError.noUsableImages(trainLoader.dataset.root.path) }
            let result = try evaluate(model, on: valLoader)
            guard result.nonFinite == 0, result.loss.isFinite else {
                throw TrainingError.diverged(loss: Float(result.loss), epoch: epoch + 1, step: step)
            }
            best = max(best, result.top1)
            let summary = EpochSummary(
                epoch: epoch + 1, train_loss: lossSum / Double(max(seen, 1)), val_top1: result.top1,
                val_top5: result.top5,
                val_loss: result.loss, best_top1: best, lr: Double(optimizer.learningRate),
                images_per_s: Double(seen) / Date().timeIntervalSince(start))
            try saveSafetensors(model.exportStateDict(), to: output.appendingPathComponent("last.safetensors"))
            if result.top1 >= best {
                try saveSafetensors(model.exportStateDict(), to: output.appendingPathComponent("best.safetensors"))
            }
            try TrainingCheckpoint(
                epoch: epoch + 1, step: step, generators: ["mixup": rng, "dropout": TrainingRandomness.generator],
                extra: ["best_top1": String(best)]
            ).save(model: model, optimizer: optimizer, to: checkpointURL)
            try log.append([
                String(epoch + 1), String(format: "%.5f", summary.train_loss), String(format: "%.3f", result.top1),
                String(format: "%.3f", result.top5), String(format: "%.5f", result.loss),
                String(format: "%.6g", summary.lr),
            ])
            summaries.append(summary)
            report(summary)
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

    public var description: String {
        switch self {
        case .noUsableImages(let folder): return "\(folder): no usable images (every file failed to decode)"
        case .diverged(let loss, let epoch, let step):
            return "training diverged: loss is \(loss) at epoch \(epoch), step \(step); lower the learning rate "
                + "(the last checkpoint is kept)"
        case .noOptimizerStep(let images, let batchSize, let accumulation):
            return "\(images) images make no optimizer step at batch size \(batchSize)"
                + (accumulation > 1 ? " with \(accumulation) accumulation steps" : "")
        }
    }
}

/// Training stopped on SIGINT/SIGTERM; the checkpoint of the last finished epoch is kept for --resume.
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public var checkpoint: URL
    public var description: String { "interrupted; resume with --resume (checkpoint: \(checkpoint.path))" }
}
