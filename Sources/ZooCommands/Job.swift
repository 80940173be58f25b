import ArgumentParser
import Distributed
import Foundation
import Kernels
import NN
import Training

/// The processes a command runs in: this one alone, or the ranks of a job started by `mpirun` (or `srun`).
/// The same commands then become data-parallel (pretrain-mae, train) or sharded (classify).
enum Job {
    // Written once by `start()`, before any command or thread runs; read-only afterwards.
    nonisolated(unsafe) private(set) static var communicator: Communicator = SingleProcess()
    /// Set by commands whose ranks call collectives (training): from then on a rank must not leave alone.
    nonisolated(unsafe) static var inLockstep = false

    /// Under an MPI launcher: initialises MPI and shares this machine's cores among its ranks.
    static func start() throws {
        guard MPICommunicator.isLaunched else { return }
        let mpi = try MPICommunicator()
        communicator = mpi
        Threads.set(max(1, Threads.count / mpi.localSize))
    }

    /// Ends the process (every rank, for a job) with `status`.
    static func exit(status: Int32) -> Never {
        (communicator as? MPICommunicator)?.finalize()
        Foundation.exit(status)
    }

    /// Reports `error` with `report` and ends. Errors every rank reaches together (bad usage, an
    /// interruption, diverged training) are reported once, by rank 0. Ranks that work on their own (classify)
    /// each report theirs. Any other error in lockstep is one rank's and would leave the others waiting for
    /// it forever, so it ends every rank of the job at once (MPI_Abort).
    static func fail(
        _ error: Error, reachedByEveryRank: Bool, message: String, report: () -> Never
    ) -> Never {
        guard let mpi = communicator as? MPICommunicator else { report() }
        let together = reachedByEveryRank || error is TrainingInterrupted || error is TrainingError
        if mpi.size == 1 || !inLockstep || together {
            mpi.finalize()
            if mpi.isLeader || !together { report() }
            Foundation.exit(ExitCode.failure.rawValue)
        }
        FileHandle.standardError.write(Data("zoo: rank \(mpi.rank) of \(mpi.size): \(message)\n".utf8))
        mpi.abort(status: ExitCode.failure.rawValue)
    }
}
