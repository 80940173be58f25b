/// The processes that train one model together (data parallelism, as PyTorch DDP and Horovod): each
/// holds a replica of the model, reads its own share of the data and sums values with the others.
/// Every process must make the same calls in the same order (they are collective operations).
public protocol Communicator: AnyObject {
    /// This process's index, 0 ..< size; rank 0 alone reads checkpoints and writes outputs.
    var rank: Int { get }
    /// How many processes take part.
    var size: Int { get }
    /// Replaces `values` on every process with the element-wise sum over all processes.
    func sum(_ values: UnsafeMutableBufferPointer<Float>)
    /// Replaces `values` on every process with the element-wise sum over all processes.
    func sum(_ values: UnsafeMutableBufferPointer<Double>)
    /// Makes every process's `bytes` a copy of process `root`'s (whose length the others need not know).
    func broadcast(_ bytes: inout [UInt8], from root: Int)
}

extension Communicator {
    /// Whether this process writes checkpoints, logs and progress (rank 0).
    public var isLeader: Bool { rank == 0 }

    /// The element-wise sum of `values` over all processes.
    public func sum(_ values: [Double]) -> [Double] {
        var result = values
        result.withUnsafeMutableBufferPointer { sum($0) }
        return result
    }
}

/// One process on its own: sums and broadcasts leave values as they are.
public final class SingleProcess: Communicator {
    /// The communicator of an ordinary, non-distributed run.
    public init() {}
    /// Always 0: the only process is the leader.
    public var rank: Int { 0 }
    /// Always 1.
    public var size: Int { 1 }
    /// Leaves `values` unchanged (the sum over one process).
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) {}
    /// Leaves `values` unchanged (the sum over one process).
    public func sum(_ values: UnsafeMutableBufferPointer<Double>) {}
    /// Leaves `bytes` unchanged: this process is every root.
    public func broadcast(_ bytes: inout [UInt8], from root: Int) {}
}
