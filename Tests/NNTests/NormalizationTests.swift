import Foundation
import Kernels
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

/// BatchNorm2d (training and evaluation, folded into a conv, synchronised over replicas), LayerNorm and
/// GroupNorm, against values worked out by hand or a whole-batch reference.
final class NormalizationTests: XCTestCase {
    /// The folded inference path (conv with BN folded in, activation applied) equals conv → BN → activation.
    func testFoldedBatchNormMatchesReferencePath() throws {
        for (padding, groups, activation) in [
            (ConvPadding.symmetric(1), 1, Activation.relu), (.same, 4, .relu6), (.symmetric(0), 2, .hardSwish),
        ] {
            var generator = RandomGenerator(seed: 7)
            let conv = try Initialization.using(&generator) {
                try Conv2d(4, 8, kernel: 3, stride: 2, padding: padding, groups: groups, bias: groups == 2)
            }
            let bn = try BatchNorm2d(8, epsilon: 1e-3)
            var rng = RandomGenerator(seed: 3)
            for t in [bn.weight, bn.bias, bn.runningMean] { try t.assign(Tensor.normal(t.shape, using: &rng)) }
            try bn.runningVar.assign(Tensor.uniform([8], low: 0.5, high: 2, using: &rng))
            let x = try Tensor.normal([2, 4, 9, 10], using: &rng)
            let reference = try withoutGrad { try bn(conv(x)).activation(activation) }
            let fused = try withoutGrad { try bn.fused(after: conv, activation: activation, x) }
            XCTAssertEqual(reference.shape, fused.shape)
            for (a, b) in zip(reference.scalars, fused.scalars) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        }
    }

    /// The fold is kept between forwards, and made again once a tensor it reads changes (the running statistics
    /// after more training, the conv's bias).
    func testFoldedBatchNormFollowsChangedStatistics() throws {
        var rng = RandomGenerator(seed: 5)
        let conv = try Initialization.using(&rng) { try Conv2d(3, 6, kernel: 3, padding: .symmetric(1), bias: true) }
        let bn = try BatchNorm2d(6)
        let x = try Tensor.normal([1, 3, 8, 8], using: &rng)
        func assertFoldMatchesReference(_ message: String) throws {
            let reference = try withoutGrad { try bn(conv(x)).activation(.relu) }
            let fused = try withoutGrad { try bn.fused(after: conv, activation: .relu, x) }
            for (a, b) in zip(reference.scalars, fused.scalars) { XCTAssertEqual(a, b, accuracy: 1e-4, message) }
        }
        try assertFoldMatchesReference("first fold")
        try assertFoldMatchesReference("kept fold")
        try bn.runningVar.assign(Tensor.uniform([6], low: 0.2, high: 3, using: &rng))
        try bn.runningMean.assign(Tensor.normal([6], using: &rng))
        try assertFoldMatchesReference("new running statistics")
        try conv.bias!.assign(Tensor.normal([6], using: &rng))
        try assertFoldMatchesReference("new conv bias")
    }

