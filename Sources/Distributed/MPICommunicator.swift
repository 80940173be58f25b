import CMPI
import Foundation
import NN

/// MPI_COMM_WORLD of a job started by `mpirun` (or a cluster launcher such as `srun`), through Open MPI.
/// Only the thread that initialised MPI calls it (MPI_THREAD_FUNNELED): the data loader and the kernels'
/// threads never do.
public final class MPICommunicator: Communicator {
    /// This process's rank in MPI_COMM_WORLD, 0 ..< size.
    public let rank: Int
    /// Number of ranks in MPI_COMM_WORLD.
    public let size: Int
    /// Ranks of this job on this machine, which share its cores.
    public let localSize: Int
    private let world = zoo_mpi_comm_world()
    private static let largestCount = Int(Int32.max)

    /// Whether a launcher started this process as one rank of a job. Only then is MPI initialised, so a
    /// plain `zoo` run needs no MPI runtime and behaves exactly as without this target.
    public static var isLaunched: Bool {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"].contains { environment[$0] != nil }
    }

    /// Initialises MPI for this process (call once, from the main thread).
    public init() throws {
        var provided: Int32 = 0
        let status = MPI_Init_thread(nil, nil, zoo_mpi_thread_funneled(), &provided)
        guard status == zoo_mpi_success() else { throw DistributedError.initialization(code: status) }
        guard provided >= zoo_mpi_thread_funneled() else {
            throw DistributedError.threadSupport(provided: provided)
        }
        var value: Int32 = 0
        MPI_Comm_rank(world, &value)
        rank = Int(value)
        MPI_Comm_size(world, &value)
        size = Int(value)
        localSize = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init) ?? 1
    }

    /// Sums `values` element-wise over all ranks in place (MPI_Allreduce with MPI_SUM, MPI_IN_PLACE); every rank
    /// must pass the same count.
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) {
        inPieces(values) { MPI_Allreduce(zoo_mpi_in_place(), $0, $1, zoo_mpi_float(), zoo_mpi_sum(), world) }
    }

    /// Sums `values` element-wise over all ranks in place (MPI_Allreduce with MPI_SUM, MPI_IN_PLACE); every rank
    /// must pass the same count.
    public func sum(_ values: UnsafeMutableBufferPointer<Double>) {
        inPieces(values) { MPI_Allreduce(zoo_mpi_in_place(), $0, $1, zoo_mpi_double(), zoo_mpi_sum(), world) }
    }

    /// Replaces `bytes` on every rank with rank `root`'s (MPI_Bcast of the length, then of the bytes).
    public func broadcast(_ bytes: inout [UInt8], from root: Int) {
        var length = UInt64(bytes.count)
        MPI_Bcast(&length, 8, zoo_mpi_byte(), Int32(root), world)
        if rank != root { bytes = [UInt8](repeating: 0, count: Int(length)) }
        bytes.withUnsafeMutableBufferPointer { buffer in
            inPieces(buffer) { MPI_Bcast($0, $1, zoo_mpi_byte(), Int32(root), world) }
        }
    }

    /// Calls `mpi` on `values` in pieces of at most Int32.max elements (MPI's counts are Int32).
    private func inPieces<T>(
        _ values: UnsafeMutableBufferPointer<T>, _ mpi: (UnsafeMutableRawPointer, Int32) -> Int32
    ) {
        guard let base = values.baseAddress else { return }
        for start in stride(from: 0, to: values.count, by: Self.largestCount) {
            _ = mpi(base + start, Int32(min(Self.largestCount, values.count - start)))
        }
    }

    /// Ends MPI after a run every rank finished (successfully or with the same error).
    public func finalize() { MPI_Finalize() }

    /// Ends every rank of the job at once: what one rank's error must do, since the others would wait
    /// for it in their next collective call forever.
    public func abort(status: Int32) -> Never {
        MPI_Abort(world, status)
        exit(status)
    }
}

/// Why MPI could not be started.
public enum DistributedError: Error, CustomStringConvertible {
    /// MPI_Init_thread returned the MPI error `code` instead of MPI_SUCCESS.
    case initialization(code: Int32)
    /// The library offers only thread level `provided`, below the MPI_THREAD_FUNNELED zoo needs.
    case threadSupport(provided: Int32)

    /// One line naming the MPI call or thread level at fault.
    public var description: String {
        switch self {
        case .initialization(let code): return "MPI_Init_thread failed (error \(code))"
        case .threadSupport(let provided):
            return "this MPI library provides thread level \(provided), below MPI_THREAD_FUNNELED, which zoo needs"
        }
    }
}
