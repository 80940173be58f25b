import Foundation

/// Linear warmup then half-cycle cosine decay, per step (timm's CosineLRScheduler with warmup,
/// MAE's `adjust_learning_rate` evaluated at fractional epochs).
public struct WarmupCosineSchedule: Equatable, Sendable {
    public var baseLearningRate: Float
    public var minLearningRate: Float
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(baseLearningRate: Float, minLearningRate: Float = 0, warmupSteps: Int, totalSteps: Int) {
        self.baseLearningRate = baseLearningRate
        self.minLearningRate = minLearningRate
        self.warmupSteps = warmupSteps
        self.totalSteps = max(totalSteps, 1)
    }

    public func learningRate(atStep step: Int) -> Float {
        if step < warmupSteps { return baseLearningRate * Float(step) / Float(warmupSteps) }
        let span = max(totalSteps - warmupSteps, 1)
        let progress = min(Double(step - warmupSteps) / Double(span), 1)
        return minLearningRate + (baseLearningRate - minLearningRate) * Float(0.5 * (1 + cos(Double.pi * progress)))
    }
}