    /// Training mode normalises with the batch's statistics (biased variance) and updates the running ones
    /// as torch does: running = 0.9 · running + 0.1 · batch, with the unbiased variance.
    func testBatchNormTrainingUsesBatchStatisticsAndUpdatesRunningOnes() throws {
        let bn = try BatchNorm2d(2)
        try bn.weight.assign(Tensor(shape: [2], scalars: [2, 1]))
        try bn.bias.assign(Tensor(shape: [2], scalars: [0, 1]))
        // Channel 0 holds 1, 3, 5, 7 (mean 4, variance 5, unbiased 20/3); channel 1 holds 0, 0, 2, 2
        // (mean 1, variance 1, unbiased 4/3).
        let x = try Tensor(shape: [2, 2, 1, 2], scalars: [1, 3, 0, 0, 5, 7, 2, 2])
        bn.train()
        let y = try bn(x)
        let s0 = 2 / (5 + Float(1e-5)).squareRoot()
        let s1 = 1 / (1 + Float(1e-5)).squareRoot()
        let expected: [Float] = [-3 * s0, -1 * s0, 1 - s1, 1 - s1, 1 * s0, 3 * s0, 1 + s1, 1 + s1]
        for (a, e) in zip(y.scalars, expected) { XCTAssertEqual(a, e, accuracy: 1e-5) }
        XCTAssertEqual(bn.runningMean.scalars[0], 0.4, accuracy: 1e-6)
        XCTAssertEqual(bn.runningMean.scalars[1], 0.1, accuracy: 1e-6)
        XCTAssertEqual(bn.runningVar.scalars[0], 0.9 + 0.1 * 20 / 3, accuracy: 1e-5)
        XCTAssertEqual(bn.runningVar.scalars[1], 0.9 + 0.1 * 4 / 3, accuracy: 1e-5)
        XCTAssertEqual(bn.batchesTracked.scalars, [1])

        // Evaluation mode: the running statistics, nothing updated, with or without gradients.
        bn.eval()
        let (mean, variance) = (bn.runningMean.scalars, bn.runningVar.scalars)
        let evaluated = x.scalars.enumerated().map { i, v -> Float in
            let c = (i / 2) % 2
            return (v - mean[c]) / (variance[c] + 1e-5).squareRoot() * [2, 1][c] + [0, 1][c]
        }
        for output in [try bn(x), try withoutGrad { try bn(x) }] {
            for (a, e) in zip(output.scalars, evaluated) { XCTAssertEqual(a, e, accuracy: 1e-5) }
        }
        let relu = try withoutGrad { try bn(x, activation: .relu) }
        for (a, e) in zip(relu.scalars, evaluated) { XCTAssertEqual(a, max(e, 0), accuracy: 1e-5) }
        XCTAssertEqual(bn.runningMean.scalars, mean)
        XCTAssertEqual(bn.batchesTracked.scalars, [1])
    }

    func testBatchNormMomentumWeighsTheNewBatch() throws {
        let bn = try BatchNorm2d(1, momentum: 0.5)
        bn.train()
        _ = try bn(Tensor(shape: [2, 1, 1, 1], scalars: [2, 4]))  // mean 3, unbiased variance 2
        XCTAssertEqual(bn.runningMean.scalars, [1.5])
        XCTAssertEqual(bn.runningVar.scalars, [1.5])
        _ = try bn(Tensor(shape: [2, 1, 1, 1], scalars: [2, 4]))
        XCTAssertEqual(bn.runningMean.scalars, [2.25])
        XCTAssertEqual(bn.runningVar.scalars, [1.75])
        XCTAssertEqual(bn.batchesTracked.scalars, [2])
    }

    /// LayerNorm has no batch statistics: the same output in both modes, each last-axis vector normalised.
    func testLayerNormNormalisesTheLastAxisInBothModes() throws {
        let norm = try LayerNorm(4, epsilon: 1e-6)
        try norm.weight.assign(Tensor(shape: [4], scalars: [1, 2, 1, 1]))
        try norm.bias.assign(Tensor(shape: [4], scalars: [0, 0, 0, 1]))
        let x = try Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, 10, 10, 10, 10])
        // Row 0: mean 2.5, variance 1.25. Row 1 is constant: all zeros before the affine.
        let r = 1 / (1.25 + Float(1e-6)).squareRoot()
        let expected: [Float] = [-1.5 * r, -0.5 * r * 2, 0.5 * r, 1.5 * r + 1, 0, 0, 0, 1]
        let evaluated = try norm(x).scalars
        norm.train()
        XCTAssertEqual(try norm(x).scalars, evaluated)
        for (a, e) in zip(evaluated, expected) { XCTAssertEqual(a, e, accuracy: 1e-5) }
    }

    func testGroupNormNormalisesEachGroupOfChannels() throws {
        let norm = try GroupNorm(groups: 2, channels: 4, epsilon: 0)
        // Group 0 (channels 0, 1): 1 and 3, mean 2, variance 1; group 1: 10 and 20, mean 15, variance 25.
        let x = try Tensor(shape: [1, 4, 1, 1], scalars: [1, 3, 10, 20])
        for (a, e) in zip(try norm(x).scalars, [-1, 1, -1, 1] as [Float]) { XCTAssertEqual(a, e, accuracy: 1e-6) }
        XCTAssertThrowsError(try GroupNorm(groups: 3, channels: 4)(Tensor(zeros: [1, 4, 2, 2])))
    }

    /// Synchronised batch norm (torch.nn.SyncBatchNorm): two replicas with half a batch each compute what one
    /// batch norm computes on the whole batch: outputs, input gradients, running statistics, and γ/β gradients
    /// that sum to the whole batch's.
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
