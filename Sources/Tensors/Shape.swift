import Kernels

extension Tensor {
    /// The same values under a new shape (one dimension may be -1). Shares storage, like a view.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var resolved = newShape
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        if let hole = newShape.firstIndex(of: -1) {
            guard newShape.filter({ $0 == -1 }).count == 1, known > 0, count % known == 0 else {
                throw TensorError.shapeMismatch(op: "reshape", shapes: [shape, newShape])
            }
            resolved[hole] = count / known
        }
        guard resolved.reduce(1, *) == count, resolved.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.shapeMismatch(op: "reshape", shapes: [shape, newShape])
        }
        let out = Tensor(shape: resolved, storage: storage)
        if Tensor.needsGraph(self) {
            out.requiresGrad = true
            out.gradNode = GradNode(inputs: [self]) { grad in try self.accumulateGrad(from: grad.pointer) }
        }
        return out
    }

    /// Flattens dimensions `start...end` into one.
    public func flattened(from start: Int = 1, through end: Int = -1) throws -> Tensor {
        let s = try normalizedAxis(start, rank: rank, op: "flatten")
        let e = try normalizedAxis(end, rank: rank, op: "flatten")
        guard s <= e else { return self }
        return try reshaped(Array(shape[..<s]) + [shape[s...e].reduce(1, *)] + Array(shape[(e + 1)...]))
    }

    /// Reorders the axes (a copy): out axis i is input axis `axes[i]`.
    public func permuted(_ axes: [Int]) throws -> Tensor {
        let normalized = try axes.map { try normalizedAxis($0, rank: rank, op: "permute") }
        guard normalized.count == rank, Set(normalized).count == rank else {
            throw TensorError.invalidArgument(
                op: "permute", reason: "axes \(axes) are not a permutation of 0..<\(rank)")
        }
        if normalized == Array(0..<rank) { return self }
        let outShape = normalized.map { shape[$0] }
        let own = contiguousStrides(shape)
        let readStrides = normalized.map { own[$0] }
        let outStrides = contiguousStrides(outShape)
        let x = pointer
        let inner = outShape.last ?? 1
        let innerStride = readStrides.last ?? 1
        return try Tensor.result(
            shape: outShape, inputs: [self],
            compute: { out in
                forEachRow(outShape, readStrides, outStrides) { i, o, _ in
                    for k in 0..<inner { out[o + k] = x[i + k * innerStride] }
                }
            },
            backward: { grad in
                let g = grad.pointer
                try self.accumulateGrad { d in
                    forEachRow(outShape, readStrides, outStrides) { i, o, _ in
                        for k in 0..<inner { d[i + k * innerStride] += g[o + k] }
                    }
                }
            })
    }

    /// Axes `a` and `b` swapped (a copy; torch.transpose); negative axes count from the end.
    public func transposed(_ a: Int, _ b: Int) throws -> Tensor {
        var axes = Array(0..<rank)
        let i = try normalizedAxis(a, rank: rank, op: "transpose")
        let j = try normalizedAxis(b, rank: rank, op: "transpose")
        axes.swapAt(i, j)
        return try permuted(axes)
    }

    /// Elements `range` along `axis` (a copy).
    public func slice(axis: Int, _ range: Range<Int>) throws -> Tensor {
        let a = try normalizedAxis(axis, rank: rank, op: "slice")
        guard range.lowerBound >= 0, range.upperBound <= shape[a] else {
            throw TensorError.invalidArgument(
                op: "slice", reason: "range \(range) is outside 0..<\(shape[a]) on axis \(a) of \(shape)")
        }
        var outShape = shape
        outShape[a] = range.count
        let outer = shape[..<a].reduce(1, *)
        let innerSize = shape[(a + 1)...].reduce(1, *)
        let span = range.count * innerSize
        let inStride = shape[a] * innerSize
        let start = range.lowerBound * innerSize
        let x = pointer
        return try Tensor.result(
            shape: outShape, inputs: [self],
            compute: { out in
                for o in 0..<outer { (out + o * span).update(from: x + o * inStride + start, count: span) }
            },
            backward: { grad in
                let g = grad.pointer
                try self.accumulateGrad { d in
                    for o in 0..<outer { for k in 0..<span { d[o * inStride + start + k] += g[o * span + k] } }
                }
            })
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    public static func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument(op: "concat", reason: "no tensors") }
        let a = try normalizedAxis(axis, rank: first.rank, op: "concat")
        for t in tensors
        where t.rank != first.rank
            || t.shape.enumerated().contains(where: { $0.offset != a && $0.element != first.shape[$0.offset] })
        {
            throw TensorError.shapeMismatch(op: "concat", shapes: [first.shape, t.shape])
        }
        var outShape = first.shape
        outShape[a] = tensors.map { $0.shape[a] }.reduce(0, +)
        let outer = first.shape[..<a].reduce(1, *)
        let innerSize = first.shape[(a + 1)...].reduce(1, *)
        let outSpan = outShape[a] * innerSize
        let spans = tensors.map { $0.shape[a] * innerSize }
        var offsets = [0]
        for s in spans.dropLast() { offsets.append(offsets.last! + s) }
        return try result(
            shape: outShape, inputs: tensors,
            compute: { out in
                for (t, (span, offset)) in zip(tensors, zip(spans, offsets)) {
                    let x = t.pointer
                    for o in 0..<outer { (out + o * outSpan + offset).update(from: x + o * span, count: span) }
                }
            },
            backward: { grad in
                let g = grad.pointer
                for (t, (span, offset)) in zip(tensors, zip(spans, offsets)) where t.requiresGrad {
                    try t.accumulateGrad { d in
                        for o in 0..<outer { for k in 0..<span { d[o * span + k] += g[o * outSpan + offset + k] } }
                    }
                }
            })
    }

    /// torch.gather: out[i…][j][k…] = self[i…][indices[i…][j][k…]][k…] along `axis`; `indices` has the output's shape.
    public func gather(axis: Int, indices: [Int], indexShape: [Int]) throws -> Tensor {
        let a = try normalizedAxis(axis, rank: rank, op: "gather")
        guard indexShape.count == rank, indices.count == indexShape.reduce(1, *),
            indexShape.enumerated().allSatisfy({ $0.offset == a || $0.element <= shape[$0.offset] })
        else {
            throw TensorError.shapeMismatch(op: "gather", shapes: [shape, indexShape])
        }
        if let bad = indices.first(where: { $0 < 0 || $0 >= shape[a] }) {
            throw TensorError.invalidArgument(
                op: "gather", reason: "index \(bad) is out of range 0..<\(shape[a]) on axis \(a)")
        }
        let own = contiguousStrides(shape)
        let outStrides = contiguousStrides(indexShape)
        // Source offset of each output element.
        var sources = [Int](repeating: 0, count: indices.count)
        for flat in 0..<indices.count {
            var rest = flat
            var offset = 0
            for d in 0..<rank {
                let coordinate = rest / outStrides[d]
                rest %= outStrides[d]
                offset += (d == a ? indices[flat] : coordinate) * own[d]
            }
            sources[flat] = offset
        }
        let x = pointer
        return try Tensor.result(
            shape: indexShape, inputs: [self],
            compute: { out in
                for i in 0..<sources.count { out[i] = x[sources[i]] }
            },
            backward: { grad in
                let g = grad.pointer
                try self.accumulateGrad { d in for i in 0..<sources.count { d[sources[i]] += g[i] } }
            })
    }

    /// Rows `indices[b]` of each batch item of a (B, N, C) tensor → (B, K, C) (MAE's token selection).
    public func selectRows(_ indices: [[Int]]) throws -> Tensor {
        guard rank == 3, indices.count == shape[0], let k = indices.first?.count, indices.allSatisfy({ $0.count == k })
        else {
            throw TensorError.invalidArgument(
                op: "selectRows",
                reason: "needs (B, N, C) and B equal-length index lists; got \(shape) and \(indices.count) lists")
        }
        let flat = indices.flatMap { $0 }
        let c = shape[2]
        var full = [Int]()
        full.reserveCapacity(flat.count * c)
        for i in flat { full.append(contentsOf: repeatElement(i, count: c)) }
        return try gather(axis: 1, indices: full, indexShape: [shape[0], k, c])
    }

    /// Broadcasts to `target` (a copy), as torch.expand followed by contiguous().
    public func expanded(to target: [Int]) throws -> Tensor {
        guard broadcastShape(shape, target) == target else {
            throw TensorError.shapeMismatch(op: "expand", shapes: [shape, target])
        }
        return try self + Tensor(zeros: target)
    }

    /// torch.roll along the given axes (Swin's cyclic shift): per axis, the last `shift` slices move to the
    /// front — two block copies instead of an index per element.
    public func rolled(shifts: [Int], axes: [Int]) throws -> Tensor {
        var result = self
        for (shift, axis) in zip(shifts, axes) {
            let a = try normalizedAxis(axis, rank: rank, op: "roll")
            let n = shape[a]
            guard n > 0 else { continue }
            let s = ((shift % n) + n) % n
            if s == 0 { continue }
            result = try Tensor.concat([result.slice(axis: a, n - s..<n), result.slice(axis: a, 0..<n - s)], axis: a)
        }
        return result
    }

    /// Zero padding of the last two axes (H, W): top, bottom, left, right.
    public func padded2d(top: Int, bottom: Int, left: Int, right: Int) throws -> Tensor {
        guard rank >= 2, top >= 0, bottom >= 0, left >= 0, right >= 0 else {
            throw TensorError.invalidArgument(
                op: "pad", reason: "needs rank ≥ 2 and non-negative padding; got \(shape)")
        }
        if top == 0 && bottom == 0 && left == 0 && right == 0 { return self }
        let h = shape[rank - 2]
        let w = shape[rank - 1]
        let planes = count / max(1, h * w)
        let oh = h + top + bottom
        let ow = w + left + right
        var outShape = shape
        outShape[rank - 2] = oh
        outShape[rank - 1] = ow
        let x = pointer
        return try Tensor.result(
            shape: outShape, zeroed: true, inputs: [self],
            compute: { out in
                for p in 0..<planes {
                    for y in 0..<h {
                        (out + (p * oh + y + top) * ow + left).update(from: x + (p * h + y) * w, count: w)
                    }
                }
            },
            backward: { grad in
                let g = grad.pointer
                try self.accumulateGrad { d in
                    for p in 0..<planes {
                        for y in 0..<h {
                            for xx in 0..<w { d[(p * h + y) * w + xx] += g[(p * oh + y + top) * ow + left + xx] }
                        }
                    }
                }
            })
    }
}
