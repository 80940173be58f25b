import XCTest

@testable import NN

/// The single-process communicator (every collective is the identity) and the protocol's helpers.
final class CommunicatorTests: XCTestCase {
    func testSingleProcessIsTheOnlyRankAndTheLeader() {
        let single = SingleProcess()
        XCTAssertEqual(single.rank, 0)
        XCTAssertEqual(single.size, 1)
        XCTAssertTrue(single.isLeader)
    }

    func testSingleProcessSumsAndBroadcastsLeaveValuesAsTheyAre() {
        let single = SingleProcess()
        var floats: [Float] = [1.5, -2, 0]
        floats.withUnsafeMutableBufferPointer { single.sum($0) }
        XCTAssertEqual(floats, [1.5, -2, 0])
        var doubles: [Double] = [3, 4]
        doubles.withUnsafeMutableBufferPointer { single.sum($0) }
        XCTAssertEqual(doubles, [3, 4])
        XCTAssertEqual(single.sum([7, 8.5]), [7, 8.5])
        var bytes: [UInt8] = [1, 2, 3]
        single.broadcast(&bytes, from: 0)
        XCTAssertEqual(bytes, [1, 2, 3])
    }

    /// A rank other than 0 is no leader, and the array `sum` goes through the buffer one.
    func testProtocolHelpers() {
        final class Doubling: Communicator {
            var rank: Int { 1 }
            var size: Int { 2 }
            func sum(_ values: UnsafeMutableBufferPointer<Float>) { for i in values.indices { values[i] *= 2 } }
            func sum(_ values: UnsafeMutableBufferPointer<Double>) { for i in values.indices { values[i] *= 2 } }
            func broadcast(_ bytes: inout [UInt8], from root: Int) {}
        }
        let doubling = Doubling()
        XCTAssertFalse(doubling.isLeader)
        let input: [Double] = [1, 2.5]
        XCTAssertEqual(doubling.sum(input), [2, 5])
        XCTAssertEqual(input, [1, 2.5], "the argument is not modified")
    }
}
