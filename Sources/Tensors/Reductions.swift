import Kernels

extension Tensor {
    /// Sum over `axes` (all axes when empty), keeping them as size 1 when `keepDims`.
    public func sum(axes: [Int] = [], keepDims: Bool = false) throws -> Tensor {
        let reduced = try Set(
            axes.isEmpty ? Array(0..<rank) : axes.map { try normalizedAxis($0, rank: rank, op: "sum") })
        let kept = shape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element }
        let outShape = keepDims ? kept : shape.enumerated().filter { !reduced.contains($0.offset) }.map(\.element)
        // Walk the input; each element adds into the output cell its kept coordinates name.
        let toOutput = broadcastStrides(kept, to: shape)
        let own = contiguousStrides(shape)
        let inner = shape.last ?? 1
        let innerStride = toOutput.last ?? 0
        let x = pointer
        let shape = self.shape
        return try Tensor.result(
            shape: outShape, zeroed: true, inputs: [self],
            compute: { out in
                if shape.isEmpty {
                    out[0] = x[0]
                    return
                }
                forEachRow(shape, own, toOutput) { i, o, _ in
                    if innerStride == 0 {
                        out[o] += vectorSum(x + i, count: inner)
                    } else {
                        for k in 0..<inner { out[o + k] += x[i + k] }
                    }
                }
            },
            backward: { grad in
                let g = grad.pointer
                try self.accumulateGrad { d in
                    if shape.isEmpty {
                        d[0] += g[0]
                        return
                    }
                    forEachRow(shape, own, toOutput) { i, o, _ in
                        for k in 0..<inner { d[i + k] += g[o + k * innerStride] }
                    }
                }
            })
    }

    /// Mean over `axes` (all axes when empty), keeping them as size 1 when `keepDims` (torch.mean).
    public func mean(axes: [Int] = [], keepDims: Bool = false) throws -> Tensor {
        let total = try sum(axes: axes, keepDims: keepDims)
        let n = total.count == 0 ? 1 : count / max(1, total.count)
        return try total * (1 / Float(n))
    }

    /// Variance over `axes` (unbiased as torch.var by default).
    public func variance(axes: [Int], keepDims: Bool = false, unbiased: Bool = true) throws -> Tensor {
        let m = try mean(axes: axes, keepDims: true)
        let squares = try (self - m).squared().sum(axes: axes, keepDims: keepDims)
        let n = count / max(1, squares.count)
        return try squares * (1 / Float(unbiased ? max(n - 1, 1) : n))
    }

    /// Indices of the largest value along the last axis (no gradient).
    public func argmaxLastAxis() -> [Int] {
        let dim = shape.last ?? 1
        let rows = count / max(dim, 1)
        let x = pointer
        return (0..<rows).map { r in
            var best = 0
            for i in 1..<max(dim, 1) where x[r * dim + i] > x[r * dim + best] { best = i }
            return best
        }
    }
}
