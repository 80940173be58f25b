import Foundation
import XCTest

@testable import Kernels

/// `parallelFor` splits a range into contiguous, disjoint chunks that cover it exactly once, and the
/// thread budget it splits by.
final class ParallelTests: XCTestCase {
    /// Restores the process-wide thread count a test changes.
    private func keepingThreadCount() {
        let previous = Threads.count
        addTeardownBlock { Threads.set(previous) }
    }

    /// Each index is visited exactly once, in chunks no more numerous than the threads.
    private func visits(_ count: Int, minimumPerThread: Int = 1) -> (hits: [Int], chunks: [Range<Int>]) {
        let lock = NSLock()
        var hits = [Int](repeating: 0, count: count)
        var chunks: [Range<Int>] = []
        parallelFor(count, minimumPerThread: minimumPerThread) { range in
            lock.lock()
            defer { lock.unlock() }
            chunks.append(range)
            for i in range { hits[i] += 1 }
        }
        return (hits, chunks.sorted { $0.lowerBound < $1.lowerBound })
    }

    func testEveryIndexOnceInContiguousChunks() {
        keepingThreadCount()
        for threads in [1, 2, 3, 8] {
            Threads.set(threads)
            for count in [1, 2, 7, 100, 1001] {
                let (hits, chunks) = visits(count)
                XCTAssertEqual(hits, [Int](repeating: 1, count: count), "threads \(threads) count \(count)")
                XCTAssertLessThanOrEqual(chunks.count, threads)
                XCTAssertEqual(chunks.first?.lowerBound, 0)
                XCTAssertEqual(chunks.last?.upperBound, count)
                for (a, b) in zip(chunks, chunks.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
            }
        }
    }

    /// Work below two threads' minimum runs as one chunk; no work runs no chunk.
    func testSmallWorkIsOneChunkAndNoWorkIsNone() {
        keepingThreadCount()
        Threads.set(4)
        XCTAssertEqual(visits(15, minimumPerThread: 8).chunks, [0..<15])
        XCTAssertEqual(visits(16, minimumPerThread: 8).chunks.count, 2)
        XCTAssertEqual(visits(0).chunks, [])
    }

    /// Like torch.set_num_threads, the count is at least 1.
    func testThreadCountIsAtLeastOne() {
        keepingThreadCount()
        Threads.set(0)
        XCTAssertEqual(Threads.count, 1)
        Threads.set(-5)
        XCTAssertEqual(Threads.count, 1)
        Threads.set(3)
        XCTAssertEqual(Threads.count, 3)
    }
}
