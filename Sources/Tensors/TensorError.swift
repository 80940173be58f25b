import Foundation

/// Errors from tensor ops; each names the op and the shapes or values at fault.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    /// The op's operands have shapes it cannot combine (including ones that do not broadcast).
    case shapeMismatch(op: String, shapes: [[Int]])
    /// An initialiser got a different number of values than the shape holds.
    case scalarCountMismatch(shape: [Int], count: Int)
    /// An axis outside −rank..<rank.
    case invalidAxis(op: String, axis: Int, rank: Int)
    /// An argument the op cannot take: a tensor of the wrong rank, a window larger than the input, a label
    /// out of range, ….
    case invalidArgument(op: String, reason: String)
    /// `backward()` without a gradient on a tensor of more than one element.
    case backwardOfNonScalar(shape: [Int])
    /// `backward()` on a tensor that does not require gradients.
    case noGradient
    /// A shape with a negative size, or with more elements than an `Int` can count.
    case invalidShape(shape: [Int], reason: String)
    /// Allocating the tensor would exceed `TensorMemory.budget`, or the system refused the memory.
    case outOfMemory(shape: [Int], bytes: Int, limit: Int, inUse: Int)

    /// One line naming the op and the shapes or values at fault.
    public var description: String {
        switch self {
        case .shapeMismatch(let op, let shapes):
            return "\(op): incompatible shapes \(shapes.map { "\($0)" }.joined(separator: " and "))"
        case .scalarCountMismatch(let shape, let count):
            return "tensor of shape \(shape) needs \(shape.reduce(1, *)) values, got \(count)"
        case .invalidAxis(let op, let axis, let rank):
            return "\(op): axis \(axis) is out of range for a tensor of rank \(rank)"
        case .invalidArgument(let op, let reason):
            return "\(op): \(reason)"
        case .backwardOfNonScalar(let shape):
            return "backward() needs a scalar loss or an explicit gradient; the tensor has shape \(shape)"
        case .invalidShape(let shape, let reason):
            return "tensor shape \(shape) \(reason)"
        case .outOfMemory(let shape, let bytes, let limit, let inUse):
            return
                "cannot allocate a tensor of shape \(shape) (\(formatBytes(bytes))): tensors may use \(formatBytes(limit)) "
                + "on this machine and \(formatBytes(inUse)) are in use"
        case .noGradient:
            return
                "backward(): the tensor does not require gradients (no input requires them, or it was computed without grad)"
        }
    }
}

/// Resolves a possibly negative axis, throwing when it is out of range.
func normalizedAxis(_ axis: Int, rank: Int, op: String) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0 && a < rank else { throw TensorError.invalidAxis(op: op, axis: axis, rank: rank) }
    return a
}

func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = acc
        acc *= shape[i]
    }
    return strides
}

/// "1.5 GB", "12.0 MB": sizes in messages.
public func formatBytes(_ bytes: Int) -> String {
    let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", value, units[unit])
}
