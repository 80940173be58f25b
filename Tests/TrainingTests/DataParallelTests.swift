import Foundation
import NN
import Tensors
import XCTest

@testable import Training

/// Rank 0 of a two-rank job whose other rank is scripted: each collective adds what the test says the peer
/// brings (or, for a broadcast, hands over what the root sends).
private final class ScriptedPeer: Communicator {
    let rank: Int
    var size: Int { 2 }
    var peerDoubles: [[Double]] = []
    var peerFloats: [[Float]] = []
    var rootBytes: [UInt8]?
    private(set) var broadcasts: [[UInt8]] = []

    init(rank: Int = 0) { self.rank = rank }

    func sum(_ values: UnsafeMutableBufferPointer<Float>) {
        let peer = peerFloats.removeFirst()
        precondition(peer.count == values.count, "every rank passes the same count")
        for i in values.indices { values[i] += peer[i] }
    }
    func sum(_ values: UnsafeMutableBufferPointer<Double>) {
        let peer = peerDoubles.removeFirst()
        precondition(peer.count == values.count, "every rank passes the same count")
        for i in values.indices { values[i] += peer[i] }
    }
    func broadcast(_ bytes: inout [UInt8], from root: Int) {
        broadcasts.append(bytes)
        if rank != root { bytes = rootBytes ?? [] }
    }
}

/// A module with one parameter and one buffer, whose values the tests set.
private final class Pair: Module {
    let weight: Tensor, count: Tensor
    init(_ weight: [Float], _ count: Float) throws {
        self.weight = try Tensor(shape: [weight.count], scalars: weight)
        self.count = try Tensor(shape: [], scalars: [count])
        super.init()
        register(parameter: "weight", self.weight)
        register(buffer: "count", self.count)
    }
}

final class DataParallelTests: XCTestCase {
    func testOneProcessAgreesWithItself() throws {
        let single = DataParallel(communicator: SingleProcess())
        XCTAssertTrue(single.isLeader)
        XCTAssertEqual(single.size, 1)
        let agreed = single.agree(samples: 4, interrupted: false)
        XCTAssertEqual(agreed.samples, 4)
        XCTAssertFalse(agreed.someRankIsEmpty)
        XCTAssertFalse(agreed.interrupted)
        let empty = single.agree(samples: 0, interrupted: true)
        XCTAssertTrue(empty.someRankIsEmpty)
        XCTAssertTrue(empty.interrupted)
        XCTAssertEqual(single.globalLoss(2.5, samples: 3, total: 3), 2.5)
        XCTAssertTrue(single.globalLoss(.nan, samples: 3, total: 3).isNaN)

        // Gradients, state and files are left as they are; no fingerprints are recorded.
        let model = try Pair([1, -2], 3)
        model.weight.grad = try Tensor(shape: [2], scalars: [0.5, 0.25])
        try single.sumGradients(model.namedParameters().map(\.tensor))
        XCTAssertEqual(model.weight.grad?.scalars, [0.5, 0.25])
        single.broadcastState(of: model)
        XCTAssertEqual(model.weight.scalars, [1, -2])
        XCTAssertNil(try single.checkedFingerprints(of: model))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("leader-\(UUID().uuidString)")
        try Data([7, 8, 9]).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertEqual(try single.leaderReads(file), Data([7, 8, 9]))
    }

    /// One rank's empty batch or interruption is every rank's; samples add up.
    func testDecisionsAreTakenTogether() {
        let peer = ScriptedPeer()
        let parallel = DataParallel(communicator: peer)
        peer.peerDoubles = [[3, 0, 0], [0, 1, 1]]
        let both = parallel.agree(samples: 4, interrupted: false)
        XCTAssertEqual(both.samples, 7)
        XCTAssertFalse(both.someRankIsEmpty)
        XCTAssertFalse(both.interrupted)
        let peerStopped = parallel.agree(samples: 4, interrupted: false)
        XCTAssertEqual(peerStopped.samples, 4)
        XCTAssertTrue(peerStopped.someRankIsEmpty)
        XCTAssertTrue(peerStopped.interrupted)
    }

    /// The global batch's loss: this rank's mean 2 over 3 images and the peer's 4 over 1 make 10 / 4.
    func testGlobalLossWeighsEachRankByItsSamples() {
        let peer = ScriptedPeer()
        peer.peerDoubles = [[4 * 1]]
        XCTAssertEqual(DataParallel(communicator: peer).globalLoss(2, samples: 3, total: 4), 2.5)
    }

