import CKernels
import Foundation

// Batch norm over NCHW (statistics per channel over N·H·W), layer norm over the last dimension,
// group norm over (C/G)·H·W per sample and group. Forwards save mean and 1/σ for the backward.

/// Training mode: normalises with the batch statistics (biased variance) and updates the running
/// statistics with the unbiased variance, as torch.nn.BatchNorm2d does.
///
/// - Parameters:
///   - batch: N.
///   - channels: C; statistics are per channel.
///   - spatial: H·W, the values of one channel plane.
///   - input: x, N × C × spatial.
///   - weight: γ, C values; nil for 1 (`affine=False`).
///   - bias: β, C values; nil for 0.
///   - epsilon: Added to the variance (torch's `eps`).
///   - momentum: The running statistics' update weight (torch's `momentum`, e.g. 0.1).
///   - runningMean: C running means, updated in place; nil (with `runningVar`) to keep none.
///   - runningVar: C running variances, updated in place; nil (with `runningMean`) to keep none.
///   - output: Receives y = (x − mean)·invStd·γ + β, N × C × spatial.
///   - savedMean: Receives the C batch means, for `batchNormBackward`.
///   - savedInvStd: Receives the C values 1/√(variance + ε), for `batchNormBackward`.
///   - replicaSum: Sums the statistics over data-parallel replicas (synchronised batch norm); nil for one.
public func batchNormTrainForward(
    batch: Int, channels: Int, spatial: Int, input: UnsafePointer<Float>,
    weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, epsilon: Float, momentum: Float,
    runningMean: UnsafeMutablePointer<Float>?, runningVar: UnsafeMutablePointer<Float>?,
    output: UnsafeMutablePointer<Float>,
    savedMean: UnsafeMutablePointer<Float>, savedInvStd: UnsafeMutablePointer<Float>,
    replicaSum: ReplicaSum? = nil
) {
    KernelProfile.measure(.norm) {
        // Per channel the sum, then the squared deviations from the mean; with replicas (synchronised batch
        // norm) each is summed over all of them, so the statistics are those of the whole global batch.
        var sums = [Double](repeating: 0, count: channels + 1)
        var squares = [Double](repeating: 0, count: channels)
        sums.withUnsafeMutableBufferPointer { sums in
            parallelFor(channels) { range in
                for c in range {
                    var total = 0.0
                    for n in 0..<batch {
                        total += Double(vectorSum(input + (n * channels + c) * spatial, count: spatial))
                    }
                    sums[c] = total
                }
            }
            sums[channels] = Double(batch * spatial)
            replicaSum?(sums)
        }
        let count = sums[channels]
        squares.withUnsafeMutableBufferPointer { squares in
            parallelFor(channels) { range in
                for c in range {
                    let mean = Float(sums[c] / count)
                    var total = 0.0
                    for n in 0..<batch {
                        total += Double(
                            vectorSquaredDeviations(input + (n * channels + c) * spatial, count: spatial, mean: mean))
                    }
                    squares[c] = total
                }
            }
            replicaSum?(squares)
        }
        parallelFor(channels) { range in
            for c in range {
                let mean = sums[c] / count
                let variance = squares[c] / count
                let invStd = Float(1 / (variance + Double(epsilon)).squareRoot())
                savedMean[c] = Float(mean)
                savedInvStd[c] = invStd
                if let runningMean, let runningVar {
                    let unbiased = count > 1 ? squares[c] / (count - 1) : variance
                    runningMean[c] = (1 - momentum) * runningMean[c] + momentum * Float(mean)
                    runningVar[c] = (1 - momentum) * runningVar[c] + momentum * Float(unbiased)
                }
                let scale = (weight?[c] ?? 1) * invStd
                let shift = (bias?[c] ?? 0) - Float(mean) * scale
                for n in 0..<batch {
                    let o = (n * channels + c) * spatial
                    for i in 0..<spatial { output[o + i] = input[o + i] * scale + shift }
                }
            }
        }
    }
}

/// Sums a buffer element-wise over the replicas of a data-parallel run, in place (see NN's Communicator).
public typealias ReplicaSum = (UnsafeMutableBufferPointer<Double>) -> Void

