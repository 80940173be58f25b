import Foundation
import Models
import NN
import Tensors
import VisionIO
import Weights

/// The MAE pretraining recipe (He et al., "Masked Autoencoders Are Scalable Vision Learners" —
/// arXiv:2111.06377, main_pretrain.py): RandomResizedCrop(0.2, 1) + flip, norm-pix loss on removed
/// patches, AdamW (0.9, 0.95) with weight decay 0.05 except biases, norms and tokens,
/// lr = blr · effective batch / 256, per-step linear warmup then half-cycle cosine.
public struct MaskedAutoencoderPretrainingConfig: Sendable {
    public var epochs = 20
    public var batchSize = 16
    public var imageSize = 224
    public var maskRatio: Float = 0.75
    public var learningRate: Float?
    public var baseLearningRate: Float = 1.5e-4
    public var minLearningRate: Float = 0
    public var weightDecay: Float = 0.05
    public var warmupEpochs = 2
    public var accumulationSteps = 1
    public var seed: UInt64 = 0
    public var workers = 2
    /// Reconstruction grids every this many epochs (and after the last).
    public var previewEvery = 5
    public init() {}

    public var effectiveLearningRate: Float {
        learningRate ?? baseLearningRate * Float(batchSize * accumulationSteps) / 256
    }
}

/// Where a run stands: epochs completed, batches of the current epoch done, optimizer steps taken.
struct PretrainingPosition {
    var epoch = 0, batchInEpoch = 0, step = 0
}

public final class MaskedAutoencoderPretrainer {
    public let model: MaskedAutoencoder
    public let config: MaskedAutoencoderPretrainingConfig
    public let output: URL
    let folder: OutputFolder
    let dataset: ImageDataset
    let loader: DataLoader
    let optimizer: AdamW
    let mean = PreprocessConfig.imagenetMean, std = PreprocessConfig.imagenetStd

    public init(
        model: MaskedAutoencoder, dataset: ImageDataset, config: MaskedAutoencoderPretrainingConfig, output: URL
    ) throws {
        self.model = model
        self.config = config
        self.output = output
        self.dataset = dataset
        folder = try OutputFolder(output)
        // Drop the last partial batch, as main_pretrain.py does: every step sees a full batch.
        loader = DataLoader.training(
            dataset: dataset, batchSize: config.batchSize, size: config.imageSize, mean: mean, std: std,
            seed: config.seed, workers: config.workers, filter: .bicubic, scale: 0.2...1.0,
            dropLast: dataset.count >= config.batchSize)
        optimizer = try AdamW(
            groups: weightDecayGroups(
                model, weightDecay: config.weightDecay, skip: ["cls_token", "mask_token", "pos_embed"]),
            learningRate: config.effectiveLearningRate, betas: (0.9, 0.95))
    }

    public var checkpointURL: URL { output.appendingPathComponent("checkpoint.safetensors") }

