import Kernels

/// Runs `count` independent GEMMs: spread over the threads, each on one, when there are many (attention
/// over thousands of small windows); one after another, each split across the threads, when there are few.
private func batched(_ count: Int, _ body: (Int) -> Void) {
    guard count >= 2 * Threads.count else { return (0..<count).forEach(body) }
    parallelFor(count) { range in range.forEach(body) }
}

extension Tensor {
    /// Matrix product over the last two axes: (…, M, K) × (…, K, N) with equal batch axes, or × (K, N).
    public func matmul(_ other: Tensor) throws -> Tensor {
        guard rank >= 2, other.rank >= 2, shape[rank - 1] == other.shape[other.rank - 2] else {
            throw TensorError.shapeMismatch(op: "matmul", shapes: [shape, other.shape])
        }
        let m = shape[rank - 2]
        let k = shape[rank - 1]
        let n = other.shape[other.rank - 1]
        let batchShape = Array(shape.dropLast(2))
        let sharedRight = other.rank == 2
        guard sharedRight || Array(other.shape.dropLast(2)) == batchShape else {
            throw TensorError.shapeMismatch(op: "matmul", shapes: [shape, other.shape])
        }
        let batch = batchShape.reduce(1, *)
        let a = pointer
        let b = other.pointer
        return try Tensor.result(
            shape: batchShape + [m, n], inputs: [self, other],
            compute: { out in
                if sharedRight {
                    gemm(m: batch * m, n: n, k: k, a: a, b: b, c: out)  // one GEMM over all rows
                } else {
                    batched(batch) { i in gemm(m: m, n: n, k: k, a: a + i * m * k, b: b + i * k * n, c: out + i * m * n)
                    }
                }
            },
            backward: { grad in
                let g = grad.pointer
                if self.requiresGrad {
                    try self.accumulateGrad { da in
                        if sharedRight {
                            gemm(transposeB: true, m: batch * m, n: k, k: n, a: g, b: b, beta: 1, c: da)
                        } else {
                            batched(batch) { i in
                                gemm(
                                    transposeB: true, m: m, n: k, k: n, a: g + i * m * n, b: b + i * k * n, beta: 1,
                                    c: da + i * m * k)
                            }
                        }
                    }
                }
                if other.requiresGrad {
                    try other.accumulateGrad { db in
                        if sharedRight {
                            gemm(transposeA: true, m: k, n: n, k: batch * m, a: a, b: g, beta: 1, c: db)
                        } else {
                            batched(batch) { i in
                                gemm(
                                    transposeA: true, m: k, n: n, k: m, a: a + i * m * k, b: g + i * m * n, beta: 1,
                                    c: db + i * k * n)
                            }
                        }
                    }
                }
            })
    }

    /// (in, out, rows) of `linear` on this tensor, after checking the weight (out, in) and bias (out) fit it.
    private func linearSizes(weight: Tensor, bias: Tensor?) throws -> (inFeatures: Int, outFeatures: Int, rows: Int) {
        let inFeatures = shape.last ?? 0
        guard rank >= 1, weight.rank == 2, weight.shape[1] == inFeatures,
            bias.map({ $0.shape == [weight.shape[0]] }) ?? true
        else {
            throw TensorError.shapeMismatch(
                op: "linear", shapes: [shape, weight.shape] + (bias.map { [$0.shape] } ?? []))
        }
        return (inFeatures, weight.shape[0], count / max(1, inFeatures))
    }

    /// y = x·Wᵀ + b over the last axis, as torch.nn.functional.linear: weight (out, in), bias (out).
    public func linear(weight: Tensor, bias: Tensor?) throws -> Tensor {
        let (inFeatures, outFeatures, rows) = try linearSizes(weight: weight, bias: bias)
        let x = pointer
        let w = weight.pointer
        let b = bias?.pointer
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        return try Tensor.result(
            shape: Array(shape.dropLast()) + [outFeatures], inputs: inputs,
            compute: { out in
                if let b { for r in 0..<rows { (out + r * outFeatures).update(from: b, count: outFeatures) } }
                gemm(
                    transposeB: true, m: rows, n: outFeatures, k: inFeatures, a: x, b: w, beta: b == nil ? 0 : 1, c: out
                )
            },
            backward: { grad in
                let g = grad.pointer
                if self.requiresGrad {
                    try self.accumulateGrad { dx in
                        gemm(m: rows, n: inFeatures, k: outFeatures, a: g, b: w, beta: 1, c: dx)
                    }
                }
                if weight.requiresGrad {
                    try weight.accumulateGrad { dw in
                        gemm(transposeA: true, m: outFeatures, n: inFeatures, k: rows, a: g, b: x, beta: 1, c: dw)
                    }
                }
                if let bias, bias.requiresGrad {
                    try bias.accumulateGrad { db in
                        for r in 0..<rows { for o in 0..<outFeatures { db[o] += g[r * outFeatures + o] } }
                    }
                }
            })
    }

    /// Inference only (no autograd record): activation(x·Wᵀ + b) in one pass, W packed once for the GEMM
    /// (per weight version and instruction-set path), the bias and activation applied as the GEMM stores.
    public func linearInference(weight: Tensor, bias: Tensor?, activation: Activation = .identity) throws -> Tensor {
        let (inFeatures, outFeatures, rows) = try linearSizes(weight: weight, bias: bias)
        let packed = weight.derived("linear.\(KernelPath.active.name)") {
            // Wᵀ as B: W's rows (B's columns) lie one after another, so the packing can report them as it goes.
            PackedMatrix(
                side: .right, outer: outFeatures, depth: inFeatures, source: $0, outerStride: inFeatures,
                depthStride: 1, consumed: $1)
        }
        let output = try Tensor(uninitializedShape: Array(shape.dropLast()) + [outFeatures])
        let epilogue = GemmEpilogue(columnShift: bias.map { UnsafePointer($0.pointer) }, activation: activation)
        withExtendedLifetime(bias) {
            gemm(m: rows, a: pointer, packedB: packed, c: output.pointer, epilogue: epilogue)
        }
        return output
    }
}
