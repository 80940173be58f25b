import Foundation
import NN
import Tensors

/// Keeps the replicas of a data-parallel run in step, as PyTorch DDP does: the same start, gradients
/// summed over all of them, and every decision (stop, skip, diverged) taken together, because a rank that
/// leaves the loop alone leaves the others waiting in their next collective call. With one process
/// every call returns its input.
struct DataParallel {
    let communicator: Communicator

    init(communicator: Communicator) { self.communicator = communicator }

    var isLeader: Bool { communicator.isLeader }
    var size: Int { communicator.size }

    /// What the ranks agreed on before a batch.
    struct Agreement {
        /// Images in this batch over all ranks.
        var samples: Int
        /// Some rank's batch is empty (every file failed to decode): the ranks skip this batch together.
        var someRankIsEmpty: Bool
        /// Some rank received SIGINT / SIGTERM.
        var interrupted: Bool
    }

    func agree(samples: Int, interrupted: Bool) -> Agreement {
        let totals = communicator.sum([Double(samples), samples == 0 ? 1 : 0, interrupted ? 1 : 0])
        return Agreement(samples: Int(totals[0]), someRankIsEmpty: totals[1] > 0, interrupted: totals[2] > 0)
    }

    /// The loss over the global batch from this rank's mean over its `samples` of `total`
    /// (NaN when any rank's loss is).
    func globalLoss(_ loss: Float, samples: Int, total: Int) -> Double {
        communicator.sum([Double(loss) * Double(samples)])[0] / Double(total)
    }

    /// Sums the gradients of `parameters` over the ranks: one in-place allreduce over one flat buffer (kept
    /// between steps). Each rank's loss was scaled by its share of the global batch, so the sum is the
    /// gradient of the global batch's mean loss.
    func sumGradients(_ parameters: [Tensor]) throws {
        guard size > 1 else { return }
        let total = parameters.reduce(0) { $0 + $1.count }
        if gradients.values.count != total { gradients.values = [Float](repeating: 0, count: total) }
        try gradients.values.withUnsafeMutableBufferPointer { flat in
            var offset = 0
            for p in parameters {
                if p.grad == nil { p.grad = try Tensor(zeros: p.shape) }
                p.grad!.withUnsafeMutableBufferPointer { grad in
                    (flat.baseAddress! + offset).update(from: grad.baseAddress!, count: p.count)
                }
                offset += p.count
            }
            communicator.sum(flat)
            offset = 0
            for p in parameters {
                p.grad!.withUnsafeMutableBufferPointer { grad in
                    grad.baseAddress!.update(from: flat.baseAddress! + offset, count: p.count)
                }
                offset += p.count
            }
        }
    }

    /// The flat gradient buffer, reused every step (for ViT-B it holds 450 MB).
    final class FlatBuffer {
        var values: [Float] = []
    }
    let gradients = FlatBuffer()

    /// Gives every rank rank 0's parameters and buffers (a fresh start; resuming broadcasts the checkpoint).
    func broadcastState(of model: Module) {
        guard size > 1 else { return }
        let tensors = model.stateDict().map(\.1)
        var bytes = [UInt8]()
        if isLeader {
            for t in tensors { t.withUnsafeMutableBufferPointer { bytes += UnsafeRawBufferPointer($0) } }
        }
        communicator.broadcast(&bytes, from: 0)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            for t in tensors {
                t.withUnsafeMutableBufferPointer {
                    UnsafeMutableRawBufferPointer($0).copyMemory(
                        from: .init(rebasing: raw[offset..<offset + 4 * t.count]))
                }
                offset += 4 * t.count
            }
        }
    }

    /// The file's bytes as rank 0 read them: only rank 0 needs to see the file (no shared filesystem).
    func leaderReads(_ url: URL) throws -> Data {
        var bytes = isLeader ? [UInt8](try Data(contentsOf: url)) : []
        communicator.broadcast(&bytes, from: 0)
        return Data(bytes)
    }

    /// The replicas' fingerprints of `model`, in rank order, for the checkpoint's metadata (nil for one process).
    /// Throws when they differ: the replicas drifted apart, and continuing would train different models.
    func checkedFingerprints(of model: Module) throws -> String? {
        guard size > 1 else { return nil }
        // Gathered as a sum of one-hot rows, 16 bits per Double so that the sums are exact.
        let mine = Self.fingerprint(of: model)
        var rows = [Double](repeating: 0, count: 4 * size)
        for part in 0..<4 { rows[4 * communicator.rank + part] = Double((mine >> (16 * part)) & 0xFFFF) }
        let sums = communicator.sum(rows)
        let all = (0..<size).map { r in (0..<4).reduce(UInt64(0)) { $0 | UInt64(sums[4 * r + $1]) << (16 * $1) } }
        guard Set(all).count == 1 else { throw TrainingError.replicasDiverged(fingerprints: all) }
        return all.map { String(format: "%016llx", $0) }.joined(separator: ",")
    }

    /// FNV-1a over the bits of every parameter and buffer, in state-dict order.
    static func fingerprint(of model: Module) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (_, tensor) in model.stateDict() {
            tensor.withUnsafeMutableBufferPointer { values in
                for value in values { hash = (hash ^ UInt64(value.bitPattern)) &* 0x100_0000_01b3 }
            }
        }
        return hash
    }

    /// Synchronised batch norm in every layer of `model` (torch.nn.SyncBatchNorm): the statistics of the
    /// global batch, as one process with the whole batch computes them.
    func synchronizeBatchNorms(in model: Module) {
        guard size > 1 else { return }
        for norm in model.descendants(ofType: BatchNorm2d.self) { norm.replicas = communicator }
    }
}
