import CKernels
import COpenBLAS
import Foundation

/// The zoo's thread budget, shared by OpenBLAS and the zoo's own parallel loops.
public enum Threads {
    // Process-wide like torch.set_num_threads: set by the executable before the work starts, read by every loop.
    nonisolated(unsafe) private static var current: Int = {
        // OpenBLAS runs on the calling thread (`zoo bench kernels` only), its server stopped: setting its thread
        // count again would start the server again.
        openblas_set_num_threads(1)
        zoo_openblas_stop_thread_server()
        return max(1, System.coreCount)
    }()

    /// Settles the budget now rather than at the first parallel loop: an executable calls it first thing, so that
    /// OpenBLAS's thread server stops before its spinning workers take the cores from the first forward.
    public static func settle() { _ = current }

    /// Whether OpenBLAS's own workers are running (they should not be once the budget is settled).
    static var openBLASWorkersRunning: Bool { zoo_openblas_thread_server_running() != 0 }

    /// Number of threads every parallel kernel uses.
    public static var count: Int { current }

    /// Sets the thread count of the zoo's loops (at least 1); OpenBLAS stays on one thread.
    public static func set(_ count: Int) {
        current = max(1, count)
    }
}

enum System {
    static var coreCount: Int { ProcessInfo.processInfo.activeProcessorCount }
}

/// Heap tuning for a process that runs models: activations are large and short-lived, and glibc would hand
/// each one to mmap and back, paying a page fault per 4 KiB on every forward. Keeping freed blocks in the
/// heap lets the next op reuse them. (glibc refuses an mmap threshold above 32 MB, and a trim threshold
/// freezes the threshold at 128 KB, so mmap is switched off outright rather than raised.) It changes the
/// whole process's allocator, so the library never calls it: an executable does, once, at start.
public func keepFreedMemory() {
    #if os(Linux)
    mallopt(M_MMAP_MAX, 0)
    mallopt(M_TRIM_THRESHOLD, Int32.max)  // the largest it takes: about 2 GB
    #endif
}

/// Gives the heap's free pages back to the system (`keepFreedMemory` otherwise keeps them): for a
/// large one-off release, such as a decoded checkpoint once the model holds the weights.
public func releaseFreedMemory() {
    #if os(Linux)
    malloc_trim(0)
    #endif
}

/// Runs `body` over `0..<count` split into contiguous chunks, one per thread.
/// Falls back to a plain loop when the work is too small to be worth a thread hop. GEMMs that `body` calls
/// stay on their thread: the loop already keeps every thread busy.
@inline(__always)
public func parallelFor(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
    let threads = min(Threads.count, count / max(1, minimumPerThread))
    if threads <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    runParts(threads) { t in
        let start = count * t / threads
        let end = count * (t + 1) / threads
        if start < end { withSingleThreadedGemm { body(start..<end) } }
    }
}

/// Runs `body(part)` for every part in `0..<parts` at once, one per thread of the zoo's pool (`zoo_parallel`),
/// and returns when all have finished. What the parts share is the caller's to keep race-free.
func runParts(_ parts: Int, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { body in
        var body = body
        withUnsafeMutablePointer(to: &body) { pointer in
            zoo_parallel(
                parts,
                { context, part in context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(part) },
                pointer)
        }
    }
}