/// Evaluation mode: y = f((x − running mean) / sqrt(running var + ε) · γ + β), f an optional activation
/// applied while each plane is still in cache. input may alias output.
///
/// - Parameters:
///   - batch: N.
///   - channels: C.
///   - spatial: H·W, the values of one channel plane.
///   - input: x, N × C × spatial.
///   - weight: γ, C values; nil for 1.
///   - bias: β, C values; nil for 0.
///   - epsilon: Added to the running variance (torch's `eps`).
///   - runningMean: The C running means.
///   - runningVar: The C running variances.
///   - activation: f, applied after the affine step.
///   - output: Receives y, N × C × spatial.
public func batchNormEvalForward(
    batch: Int, channels: Int, spatial: Int, input: UnsafePointer<Float>,
    weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, epsilon: Float,
    runningMean: UnsafePointer<Float>, runningVar: UnsafePointer<Float>,
    activation: Activation = .identity, output: UnsafeMutablePointer<Float>
) {
    KernelProfile.measure(.norm) {
        batchNormEvalForward(
            batch: batch, channels: channels, spatial: spatial, planes: { input + $0 * spatial },
            weight: weight, bias: bias, epsilon: epsilon, runningMean: runningMean, runningVar: runningVar,
            activation: activation, output: output)
    }
}

/// The same with input plane p (= n·C + c) at `planes(p)`: a channel concatenation of several tensors is
/// normalised without being copied together first.
///
/// - Parameters:
///   - batch: N.
///   - channels: C.
///   - spatial: H·W, the values of one channel plane.
///   - source: Returns where the `spatial` values of plane p = n·C + c start; called from several threads.
///   - weight: γ, C values; nil for 1.
///   - bias: β, C values; nil for 0.
///   - epsilon: Added to the running variance (torch's `eps`).
///   - runningMean: The C running means.
///   - runningVar: The C running variances.
///   - activation: f, applied after the affine step.
///   - output: Receives y, N × C × spatial, contiguous.
public func batchNormEvalForward(
    batch: Int, channels: Int, spatial: Int, planes source: (Int) -> UnsafePointer<Float>,
    weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, epsilon: Float,
    runningMean: UnsafePointer<Float>, runningVar: UnsafePointer<Float>,
    activation: Activation, output: UnsafeMutablePointer<Float>
) {
    KernelProfile.measure(.norm) {
        parallelFor(batch * channels, minimumPerThread: 8) { planes in
            for p in planes {
                let c = p % channels
                let input = source(p)
                let scale = (weight?[c] ?? 1) / (runningVar[c] + epsilon).squareRoot()
                let shift = (bias?[c] ?? 0) - runningMean[c] * scale
                zoo_scale_shift_activation(input, output + p * spatial, spatial, scale, shift, activation.c)
            }
        }
    }
}

/// Backward for both modes. Training: the statistics depend on x; evaluation: they are constants,
/// so dx = dy·γ·invStd. Gradients are added into inputGrad, weightGrad and biasGrad.
///
/// - Parameters:
///   - batch: N.
///   - channels: C.
///   - spatial: H·W, the values of one channel plane.
///   - training: Whether the forward pass used the batch statistics.
///   - input: The forward pass's x, N × C × spatial.
///   - weight: γ, C values; nil for 1.
///   - mean: The C saved batch means (training) or running means (evaluation).
///   - invStd: The C values 1/√(variance + ε) of the same statistics.
///   - outputGrad: dy, N × C × spatial.
///   - inputGrad: Accumulates dx; nil to skip.
///   - weightGrad: Accumulates dγ (this replica's share); nil to skip.
///   - biasGrad: Accumulates dβ (this replica's share); nil to skip.
///   - replicaSum: In training, sums the per-channel terms of dx over the replicas, as in the forward pass.
public func batchNormBackward(
    batch: Int, channels: Int, spatial: Int, training: Bool,
    input: UnsafePointer<Float>, weight: UnsafePointer<Float>?,
    mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
    inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?,
    biasGrad: UnsafeMutablePointer<Float>?, replicaSum: ReplicaSum? = nil
) {
    KernelProfile.measure(.norm) {
        // Per channel Σdy and Σdy·x̂ of this replica: they are γ's and β's gradients. The input gradient needs
        // them over the whole batch, so with replicas they are summed over all of them first.
        var sums = [Double](repeating: 0, count: 2 * channels + 1)
        sums.withUnsafeMutableBufferPointer { sums in
            parallelFor(channels) { range in
                for c in range {
                    var sumDy: Float = 0
                    var sumDyXhat: Float = 0
                    for n in 0..<batch {
                        let o = (n * channels + c) * spatial
                        sumDy += vectorSum(outputGrad + o, count: spatial)
                        sumDyXhat +=
                            vectorCenteredDot(outputGrad + o, input + o, count: spatial, mean: mean[c]) * invStd[c]
                    }
                    weightGrad?[c] += sumDyXhat
                    biasGrad?[c] += sumDy
                    sums[c] = Double(sumDy)
                    sums[channels + c] = Double(sumDyXhat)
                }
            }
            sums[2 * channels] = Double(batch * spatial)
            if training { replicaSum?(sums) }
        }
        guard let inputGrad else { return }
        let count = Float(sums[2 * channels])
        parallelFor(channels) { range in
            for c in range {
                let (m, s) = (mean[c], invStd[c])
                let meanDy = Float(sums[c]) / count
                let meanDyXhat = Float(sums[channels + c]) / count
                let gamma = weight?[c] ?? 1
                for n in 0..<batch {
                    let o = (n * channels + c) * spatial
                    for i in 0..<spatial {
                        if training {
                            let xhat = (input[o + i] - m) * s
                            inputGrad[o + i] += gamma * s * (outputGrad[o + i] - meanDy - xhat * meanDyXhat)
                        } else {
                            inputGrad[o + i] += gamma * s * outputGrad[o + i]
                        }
                    }
                }
            }
        }
    }
}

