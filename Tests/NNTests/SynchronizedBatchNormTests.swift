import Foundation
import Randomness
import XCTest

@testable import NN
@testable import Tensors

/// Replicas in one process, one thread each: `sum` waits until every member has brought its values.
private final class ThreadGroup: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var pending: [[Double]] = []
    private var result: [Double] = []
    private var generation = 0
    private var readers = 0

    init(size: Int) { self.size = size }

    func sum(_ values: [Double]) -> [Double] {
        condition.lock()
        defer { condition.unlock() }
        while readers > 0 { condition.wait() }  // the previous round's results are still being read
        let round = generation
        pending.append(values)
        if pending.count == size {
            result = pending.dropFirst().reduce(pending[0]) { zip($0, $1).map(+) }
            pending = []
            readers = size
            generation += 1
            condition.broadcast()
        }
        while generation == round { condition.wait() }
        readers -= 1
        if readers == 0 { condition.broadcast() }
        return result
    }

    final class Member: Communicator {
        let group: ThreadGroup
        let rank: Int
        init(_ group: ThreadGroup, rank: Int) {
            self.group = group
            self.rank = rank
        }
        var size: Int { group.size }
        func sum(_ values: UnsafeMutableBufferPointer<Float>) {
            let total = group.sum(values.map(Double.init))
            for i in values.indices { values[i] = Float(total[i]) }
        }
        func sum(_ values: UnsafeMutableBufferPointer<Double>) {
            let total = group.sum(Array(values))
            for i in values.indices { values[i] = total[i] }
        }
        func broadcast(_ bytes: inout [UInt8], from root: Int) { fatalError("not used") }
    }
}

/// Synchronised batch norm (torch.nn.SyncBatchNorm): two replicas with half a batch each compute what one
/// batch norm computes on the whole batch: outputs, input gradients, running statistics, and γ/β gradients
/// that sum to the whole batch's.
final class SynchronizedBatchNormTests: XCTestCase {
    func testTwoReplicasWithHalfTheBatchEachMatchTheWholeBatch() throws {
        var generator = RandomGenerator(seed: 11)
        let shape = [4, 3, 5, 5]
        let count = shape.reduce(1, *)
        let input = (0..<count).map { _ in Float.random(in: -2...3, using: &generator) }
        let lossWeights = (0..<count).map { _ in Float.random(in: -1...1, using: &generator) }
        let gamma: [Float] = [0.5, 1.5, -1]
        let beta: [Float] = [0.1, -0.2, 0.3]

        /// Forward and backward of Σ y·w over `rows` images of the batch; returns y, ∂/∂x, ∂/∂γ, ∂/∂β, running stats.
        @Sendable func run(_ rows: Range<Int>, replicas: Communicator?) throws -> [[Float]] {
            let norm = try BatchNorm2d(3)
            try norm.weight.assign(Tensor(shape: [3], scalars: gamma))
            try norm.bias.assign(Tensor(shape: [3], scalars: beta))
            norm.replicas = replicas
            norm.train()
            let per = count / shape[0]
            let x = try Tensor(
                shape: [rows.count] + shape.dropFirst(),
                scalars: Array(input[rows.lowerBound * per..<rows.upperBound * per]))
            x.requiresGrad = true
            let w = try Tensor(
                shape: x.shape, scalars: Array(lossWeights[rows.lowerBound * per..<rows.upperBound * per]))
            let y = try norm(x)
            try (y * w).sum().backward()
            return [
                y.scalars, x.grad!.scalars, norm.weight.grad!.scalars, norm.bias.grad!.scalars,
                norm.runningMean.scalars, norm.runningVar.scalars,
            ]
        }

        let whole = try run(0..<4, replicas: nil)
        let group = ThreadGroup(size: 2)
        final class Outcome: @unchecked Sendable {  // written by its thread, read after both ended
            var result: Result<[[Float]], Error>?
        }
        let outcomes = [Outcome(), Outcome()]
        let done = DispatchGroup()
        for rank in 0..<2 {
            done.enter()
            Thread {
                outcomes[rank].result = Result {
                    try run(2 * rank..<2 * rank + 2, replicas: ThreadGroup.Member(group, rank: rank))
                }
                done.leave()
            }.start()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success, "the replicas deadlocked")
        let halves = try outcomes.map { try XCTUnwrap($0.result).get() }

        func assertClose(_ a: [Float], _ b: [Float], _ what: String) {
            XCTAssertEqual(a.count, b.count, what)
            for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(u)), what) }
        }
        assertClose(halves[0][0] + halves[1][0], whole[0], "outputs")
        assertClose(halves[0][1] + halves[1][1], whole[1], "input gradients")
        assertClose(zip(halves[0][2], halves[1][2]).map(+), whole[2], "γ gradients, summed over replicas")
        assertClose(zip(halves[0][3], halves[1][3]).map(+), whole[3], "β gradients, summed over replicas")
        for replica in halves {
            assertClose(replica[4], whole[4], "running mean")
            assertClose(replica[5], whole[5], "running variance")
        }
        // Without synchronisation each half normalises with its own statistics: the outputs differ.
        let unsynchronised = try run(0..<2, replicas: nil)[0]
        XCTAssertGreaterThan(zip(unsynchronised, whole[0]).map { abs($0 - $1) }.max() ?? 0, 1e-2)
    }
}
