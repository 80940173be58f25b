import Foundation

/// Linear warmup then half-cycle cosine decay, per step (timm's CosineLRScheduler with warmup,
/// MAE's `adjust_learning_rate` evaluated at fractional epochs).
public struct WarmupCosineSchedule: Equatable, Sendable {
    /// The peak rate, reached at the end of warmup.
    public var baseLearningRate: Float
    /// The floor the cosine decays to at `totalSteps` (timm's `lr_min`).
    public var minLearningRate: Float
    /// Steps of linear warmup from 0 to `baseLearningRate`.
    public var warmupSteps: Int
    /// Steps of the whole run, warmup included; the rate stays at `minLearningRate` after them.
    public var totalSteps: Int

    /// A schedule over a run of `totalSteps` optimizer steps.
    ///
    /// - Parameters:
    ///   - baseLearningRate: The peak rate, reached at the end of warmup.
    ///   - minLearningRate: The rate at the end of the run; 0 by default.
    ///   - warmupSteps: Steps of linear warmup from 0.
    ///   - totalSteps: Steps of the whole run, warmup included (at least 1 is kept).
    public init(baseLearningRate: Float, minLearningRate: Float = 0, warmupSteps: Int, totalSteps: Int) {
        self.baseLearningRate = baseLearningRate
        self.minLearningRate = minLearningRate
        self.warmupSteps = warmupSteps
        self.totalSteps = max(totalSteps, 1)
    }

    /// The rate for the optimizer step with 0-based index `step` (0 at step 0 when there is warmup).
    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return baseLearningRate * Float(step) / Float(warmupSteps) }
        let span = max(totalSteps - warmupSteps, 1)
        let progress = min(Double(step - warmupSteps) / Double(span), 1)
        return minLearningRate + (baseLearningRate - minLearningRate) * Float(0.5 * (1 + cos(Double.pi * progress)))
    }
}