/// Normalises each of `rows` rows of length `dim` (torch.nn.functional.layer_norm over the last dimension).
///
/// - Parameters:
///   - rows: The number of rows.
///   - dim: The row length.
///   - input: x, rows × dim.
///   - weight: γ, `dim` values; nil for 1.
///   - bias: β, `dim` values; nil for 0.
///   - epsilon: Added to the variance (torch's `eps`).
///   - output: Receives y, rows × dim; may be `input`.
///   - savedMean: Receives each row's mean for the backward pass; nil in inference.
///   - savedInvStd: Receives each row's 1/√(variance + ε); nil in inference.
public func layerNormForward(
    rows: Int, dim: Int, input: UnsafePointer<Float>, weight: UnsafePointer<Float>?,
    bias: UnsafePointer<Float>?, epsilon: Float, output: UnsafeMutablePointer<Float>,
    savedMean: UnsafeMutablePointer<Float>?, savedInvStd: UnsafeMutablePointer<Float>?
) {
    KernelProfile.measure(.norm) {
        parallelFor(rows, minimumPerThread: 16) { range in
            var mean: Float = 0
            var invStd: Float = 0
            for r in range {
                zoo_layer_norm_row(input + r * dim, output + r * dim, dim, weight, bias, epsilon, &mean, &invStd)
                savedMean?[r] = mean
                savedInvStd?[r] = invStd
            }
        }
    }
}

/// The gradients of `layerNormForward`, added into inputGrad, weightGrad and biasGrad.
///
/// - Parameters:
///   - rows: The number of rows.
///   - dim: The row length.
///   - input: The forward pass's x, rows × dim.
///   - weight: γ, `dim` values; nil for 1.
///   - mean: The forward pass's saved row means.
///   - invStd: The forward pass's saved 1/√(variance + ε).
///   - outputGrad: dy, rows × dim.
///   - inputGrad: Accumulates dx; nil to skip.
///   - weightGrad: Accumulates dγ; nil to skip.
///   - biasGrad: Accumulates dβ; nil to skip.
public func layerNormBackward(
    rows: Int, dim: Int, input: UnsafePointer<Float>, weight: UnsafePointer<Float>?,
    mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>,
    inputGrad: UnsafeMutablePointer<Float>?, weightGrad: UnsafeMutablePointer<Float>?,
    biasGrad: UnsafeMutablePointer<Float>?
) {
    KernelProfile.measure(.norm) {
        if weightGrad != nil || biasGrad != nil {
            // Parameter gradients sum over rows: split the columns between threads.
            parallelFor(dim, minimumPerThread: 64) { columns in
                for r in 0..<rows {
                    let x = input + r * dim
                    let dy = outputGrad + r * dim
                    let m = mean[r]
                    let s = invStd[r]
                    for i in columns {
                        weightGrad?[i] += dy[i] * (x[i] - m) * s
                        biasGrad?[i] += dy[i]
                    }
                }
            }
        }
        guard let inputGrad else { return }
        parallelFor(rows, minimumPerThread: 16) { range in
            for r in range {
                let x = input + r * dim
                let dy = outputGrad + r * dim
                let dx = inputGrad + r * dim
                let m = mean[r]
                let s = invStd[r]
                var sumG: Float = 0
                var sumGXhat: Float = 0
                for i in 0..<dim {
                    let g = dy[i] * (weight?[i] ?? 1)
                    sumG += g
                    sumGXhat += g * (x[i] - m) * s
                }
                let n = Float(dim)
                for i in 0..<dim {
                    let g = dy[i] * (weight?[i] ?? 1)
                    let xhat = (x[i] - m) * s
                    dx[i] += s * (g - sumG / n - xhat * sumGXhat / n)
                }
            }
        }
    }
}

