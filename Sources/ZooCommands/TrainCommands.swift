import ArgumentParser
import Foundation
import Models
import NN
import Randomness
import Tensors
import Training
import VisionIO
import Weights

/// `zoo train TRAIN --val VAL --model M --output OUT`: supervised training on ImageFolders.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train or fine-tune a model on an ImageFolder.")

    @Argument(help: "Training ImageFolder (one subfolder per class).") var train: String
    @Option(help: "Validation ImageFolder (same classes).") var val: String
    @Option(help: "Model name (timm's), with a pretrained tag for --pretrained: resnet50, resnet50.a1_in1k.") var model:
        String
    @Option(help: "Output folder: best/last.safetensors, checkpoint.safetensors, metrics.csv.") var output: String
    @Option(parsing: .unconditional) var epochs = 10
    @Option(parsing: .unconditional) var batchSize = 32
    @Option(parsing: .unconditional, help: "Training and evaluation image size.") var imgSize = 224
    @Option(help: "sgd, adamw or sam (SGD around sharpness-aware minimization).") var opt: OptimizerKind = .sgd
    @Option(parsing: .unconditional, help: "Peak learning rate (default: 0.4·B/256 for SGD/SAM, 1e-3·B/256 for AdamW).")
    var lr: Float?
    @Option(parsing: .unconditional) var weightDecay: Float?
    @Option(parsing: .unconditional, help: "SAM neighbourhood size.") var samRho: Float = 0.05
    @Option(parsing: .unconditional) var labelSmoothing: Float = 0.1
    @Option(parsing: .unconditional, help: "Mixup alpha (0 = off).") var mixup: Float = 0
    @Option(parsing: .unconditional, help: "CutMix alpha (0 = off).") var cutmix: Float = 0
    @Option(parsing: .unconditional) var warmupEpochs = 1
    @Option(parsing: .unconditional, help: "Smallest RandomResizedCrop area fraction.") var scale: Double = 0.08
    @Option(help: "Weights to start from (e.g. an MAE encoder); the classifier is re-initialised if its shape differs.")
    var initWeights: String?
    @Flag(help: "Start from the model's pretrained weights on the Hugging Face Hub (fetched once, then cached).")
    var pretrained = false
    @Option(parsing: .unconditional) var seed: UInt64 = 0
    @Flag(help: "Continue from OUT/checkpoint.safetensors (--epochs is the total).") var resume = false
    @Flag(help: "Print the final summary as JSON on the last stdout line.") var json = false

    func validate() throws {
        try requireOption("--epochs", epochs, in: OptionBounds.epochs)
        try requireOption("--batch-size", batchSize, in: OptionBounds.batchSize)
        try requireOption("--img-size", imgSize, in: OptionBounds.imageSize)
        try requireBatchFits(batch: batchSize, size: imgSize)
        try requireOption("--warmup-epochs", warmupEpochs, in: 0...OptionBounds.epochs.upperBound)
        if let lr { try requirePositive("--lr", lr) }
        if let weightDecay { try requireOption("--weight-decay", weightDecay, in: OptionBounds.weightDecay) }
        try requirePositive("--sam-rho", samRho)
        try requireOption("--label-smoothing", labelSmoothing, in: OptionBounds.labelSmoothing)
        try requireOption("--mixup", mixup, in: OptionBounds.mixAlpha)
        try requireOption("--cutmix", cutmix, in: OptionBounds.mixAlpha)
        try requireOption("--scale", scale, in: OptionBounds.cropScale)
        do { _ = try ModelRegistry.resolve(model) } catch { throw ValidationError("\(error)") }
        if pretrained && initWeights != nil {
            throw ValidationError("--pretrained and --init-weights exclude each other")
        }
    }

    func run() throws {
        Job.inLockstep = true  // the ranks train together: one rank's error must end them all
        let (entry, pretrainedConfig) = try ModelRegistry.resolve(model)
        let trainSet = try ImageFolder(root: URL(fileURLWithPath: train))
        let valSet = try ImageFolder(root: URL(fileURLWithPath: val))
        guard trainSet.classes == valSet.classes else {
            throw CommandError("\(val): classes \(valSet.classes) differ from the training classes \(trainSet.classes)")
        }
        var initial = RandomGenerator(seed: seed)
        let net = try Initialization.using(&initial) { try entry.create(["num_classes": .int(trainSet.classes.count)]) }
        if let initWeights { try loadInitialWeights(into: net, from: initWeights) }
        if pretrained {
            try loadInitialWeights(into: net, from: fetchPretrainedWeights(entry.name, pretrainedConfig).path)
        }
        var config = SupervisedTrainingConfig()
        config.epochs = epochs
        config.batchSize = batchSize
        config.imageSize = imgSize
        config.optimizer = opt
        config.learningRate = lr
        config.weightDecay = weightDecay
        config.samRho = samRho
        config.labelSmoothing = labelSmoothing
        config.mixupAlpha = mixup
        config.cutmixAlpha = cutmix
        config.warmupEpochs = warmupEpochs
        config.minScale = scale
        config.seed = seed
        let job = Job.communicator
        let trainer = try SupervisedTrainer(
            model: net, train: trainSet, val: valSet, pretrained: pretrainedConfig,
            config: config, output: URL(fileURLWithPath: output), communicator: job)
        let summaries = try trainer.run(
            resume: resume, events: job.isLeader ? outputs(in: output) : TrainingConsole.stopOnSignals())
        if json, job.isLeader, let last = summaries.last { print(try jsonString(last, pretty: false)) }
    }

    /// Rank 0's console and files: progress, a line and a metrics.csv row per epoch.
    private func outputs(in folder: String) -> TrainingEvents<EpochSummary> {
        let console = TrainingConsole(
            metrics: URL(fileURLWithPath: folder).appendingPathComponent("metrics.csv"),
            columns: ["epoch", "train_loss", "val_top1", "val_top5", "val_loss", "lr"], resume: resume
        ) { row, savedEpoch, _ in Int(row[0]).map { $0 <= savedEpoch } == true }
        return console.events { (s: EpochSummary) in
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "epoch %d: train loss %.4f, val top-1 %.2f%%, top-5 %.2f%% (best %.2f%%)\n",
                        s.epoch, s.trainLoss, s.validationTop1, s.validationTop5, s.bestTop1
                    ).utf8))
            try console.record([
                String(s.epoch), String(format: "%.5f", s.trainLoss), String(format: "%.3f", s.validationTop1),
                String(format: "%.3f", s.validationTop5), String(format: "%.5f", s.validationLoss),
                String(format: "%.6g", s.learningRate),
            ])
        }
    }

    /// Copies every tensor whose name and shape match (an MAE encoder into a ViT, a checkpoint with another head).
    private func loadInitialWeights(into net: any ImageClassifier, from path: String) throws {
        let dict: StateDict
        do { dict = try loadWeights(URL(fileURLWithPath: path)) } catch { throw CommandError("\(path): \(error)") }
        var usable = StateDict()
        let own = Dictionary(uniqueKeysWithValues: net.stateDict().map { ($0.name, $0.tensor.shape) })
        for (key, tensor) in dict where own[key] == tensor.shape { usable[key] = tensor }
        guard !usable.isEmpty else {
            throw CommandError("\(path): no tensor matches the model '\(model)' by name and shape")
        }
        try net.load(usable, strict: false)
        FileHandle.standardError.write(Data("initialised \(usable.count) of \(own.count) tensors from \(path)\n".utf8))
    }
}

