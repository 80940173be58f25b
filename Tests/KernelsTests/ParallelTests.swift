import Foundation
import XCTest

@testable import Kernels

/// `parallelFor` splits a range into contiguous, disjoint chunks that cover it exactly once, the thread pool
/// that runs them, and the thread budget it splits by.
final class ParallelTests: XCTestCase {
    /// Restores the process-wide thread count a test changes.
    private func keepingThreadCount() {
        let previous = Threads.count
        addTeardownBlock { Threads.set(previous) }
    }

    /// Runs `parts` parts on the pool, each waiting until all have started (so they must run at once, on distinct
    /// threads), then `afterward(part)`; returns how many started.
    private func runPartsTogether(_ parts: Int, afterward: (Int) -> Void = { _ in }) -> Int {
        let lock = NSCondition()
        var started = 0
        runParts(parts) { part in
            lock.lock()
            started += 1
            lock.broadcast()
            while started < parts { lock.wait() }
            lock.unlock()
            afterward(part)
        }
        return started
    }

    /// OpenBLAS's thread server, started when the library loads, is stopped for good: its workers would otherwise
    /// spin on the cores the zoo's own loops use, and setting the budget again must not restart it.
    func testOpenBLASWorkersStayStopped() {
        keepingThreadCount()
        Threads.settle()
        XCTAssertFalse(Threads.openBLASWorkersRunning)
        Threads.set(3)
        XCTAssertFalse(Threads.openBLASWorkersRunning)
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

    /// The pool runs the parts on distinct threads at once (each part waits for all others to have started,
    /// which would never happen if any two shared a thread), and a loop inside a part runs on that part's thread.
    func testPartsRunAtOnceAndNestedLoopsStayOnTheirThread() {
        keepingThreadCount()
        Threads.set(4)
        let lock = NSLock()
        var nestedOnOwnThread = [Bool](repeating: false, count: 4)
        let started = runPartsTogether(4) { part in
            let thread = pthread_self()
            var threads: [pthread_t] = []
            parallelFor(8) { _ in threads.append(pthread_self()) }
            lock.lock()
            nestedOnOwnThread[part] = !threads.isEmpty && threads.allSatisfy { pthread_equal($0, thread) != 0 }
            lock.unlock()
        }
        XCTAssertEqual(started, 4)
        XCTAssertEqual(nestedOnOwnThread, [true, true, true, true])
    }

    /// Threads outside the pool may call loops at the same time: one job runs on the pool, the others on their
    /// callers' threads, and every index of every loop is still visited once.
    func testConcurrentCallersEachFinishTheirLoop() {
        keepingThreadCount()
        Threads.set(2)
        let lock = NSLock()
        var totals = [Int](repeating: 0, count: 6)
        DispatchQueue.concurrentPerform(iterations: 6) { caller in
            for _ in 0..<50 {
                parallelFor(1000) { range in
                    lock.lock()
                    totals[caller] += range.count
                    lock.unlock()
                }
            }
        }
        XCTAssertEqual(totals, [Int](repeating: 50_000, count: 6))
    }

    /// A child made by fork() once the pool has a worker gets workers of its own (the parent's threads are not
    /// copied into it): its two parts run at once, each waiting for the other to start. Were the child left
    /// with none, the first part would wait forever, and the child's alarm would end it.
    func testAForkedChildHasWorkersOfItsOwn() {
        keepingThreadCount()
        Threads.set(2)
        parallelFor(100) { _ in }
        let child = fork()
        if child == 0 {
            alarm(10)
            _exit(runPartsTogether(2) == 2 ? 0 : 1)
        }
        XCTAssertGreaterThan(child, 0, "fork failed")
        var status: Int32 = 0
        XCTAssertEqual(waitpid(child, &status, 0), child)
        XCTAssertEqual(status, 0, "the child's wait status (a signal in the low bits, its exit code above)")
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