    /// One flat allreduce over every parameter's gradient, a missing gradient counting as zeros.
    func testSumGradientsAddsThePeersGradients() throws {
        let a = try Tensor(shape: [2], scalars: [0, 0], requiresGrad: true)
        let b = try Tensor(shape: [1], scalars: [0], requiresGrad: true)
        a.grad = try Tensor(shape: [2], scalars: [1, 2])
        let peer = ScriptedPeer()
        peer.peerFloats = [[10, 20, 30], [1, 1, 1]]
        let parallel = DataParallel(communicator: peer)
        try parallel.sumGradients([a, b])
        XCTAssertEqual(a.grad?.scalars, [11, 22])
        XCTAssertEqual(b.grad?.scalars, [30])
        try parallel.sumGradients([a, b])  // the flat buffer is reused
        XCTAssertEqual(a.grad?.scalars, [12, 23])
        XCTAssertEqual(b.grad?.scalars, [31])
    }

    /// Rank 1 takes rank 0's parameters and buffers, as raw little-endian Float32 in state-dict order.
    func testBroadcastStateGivesEveryRankTheLeadersState() throws {
        let leaderModel = try Pair([1, -2], 3)
        let leader = ScriptedPeer(rank: 0)
        DataParallel(communicator: leader).broadcastState(of: leaderModel)
        let sent = try XCTUnwrap(leader.broadcasts.first)
        XCTAssertEqual(sent.count, 12)
        XCTAssertEqual(
            sent, [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x40, 0x40])  // 1, −2, 3

        let follower = ScriptedPeer(rank: 1)
        follower.rootBytes = sent
        let followerModel = try Pair([0, 0], 0)
        DataParallel(communicator: follower).broadcastState(of: followerModel)
        XCTAssertEqual(follower.broadcasts, [[]], "a follower sends nothing")
        XCTAssertEqual(followerModel.weight.scalars, [1, -2])
        XCTAssertEqual(followerModel.count.scalars, [3])
    }

    /// FNV-1a over the bits of every parameter and buffer: for [1, −2] and 3, worked out in Python.
    func testFingerprintIsFNV1aOverTheStateDict() throws {
        let model = try Pair([1, -2], 3)
        // h = 0xcbf29ce484222325; for v in (0x3F800000, 0xC0000000, 0x40400000): h = (h ^ v) · 0x100000001b3 mod 2⁶⁴
        XCTAssertEqual(DataParallel.fingerprint(of: model), 0x1a5b_3302_91cf_2fb7)
        let other = try Pair([1, -2], 4)
        XCTAssertNotEqual(DataParallel.fingerprint(of: other), DataParallel.fingerprint(of: model))
    }

    /// The ranks' fingerprints are gathered in rank order; any difference is an error naming them all.
    func testCheckedFingerprintsDetectDivergedReplicas() throws {
        let model = try Pair([1, -2], 3)
        let mine = DataParallel.fingerprint(of: model)
        func peerRows(_ fingerprint: UInt64) -> [Double] {
            [0, 0, 0, 0] + (0..<4).map { Double((fingerprint >> (16 * UInt64($0))) & 0xFFFF) }
        }
        let peer = ScriptedPeer()
        let parallel = DataParallel(communicator: peer)
        peer.peerDoubles = [peerRows(mine)]
        let hex = String(format: "%016llx", mine)
        XCTAssertEqual(try parallel.checkedFingerprints(of: model), "\(hex),\(hex)")

        peer.peerDoubles = [peerRows(0xFFFF_0000_1234_0001)]
        XCTAssertThrowsError(try parallel.checkedFingerprints(of: model)) { error in
            XCTAssertEqual(error as? TrainingError, .replicasDiverged(fingerprints: [mine, 0xFFFF_0000_1234_0001]))
        }
    }

    func testSynchronizeBatchNormsOnlyWithSeveralRanks() throws {
        let model = Sequential([try BatchNorm2d(2), Sequential([try BatchNorm2d(3)])])
        DataParallel(communicator: SingleProcess()).synchronizeBatchNorms(in: model)
        XCTAssertTrue(model.descendants(ofType: BatchNorm2d.self).allSatisfy { $0.replicas == nil })
        let peer = ScriptedPeer()
        DataParallel(communicator: peer).synchronizeBatchNorms(in: model)
        XCTAssertEqual(model.descendants(ofType: BatchNorm2d.self).count, 2)
        XCTAssertTrue(model.descendants(ofType: BatchNorm2d.self).allSatisfy { $0.replicas === peer })
    }
}