/// `zoo eval DIR --model M --weights W`: top-1 / top-5 / loss with the model's eval transform.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate a model on an ImageFolder.")

    @Argument(help: "ImageFolder (one subfolder per class, sorted names = class indices).") var folder: String
    @OptionGroup var modelOptions: ModelOptions
    @Option(
        parsing: .unconditional,
        help: "Evaluate at this size (e.g. 32 for small images) instead of the pretrained input size.") var imgSize:
        Int?
    @Option(parsing: .unconditional) var batchSize = 32
    @Flag(help: "Print {\"top1\", \"top5\", \"loss\"} as JSON.") var json = false

    func validate() throws {
        try requireOption("--batch-size", batchSize, in: OptionBounds.batchSize)
        if let imgSize {
            try requireOption("--img-size", imgSize, in: OptionBounds.imageSize)
            try requireBatchFits(batch: batchSize, size: imgSize)
        }
    }

    func run() throws {
        let dataset = try ImageFolder(root: URL(fileURLWithPath: folder))
        let (pretrained, net) = try modelOptions.loadModel()
        guard net.numClasses >= dataset.classes.count else {
            throw CommandError("\(folder): \(dataset.classes.count) classes, but the model predicts \(net.numClasses)")
        }
        let loader = DataLoader.evaluation(
            dataset: dataset, batchSize: batchSize, config: PreprocessConfig(pretrained, imageSize: imgSize))
        let result = try evaluate(net, on: loader)
        if result.nonFinite > 0 {
            throw CommandError(
                "\(modelOptions.weights ?? modelOptions.model): the model's outputs are NaN or infinite for \(result.nonFinite) of "
                    + "\(result.images) images (non-finite weights?)")
        }
        if json {
            struct Output: Encodable {
                var top1: Double
                var top5: Double
                var loss: Double
            }
            print(try jsonString(Output(top1: result.top1, top5: result.top5, loss: result.loss), pretty: false))
        } else {
            print(
                String(
                    format: "top-1 %.2f%%  top-5 %.2f%%  loss %.4f  (%d images)", result.top1, result.top5, result.loss,
                    result.images))
        }
    }
}

extension OptimizerKind: ExpressibleByArgument {}
