/// What a training run tells its caller as it goes, and how the caller stops it: the library trains and
/// checkpoints, the command line draws progress, writes metrics.csv and plots, and turns Ctrl-C into
/// `shouldStop`. In a data-parallel run every rank polls `shouldStop` (the ranks stop together when any
/// says yes); the other events reach rank 0 only.
public struct TrainingEvents<EpochRecord> {
    /// Polled before every batch; true stops the run at that point with a checkpoint (`TrainingInterrupted`).
    public var shouldStop: () -> Bool
    /// The run begins, after `resumedStep` optimizer steps and `resumedEpoch` whole epochs (0 for a new run).
    public var started: (_ resumedEpoch: Int, _ resumedStep: Int) throws -> Void
    /// A batch is done.
    public var batchEnded: (BatchProgress) -> Void
    /// An optimizer step is done.
    public var stepEnded: (StepRecord) throws -> Void
    /// An epoch is done (and checkpointed).
    public var epochEnded: (EpochRecord) throws -> Void
    /// A line worth showing (resuming, notes).
    public var message: (String) -> Void

    public init(
        shouldStop: @escaping () -> Bool = { false },
        started: @escaping (_ resumedEpoch: Int, _ resumedStep: Int) throws -> Void = { _, _ in },
        batchEnded: @escaping (BatchProgress) -> Void = { _ in },
        stepEnded: @escaping (StepRecord) throws -> Void = { _ in },
        epochEnded: @escaping (EpochRecord) throws -> Void = { _ in },
        message: @escaping (String) -> Void = { _ in }
    ) {
        self.shouldStop = shouldStop
        self.started = started
        self.batchEnded = batchEnded
        self.stepEnded = stepEnded
        self.epochEnded = epochEnded
        self.message = message
    }
}

/// Where an epoch stands after a batch.
public struct BatchProgress: Sendable {
    /// 1-based.
    public var epoch: Int
    public var epochs: Int
    /// Batches of this epoch done, of `batches`.
    public var batch: Int
    public var batches: Int
    /// Images of this epoch so far, over all ranks.
    public var images: Int
    /// The global batch's loss.
    public var loss: Double
}

/// One optimizer step: its number (1-based, over the run), epoch (1-based), mean loss and learning rate.
public struct StepRecord: Sendable {
    public var epoch: Int
    public var step: Int
    public var loss: Double
    public var learningRate: Float
}
