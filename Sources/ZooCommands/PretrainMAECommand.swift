import ArgumentParser
import Foundation
import Models
import NN
import Randomness
import Tensors
import Training
import VisionIO

/// `zoo pretrain-mae DIR --model mae_vit_… --output OUT`: self-supervised pretraining on a folder of photos.
struct PretrainMAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain-mae",
        abstract: "Pretrain a masked autoencoder on a folder of unlabeled images.",
        discussion:
            "Writes OUT/checkpoint.safetensors (every epoch and on Ctrl-C), OUT/metrics.csv, reconstruction PNGs, "
            + "OUT/loss_curve.png and, at the end, OUT/encoder.safetensors (a timm ViT state dict).")

    @Argument(help: "Folder of images (searched recursively).") var folder: String
    @Option(help: "mae_vit_tiny_patch16, mae_vit_small_patch16 or mae_vit_base_patch16.") var model =
        "mae_vit_base_patch16"
    @Option(help: "Output folder.") var output: String
    @Option(parsing: .unconditional) var epochs = 20
    @Option(parsing: .unconditional) var batchSize = 16
    @Option(parsing: .unconditional, help: "Image size (a multiple of 16).") var imgSize = 224
    @Option(parsing: .unconditional) var maskRatio: Float = 0.75
    @Option(parsing: .unconditional, help: "Absolute learning rate (overrides --blr).") var lr: Float?
    @Option(parsing: .unconditional, help: "Base learning rate: lr = blr · batch · accum / 256.") var blr: Float =
        1.5e-4
    @Option(parsing: .unconditional) var weightDecay: Float = 0.05
    @Option(parsing: .unconditional) var warmupEpochs = 2
    @Option(parsing: .unconditional, help: "Gradient accumulation steps.") var accumSteps = 1
    @Option(parsing: .unconditional, help: "Write reconstruction grids every N epochs.") var previewEvery = 5
    @Option(parsing: .unconditional) var seed: UInt64 = 0
    @Flag(help: "Continue from OUT/checkpoint.safetensors (--epochs is the total).") var resume = false

    func validate() throws {
        guard MaskedAutoencoderRegistry.entries.contains(where: { $0.name == model }) else {
            throw ValidationError(
                "\(ModelError.unknownModel(name: model, suggestions: nearestNames(to: model, among: MaskedAutoencoderRegistry.entries.map(\.name))))"
            )
        }
        try requireOption("--epochs", epochs, in: OptionBounds.epochs)
        try requireOption("--batch-size", batchSize, in: OptionBounds.batchSize)
        try requireOption("--accum-steps", accumSteps, in: OptionBounds.accumulationSteps)
        try requireOption("--preview-every", previewEvery, in: OptionBounds.epochs)
        try requireOption("--warmup-epochs", warmupEpochs, in: 0...OptionBounds.epochs.upperBound)
        try requireOption("--img-size", imgSize, in: OptionBounds.imageSize)
        try requireBatchFits(batch: batchSize, size: imgSize)
        guard imgSize % 16 == 0 else { throw ValidationError("--img-size must be a multiple of 16, got \(imgSize)") }
        try requirePositive("--blr", blr)
        if let lr { try requirePositive("--lr", lr) }
        try requireOption("--weight-decay", weightDecay, in: OptionBounds.weightDecay)
        guard maskRatio > 0, maskRatio < 1 else { throw ValidationError("--mask-ratio must be between 0 and 1") }
    }

    func run() throws {
        Job.inLockstep = true  // the ranks train together: one rank's error must end them all
        let out = URL(fileURLWithPath: output)
        let job = Job.communicator
        // Rank 0 alone reads the checkpoint (the other ranks need no shared filesystem).
        if resume && job.isLeader
            && !FileManager.default.fileExists(atPath: out.appendingPathComponent("checkpoint.safetensors").path)
        {
            throw CommandError("\(output)/checkpoint.safetensors: nothing to resume (no checkpoint)")
        }
        let dataset = try UnlabeledImageFolder(root: URL(fileURLWithPath: folder))  // its errors name the folder
        guard dataset.count > 0 else { throw CommandError("\(folder): no images found") }
        var initial = RandomGenerator(seed: seed)
        let mae = try Initialization.using(&initial) {
            try MaskedAutoencoderRegistry.create(
                model, ["img_size": .int(imgSize), "mask_ratio": .double(Double(maskRatio))])
        }
        var config = MaskedAutoencoderPretrainingConfig()
        config.epochs = epochs
        config.batchSize = min(batchSize, dataset.count)
        config.imageSize = imgSize
        config.learningRate = lr
        config.baseLearningRate = blr
        config.weightDecay = weightDecay
        config.warmupEpochs = warmupEpochs
        config.accumulationSteps = accumSteps
        config.seed = seed
        let trainer = try MaskedAutoencoderPretrainer(
            model: mae, dataset: dataset, config: config, output: out, communicator: job)
        if job.isLeader {
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "%@: %d images, %.1fM parameters, lr %.3g%@\n", model, dataset.count,
                        Double(mae.parameterCount) / 1e6, trainer.config.effectiveLearningRate,
                        job.size > 1 ? " (\(job.size) ranks × batch \(batchSize))" : ""
                    ).utf8))
        }
        let losses = try trainer.run(
            resume: resume, events: job.isLeader ? try outputs(of: trainer, in: out) : TrainingConsole.stopOnSignals())
        if job.isLeader, let first = losses.first, let last = losses.last {
            print(
                String(
                    format: "mean loss %.4f (epoch %d) → %.4f (epoch %d); encoder: %@", first.loss, first.epoch,
                    last.loss, last.epoch,
                    out.appendingPathComponent("encoder.safetensors").path))
        }
    }

    /// Rank 0's console and files: progress, metrics.csv (a row per optimizer step), reconstruction grids
    /// every --preview-every epochs and after the last, the loss curve after every epoch.
    private func outputs(
        of trainer: MaskedAutoencoderPretrainer, in out: URL
    ) throws
        -> TrainingEvents<MaskedAutoencoderPretrainer.Epoch>
    {
        let console = TrainingConsole(
            metrics: out.appendingPathComponent("metrics.csv"), columns: ["epoch", "step", "loss", "lr"],
            resume: resume
        ) { row, _, savedStep in row.count > 1 && Int(row[1]).map { $0 <= savedStep } == true }
        let previews = try trainer.previewImages()
        return console.events(
            stepEnded: { step in
                try console.record([
                    String(step.epoch), String(step.step), String(format: "%.6f", step.loss),
                    String(format: "%.6g", step.learningRate),
                ])
            },
            epochEnded: { [epochs] finished in
                FileHandle.standardError.write(
                    Data(
                        String(
                            format: "epoch %d: mean loss %.4f, lr %.3g\n", finished.epoch, finished.loss,
                            finished.learningRate
                        ).utf8))
                if finished.epoch % previewEvery == 0 || finished.epoch == epochs,
                    let grid = try trainer.reconstructionGrid(previews)
                {
                    try grid.write(
                        to: out.appendingPathComponent(String(format: "reconstruction_epoch%03d.png", finished.epoch)))
                }
                try lossCurve(finished.history)?.write(to: out.appendingPathComponent("loss_curve.png"))
            })
    }
}
