import COpenBLAS
import Dispatch

/// OpenBLAS runs single-threaded; `gemm` splits large products across the zoo's threads itself.
/// OpenBLAS's own pool spin-yields between calls and fights the zoo's parallel loops and the data
/// loader for the cores; owning the split keeps one thread per core busy with real work.
enum GemmThreading {
    nonisolated(unsafe) static var splitting = true
    static let minimumFlopsToSplit = 1 << 22
}

// C (M×N) = alpha · op(A) · op(B) + beta · C, row-major, through OpenBLAS.
// op(A) is M×K (A stored K×M when transposeA), op(B) is K×N (B stored N×K when transposeB).
@inline(__always)
public func gemm(
    transposeA: Bool = false, transposeB: Bool = false,
    m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
    b: UnsafePointer<Float>, ldb: Int? = nil,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil
) {
    guard m > 0, n > 0 else { return }
    let lda = lda ?? (transposeA ? m : k), ldb = ldb ?? (transposeB ? k : n), ldc = ldc ?? n
    guard k > 0 else {
        // An empty sum: C = beta·C.
        for row in 0..<m { for col in 0..<n { c[row * ldc + col] *= beta } }
        return
    }
    let threads = Threads.count
    guard GemmThreading.splitting, threads > 1, 2 * m * n * k >= GemmThreading.minimumFlopsToSplit else {
        return sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }
    // Split the larger of M and N into one contiguous block per thread (multiples of 16 for the micro-kernels).
    let splitColumns = n >= m
    let extent = splitColumns ? n : m
    let parts = min(threads, max(1, extent / 16))
    let block = ((extent + parts - 1) / parts + 15) / 16 * 16
    DispatchQueue.concurrentPerform(iterations: parts) { part in
        let start = part * block, end = min(extent, start + block)
        guard start < end else { return }
        if splitColumns {
            sgemm(transposeA, transposeB, m, end - start, k, alpha, a, lda,
                  transposeB ? b + start * ldb : b + start, ldb, beta, c + start, ldc)
        } else {
            sgemm(transposeA, transposeB, end - start, n, k, alpha, transposeA ? a + start : a + start * lda, lda,
                  b, ldb, beta, c + start * ldc, ldc)
        }
    }
}

@inline(__always)
private func sgemm(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                   _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                   _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

// Gradients of C = A·B (no transposes): dA += dC·Bᵀ, dB += Aᵀ·dC.
public func gemmBackward(
    m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
    aGrad: UnsafeMutablePointer<Float>?, bGrad: UnsafeMutablePointer<Float>?
) {
    if let aGrad { gemm(transposeB: true, m: m, n: k, k: n, a: outputGrad, b: b, beta: 1, c: aGrad) }
    if let bGrad { gemm(transposeA: true, m: k, n: n, k: m, a: a, b: outputGrad, beta: 1, c: bGrad) }
}

/// Reference triple loop (Double accumulation) that the tests compare `gemm` against.
public func gemmReference(
    transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
) {
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let av = transposeA ? a[p * m + i] : a[i * k + p]
                let bv = transposeB ? b[j * k + p] : b[p * n + j]
                sum += Double(av) * Double(bv)
            }
            c[i * n + j] = Float(sum)
        }
    }
}
