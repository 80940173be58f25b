import CKernels
import Foundation

// Softmax and log-softmax over the last dimension of `rows` × `dim`.

/// Softmax of each of `rows` contiguous rows of `dim` values (torch.softmax over the last dimension).
public func softmaxForward(rows: Int, dim: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
    parallelFor(rows, minimumPerThread: 8) { range in
        for r in range { softmaxRow(input + r * dim, output + r * dim, dim) }
    }
}

/// One row, on the calling thread (x may equal y); a fully masked row (all −∞) is shifted by 0.
@inline(__always)
func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ dim: Int) {
    zoo_softmax_row(x, y, dim)
}

/// inputGrad += y ⊙ (dy − Σ dy·y) per row, from the forward pass's output y and its gradient dy.
public func softmaxBackward(
    rows: Int, dim: Int, output: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
    inputGrad: UnsafeMutablePointer<Float>
) {
    parallelFor(rows, minimumPerThread: 8) { range in
        for r in range {
            let y = output + r * dim
            let dy = outputGrad + r * dim
            let dx = inputGrad + r * dim
            let dot = vectorDot(y, dy, count: dim)
            for i in 0..<dim { dx[i] += y[i] * (dy[i] - dot) }
        }
    }
}

/// Log-softmax of each row, x − max − log Σ exp(x − max) (torch.log_softmax over the last dimension).
public func logSoftmaxForward(rows: Int, dim: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
    parallelFor(rows, minimumPerThread: 8) { range in
        for r in range {
            let x = input + r * dim
            let y = output + r * dim
            var maximum = -Float.infinity
            for i in 0..<dim { maximum = max(maximum, x[i]) }
            var total: Float = 0
            for i in 0..<dim { total += expf(x[i] - maximum) }
            let logTotal = maximum + logf(total)
            for i in 0..<dim { y[i] = x[i] - logTotal }
        }
    }
}

/// inputGrad += dy − softmax · Σ dy per row, with softmax = exp of the forward pass's output.
public func logSoftmaxBackward(
    rows: Int, dim: Int, output: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
    inputGrad: UnsafeMutablePointer<Float>
) {
    parallelFor(rows, minimumPerThread: 8) { range in
        for r in range {
            let y = output + r * dim
            let dy = outputGrad + r * dim
            let dx = inputGrad + r * dim
            var total: Float = 0
            for i in 0..<dim { total += dy[i] }
            for i in 0..<dim { dx[i] += dy[i] - expf(y[i]) * total }
        }
    }
}
