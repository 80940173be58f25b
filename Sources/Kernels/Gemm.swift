import COpenBLAS

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
    guard k > 0 else {
        // An empty sum: C = beta·C.
        for row in 0..<m { for col in 0..<n { c[row * (ldc ?? n) + col] *= beta } }
        return
    }
    cblas_sgemm(
        CblasRowMajor,
        transposeA ? CblasTrans : CblasNoTrans,
        transposeB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha,
        a, Int32(lda ?? (transposeA ? m : k)),
        b, Int32(ldb ?? (transposeB ? k : n)),
        beta, c, Int32(ldc ?? n))
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