/// Group norm on (N, C, spatial): statistics per (sample, group) over (C/G)·spatial; affine per channel
/// (torch.nn.functional.group_norm).
///
/// - Parameters:
///   - batch: N.
///   - channels: C, a multiple of `groups`.
///   - spatial: H·W, the values of one channel plane.
///   - groups: G, the number of channel groups.
///   - input: x, N × C × spatial.
///   - weight: γ, C values; nil for 1.
///   - bias: β, C values; nil for 0.
///   - epsilon: Added to the variance (torch's `eps`).
///   - output: Receives y, N × C × spatial.
///   - savedMean: Receives the N·G means for the backward pass; nil in inference.
///   - savedInvStd: Receives the N·G values 1/√(variance + ε); nil in inference.
public func groupNormForward(
    batch: Int, channels: Int, spatial: Int, groups: Int, input: UnsafePointer<Float>,
    weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, epsilon: Float,
    output: UnsafeMutablePointer<Float>,
    savedMean: UnsafeMutablePointer<Float>?, savedInvStd: UnsafeMutablePointer<Float>?
) {
    KernelProfile.measure(.norm) {
        let perGroup = channels / groups
        let size = perGroup * spatial
        parallelFor(batch * groups) { range in
            for ng in range {
                let x = input + ng * size
                let y = output + ng * size
                let mean = Double(vectorSum(x, count: size)) / Double(size)
                var squares = 0.0
                for i in 0..<size {
                    let d = Double(x[i]) - mean
                    squares += d * d
                }
                let invStd = Float(1 / (squares / Double(size) + Double(epsilon)).squareRoot())
                savedMean?[ng] = Float(mean)
                savedInvStd?[ng] = invStd
                let firstChannel = (ng % groups) * perGroup
                for cl in 0..<perGroup {
                    let c = firstChannel + cl
                    let scale = (weight?[c] ?? 1) * invStd
                    let shift = (bias?[c] ?? 0) - Float(mean) * scale
                    for i in cl * spatial..<(cl + 1) * spatial { y[i] = x[i] * scale + shift }
                }
            }
        }
    }
}

/// The gradients of `groupNormForward`, added into inputGrad, weightGrad and biasGrad.
///
/// - Parameters:
///   - batch: N.
///   - channels: C.
///   - spatial: H·W.
///   - groups: G.
///   - input: The forward pass's x, N × C × spatial.
///   - weight: γ, C values; nil for 1.
///   - mean: The N·G saved means.
///   - invStd: The N·G saved 1/√(variance + ε).
///   - outputGrad: dy, N × C × spatial.
///   - inputGrad: Accumulates dx; nil to skip.
///   - weightGrad: Accumulates dγ; nil to skip.
///   - biasGrad: Accumulates dβ; nil to skip.
public func groupNormBackward(
    batch: Int, channels: Int, spatial: Int, groups: Int, input: UnsafePointer<Float>,
    weight: UnsafePointer<Float>?, mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
    outputGrad: UnsafePointer<Float>, inputGrad: UnsafeMutablePointer<Float>?,
    weightGrad: UnsafeMutablePointer<Float>?, biasGrad: UnsafeMutablePointer<Float>?
) {
    KernelProfile.measure(.norm) {
        let perGroup = channels / groups
        let size = perGroup * spatial
        if weightGrad != nil || biasGrad != nil {
            parallelFor(channels) { range in
                for c in range {
                    let g = c / perGroup
                    for n in 0..<batch {
                        let o = (n * channels + c) * spatial
                        let m = mean[n * groups + g]
                        let s = invStd[n * groups + g]
                        for i in 0..<spatial {
                            weightGrad?[c] += outputGrad[o + i] * (input[o + i] - m) * s
                            biasGrad?[c] += outputGrad[o + i]
                        }
                    }
                }
            }
        }
        guard let inputGrad else { return }
        parallelFor(batch * groups) { range in
            for ng in range {
                let base = ng * size
                let m = mean[ng]
                let s = invStd[ng]
                let firstChannel = (ng % groups) * perGroup
                var sumG: Float = 0
                var sumGXhat: Float = 0
                for cl in 0..<perGroup {
                    let gamma = weight?[firstChannel + cl] ?? 1
                    for i in base + cl * spatial..<base + (cl + 1) * spatial {
                        let g = outputGrad[i] * gamma
                        sumG += g
                        sumGXhat += g * (input[i] - m) * s
                    }
                }
                let n = Float(size)
                for cl in 0..<perGroup {
                    let gamma = weight?[firstChannel + cl] ?? 1
                    for i in base + cl * spatial..<base + (cl + 1) * spatial {
                        let g = outputGrad[i] * gamma
                        let xhat = (input[i] - m) * s
                        inputGrad[i] += s * (g - sumG / n - xhat * sumGXhat / n)
                    }
                }
            }
        }
    }
}
