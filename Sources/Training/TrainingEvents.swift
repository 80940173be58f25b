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

    /// Handlers for the events of interest; the defaults ignore the event (and never stop the run).
    ///
    /// - Parameters:
    ///   - shouldStop: Polled before every batch on every rank; true stops the run (`TrainingInterrupted`).
    ///   - started: Called once the run begins, with the epochs and steps already done.
    ///   - batchEnded: Called after every batch.
    ///   - stepEnded: Called after every optimizer step.
    ///   - epochEnded: Called after every epoch, once it is checkpointed.
    ///   - message: Called with lines worth showing.
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
    /// Epochs of the whole run.
    public var epochs: Int
    /// Batches of this epoch done, of `batches`.
    public var batch: Int
    /// Batches per epoch on each rank.
    public var batches: Int
    /// Images of this epoch so far, over all ranks.
    public var images: Int
    /// The global batch's loss.
    public var loss: Double
}

/// One optimizer step: its number (1-based, over the run), epoch (1-based), mean loss and learning rate.
public struct StepRecord: Sendable {
    /// The epoch the step belongs to, 1-based.
    public var epoch: Int
    /// Optimizer steps taken so far in the run, this one included.
    public var step: Int
    /// The mean loss of the step's batches (over all ranks and accumulated batches).
    public var loss: Double
    /// The learning rate the step was taken with.
    public var learningRate: Float
}
