import ArgumentParser
import Tensors

/// The stated range of each numeric option. Checked in `validate()`, so a value outside is one line
/// naming the option and its bound (exit 2) before anything is read or allocated.
enum OptionBounds {
    static let imageSize = 8...4096
    static let batchSize = 1...4096
    static let epochs = 1...100_000
    static let threads = 1...1024
    static let iterations = 1...1_000_000
    static let topK = 1...100_000
    static let accumulationSteps = 1...4096
    static let weightDecay: ClosedRange<Float> = 0...10
    static let labelSmoothing: ClosedRange<Float> = 0...0.99
    static let mixAlpha: ClosedRange<Float> = 0...1000
    static let cropScale: ClosedRange<Double> = 0.001...1
}

/// Throws "--name must be between a and b, got v" when `value` lies outside `range` (NaN included).
func requireOption<T: Comparable>(_ name: String, _ value: T, in range: ClosedRange<T>) throws {
    guard range.contains(value) else {
        throw ValidationError("\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
    }
}

/// Throws when one batch of `batch` RGB float images of `size`² would not fit the tensor memory budget.
func requireBatchFits(batch: Int, size: Int) throws {
    let bytes = batch * 3 * size * size * MemoryLayout<Float>.stride
    guard bytes <= TensorMemory.budget else {
        throw ValidationError(
            "--batch-size \(batch) at --img-size \(size) needs \(formatBytes(bytes)) for the input alone; "
                + "tensors may use \(formatBytes(TensorMemory.budget)) on this machine")
    }
}

/// Throws unless `value` is a positive finite number (learning rates, SAM's rho).
func requirePositive(_ name: String, _ value: Float) throws {
    guard value > 0, value.isFinite else { throw ValidationError("\(name) must be a positive number, got \(value)") }
}