    /// Mean loss of each epoch run now (epoch number, loss).
    public func run(resume: Bool, log: (String) -> Void = { _ in }) throws -> [(epoch: Int, loss: Double)] {
        var position = PretrainingPosition()
        var maskGenerator = RandomGenerator(seed: config.seed &+ 0x4D41_45)
        var epochLosses: [(Int, Double)] = []
        // The current epoch's running loss, kept in checkpoints so an epoch resumed mid-way still averages all its batches.
        var epochLossSum = 0.0
        var epochBatches = 0
        if resume {
            let saved = try TrainingCheckpoint.load(from: checkpointURL, model: model, optimizer: optimizer)
            position = PretrainingPosition(
                epoch: saved.epoch, batchInEpoch: Int(saved.extra["batch_in_epoch"] ?? "0") ?? 0, step: saved.step)
            maskGenerator = saved.generators["mask"] ?? maskGenerator
            TrainingRandomness.generator = saved.generators["dropout"] ?? TrainingRandomness.generator
            epochLosses = Self.parseLosses(saved.extra["epoch_losses"])
            epochLossSum = saved.extra["epoch_loss_sum"].flatMap(Double.init) ?? 0
            epochBatches = saved.extra["epoch_batches"].flatMap(Int.init) ?? 0
            log("resuming at epoch \(position.epoch + 1), batch \(position.batchInEpoch), step \(position.step)")
        }
        let savedStep = position.step
        let metrics = try MetricsLog(
            url: output.appendingPathComponent("metrics.csv"), columns: ["epoch", "step", "loss", "lr"],
            resume: resume
        ) { row in row.count > 1 && Int(row[1]).map { $0 <= savedStep } == true }
        let batchesPerEpoch = loader.batchCount()
        guard batchesPerEpoch > 0, config.accumulationSteps <= batchesPerEpoch else {
            throw TrainingError.noOptimizerStep(
                images: dataset.count, batchSize: config.batchSize, accumulation: config.accumulationSteps)
        }
        let stepsPerEpoch = max(1, batchesPerEpoch / config.accumulationSteps)
        let schedule = WarmupCosineSchedule(
            baseLearningRate: config.effectiveLearningRate, minLearningRate: config.minLearningRate,
            warmupSteps: config.warmupEpochs * stepsPerEpoch, totalSteps: config.epochs * stepsPerEpoch)
        let previewImages = try previewBatch()
        Interruption.install()

        func save(batchInEpoch: Int) throws {
            try TrainingCheckpoint(
                epoch: position.epoch, step: position.step,
                generators: ["mask": maskGenerator, "dropout": TrainingRandomness.generator],
                extra: [
                    "batch_in_epoch": String(batchInEpoch),
                    "epoch_loss_sum": String(epochLossSum), "epoch_batches": String(epochBatches),
                    "epoch_losses": epochLosses.map { "\($0.0):\($0.1)" }.joined(separator: ","),
                ]
            )
            .save(model: model, optimizer: optimizer, to: checkpointURL)
        }

        while position.epoch < config.epochs {
            let epoch = position.epoch
            model.train()
            let progress = ProgressReporter(total: batchesPerEpoch, label: "epoch \(epoch + 1)/\(config.epochs)")
            var seen = 0
            optimizer.zeroGrad()
            for (index, batch) in loader.epoch(epoch).enumerated() {
                if index < position.batchInEpoch { continue }  // done before the interruption
                guard batch.count > 0 else { continue }
                optimizer.learningRate = schedule.learningRate(atStep: position.step)
                let images = try Tensor(shape: batch.shape, scalars: batch.images)
                let noise = try Tensor.uniform([batch.count, model.config.patches], using: &maskGenerator)
                let loss = try model(images, noise: noise).loss
                // Stop before a non-finite gradient reaches the weights; the last checkpoint stays good.
                guard loss.item.isFinite else {
                    throw TrainingError.diverged(loss: loss.item, epoch: epoch + 1, step: position.step + 1)
                }
                try (loss * (1 / Float(config.accumulationSteps))).backward()
                if (index + 1) % config.accumulationSteps == 0 {
                    try optimizer.step()
                    optimizer.zeroGrad()
                    position.step += 1
                }
                epochLossSum += Double(loss.item)
                epochBatches += 1
                seen += batch.count
                try metrics.append([
                    String(epoch + 1), String(position.step), String(format: "%.6f", loss.item),
                    String(format: "%.6g", optimizer.learningRate),
                ])
                progress.update(done: index + 1, items: seen, detail: String(format: "loss %.4f", loss.item))
                if Interruption.requested {
                    try save(batchInEpoch: index + 1)
                    throw TrainingInterrupted(checkpoint: checkpointURL)
                }
            }
            guard epochBatches > 0 else { throw TrainingError.noUsableImages(dataset.root.path) }
            let epochLoss = epochLossSum / Double(epochBatches)
            epochLosses.append((epoch + 1, epochLoss))
            epochLossSum = 0
            epochBatches = 0
            log(String(format: "epoch %d: mean loss %.4f, lr %.3g", epoch + 1, epochLoss, optimizer.learningRate))
            position.epoch += 1
            position.batchInEpoch = 0
            try save(batchInEpoch: 0)
            if position.epoch % config.previewEvery == 0 || position.epoch == config.epochs {
                try writeReconstructions(
                    previewImages, name: String(format: "reconstruction_epoch%03d.png", position.epoch))
            }
            try writeLossCurve(epochLosses)
        }
        try saveSafetensors(model.encoderStateDict(), to: output.appendingPathComponent("encoder.safetensors"))
        return epochLosses
    }

    static func parseLosses(_ text: String?) -> [(Int, Double)] {
        (text ?? "").split(separator: ",").compactMap { item in
            let parts = item.split(separator: ":")
            guard parts.count == 2, let e = Int(parts[0]), let l = Double(parts[1]) else { return nil }
            return (e, l)
        }
    }

    /// Up to four images, centre-cropped, shown in every reconstruction grid.
    func previewBatch() throws -> Tensor {
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
    func writeReconstructions(_ images: Tensor, name: String) throws {
        guard images.shape[0] > 0 else { return }
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
        try grid.write(to: output.appendingPathComponent(name))
    }

    /// Mean loss per epoch as a small PNG line chart (no plotting library on the machine).
    func writeLossCurve(_ losses: [(Int, Double)]) throws {
        guard losses.count >= 1 else { return }
        let (width, height, margin) = (480, 240, 24)
        var chart = Image(width: width, height: height, fill: (255, 255, 255))
        let values = losses.map(\.1)
        let low = values.min()!
        let high = max(values.max()!, low + 1e-9)
        func point(_ i: Int) -> (Int, Int) {
            let x = margin + (losses.count == 1 ? 0 : i * (width - 2 * margin) / (losses.count - 1))
            let y = height - margin - Int((values[i] - low) / (high - low) * Double(height - 2 * margin))
            return (x, y)
        }
        func plot(_ x: Int, _ y: Int, _ color: (UInt8, UInt8, UInt8)) {
            guard x >= 0, x < width, y >= 0, y < height else { return }
            let o = (y * width + x) * 3
            chart.pixels[o] = color.0
            chart.pixels[o + 1] = color.1
            chart.pixels[o + 2] = color.2
        }
        for x in margin..<(width - margin) { plot(x, height - margin, (0, 0, 0)) }
        for y in margin..<(height - margin) { plot(margin, y, (0, 0, 0)) }
        for i in 0..<losses.count {
            let (x0, y0) = point(i)
            let (x1, y1) = point(min(i + 1, losses.count - 1))
            let steps = max(abs(x1 - x0), abs(y1 - y0), 1)
            for t in 0...steps {
                let x = x0 + (x1 - x0) * t / steps
                let y = y0 + (y1 - y0) * t / steps
                for dy in -1...1 { plot(x, y + dy, (31, 119, 180)) }
            }
            for dx in -2...2 { for dy in -2...2 { plot(x0 + dx, y0 + dy, (214, 39, 40)) } }
        }
        try chart.write(to: output.appendingPathComponent("loss_curve.png"))
    }
}
