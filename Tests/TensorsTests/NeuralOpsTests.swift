import Kernels
import Randomness
import XCTest

@testable import Tensors

final class NeuralOpsTests: XCTestCase {
    struct ConvCase {
        var input: [Int]
        var weight: [Int]
        var stride = (1, 1)
        var padding = Padding2d.zero
        var dilation = (1, 1)
        var groups = 1
    }

    let convCases: [ConvCase] = [
        ConvCase(input: [2, 3, 6, 6], weight: [4, 3, 3, 3], padding: Padding2d(1)),
        ConvCase(input: [1, 4, 7, 5], weight: [6, 2, 3, 3], stride: (2, 2), padding: Padding2d(1), groups: 2),
        ConvCase(input: [2, 3, 5, 5], weight: [5, 3, 1, 1]),  // pointwise, small maps share a GEMM
        ConvCase(input: [2, 2, 10, 11], weight: [3, 2, 1, 1]),  // pointwise, one GEMM per image on the input
        ConvCase(input: [1, 4, 3, 4], weight: [6, 2, 1, 1], groups: 2),  // grouped pointwise, one image
        // images share a GEMM
        ConvCase(input: [3, 4, 3, 4], weight: [6, 2, 3, 3], stride: (2, 1), padding: Padding2d(1), groups: 2),
        ConvCase(
            input: [1, 2, 8, 7], weight: [3, 2, 3, 2], stride: (1, 2), padding: Padding2d(2, 1), dilation: (2, 1)),
        ConvCase(input: [2, 4, 7, 7], weight: [4, 1, 3, 3], padding: Padding2d(1), groups: 4),  // depthwise
        ConvCase(
            input: [1, 3, 9, 8], weight: [3, 1, 5, 5], stride: (2, 2),
            padding: Padding2d(top: 1, left: 2, bottom: 2, right: 1), groups: 3),
        ConvCase(input: [1, 2, 6, 6], weight: [4, 1, 3, 3], padding: Padding2d(1), groups: 2),  // channel multiplier 2
        ConvCase(input: [1, 3, 8, 8], weight: [2, 3, 4, 4], stride: (4, 4)),  // patch embedding
    ]

    func testConvolutionGradients() throws {
        for (n, c) in convCases.enumerated() {
            try checkGradients([
                randomTensor(c.input, seed: 20 + UInt64(n)), randomTensor(c.weight, seed: 40, scale: 0.5),
                randomTensor([c.weight[0]], seed: 41),
            ]) {
                try $0[0].conv2d(
                    weight: $0[1], bias: $0[2], stride: c.stride, padding: c.padding, dilation: c.dilation,
                    groups: c.groups)
            }
        }
    }

    /// The fused block (its expanded tensor large enough to run fused) gives its three convs' result.
    func testInvertedResidualInferenceMatchesItsConvs() throws {
        let x = try randomTensor([1, 8, 128, 128], seed: 1)
        let expand = InferenceConv(
            weight: try randomTensor([96, 8, 1, 1], seed: 2, scale: 0.3), shift: (0..<96).map { Float($0) / 96 },
            activation: .relu6)
        let depthwise = InferenceConv(
            weight: try randomTensor([96, 1, 3, 3], seed: 3, scale: 0.3), scale: (0..<96).map { 1 + Float($0) / 96 },
            activation: .relu6, padding: Padding2d(1), groups: 96)
        let project = InferenceConv(weight: try randomTensor([8, 96, 1, 1], seed: 4, scale: 0.1))
        let fused = try x.invertedResidualInference(
            expand: expand, depthwise: depthwise, project: project, addsInput: true)
        let separate = try x.conv2dInference(expand).conv2dInference(depthwise).conv2dInference(project, residual: x)
        XCTAssertEqual(fused.shape, [1, 8, 128, 128])
        XCTAssertLessThanOrEqual(zip(fused.scalars, separate.scalars).map { abs($0 - $1) }.max()!, 1e-5)
        // A projection to other channels cannot add the input.
        let narrower = InferenceConv(weight: try randomTensor([4, 96, 1, 1], seed: 5))
        XCTAssertThrowsError(
            try x.invertedResidualInference(expand: expand, depthwise: depthwise, project: narrower, addsInput: true))
        XCTAssertThrowsError(
            try x.invertedResidualInference(expand: nil, depthwise: depthwise, project: project, addsInput: false))
    }

    func testConvolutionRejectsMismatchedChannels() {
        XCTAssertThrowsError(try Tensor(zeros: [1, 3, 8, 8]).conv2d(weight: Tensor(zeros: [4, 2, 3, 3]))) { error in
            XCTAssertTrue("\(error)".contains("[1, 3, 8, 8]") && "\(error)".contains("[4, 2, 3, 3]"))
        }
    }

    func testSamePaddingMatchesTensorFlow() {
        // TF: 224 input, k3 s2 → output 112, total pad 1 → (0 before, 1 after).
        XCTAssertEqual(
            Padding2d.same(height: 224, width: 224, kernel: (3, 3), stride: (2, 2)),
            Padding2d(top: 0, left: 0, bottom: 1, right: 1))
        XCTAssertEqual(Padding2d.same(height: 7, width: 7, kernel: (5, 5), stride: (1, 1)), Padding2d(2))
        XCTAssertEqual(Padding2d.same(height: 9, width: 9, kernel: (5, 5), stride: (2, 2)), Padding2d(2))
    }

    func testPoolingValues() throws {
        let x = try Tensor(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(try x.maxPool2d(kernel: (2, 2), stride: (1, 1)).scalars, [5, 6, 8, 9])
        XCTAssertEqual(try x.maxPool2d(kernel: (3, 3), stride: (2, 2), padding: Padding2d(1)).scalars, [5, 6, 8, 9])
        // NaN wins its windows, as in torch, with and without the argmax kept for backward.
        let withNaN = try Tensor(shape: [1, 1, 3, 3], scalars: [1, .nan, 3, 4, 5, 6, 7, 8, 9])
        for tracked in [false, true] {
            withNaN.requiresGrad = tracked
            let pooled = try withNaN.maxPool2d(kernel: (2, 2), stride: (1, 1)).scalars
            XCTAssertTrue(pooled[0].isNaN && pooled[1].isNaN, "\(pooled)")
            XCTAssertEqual(Array(pooled[2...]), [8, 9])
        }
        // avg_pool2d(k=3, s=1, p=1): corner (1+2+4+5)/9 with padding counted, /4 without.
        XCTAssertEqual(
            try x.avgPool2d(kernel: (3, 3), stride: (1, 1), padding: Padding2d(1)).scalars[0], 12.0 / 9, accuracy: 1e-6)
        XCTAssertEqual(
            try x.avgPool2d(kernel: (3, 3), stride: (1, 1), padding: Padding2d(1), countIncludePad: false).scalars[0],
            3, accuracy: 1e-6)
        // ceil_mode: 3×3 input, k2 s2 → 2×2 with the last window partial.
        XCTAssertEqual(try x.avgPool2d(kernel: (2, 2), stride: (2, 2), ceilMode: true).scalars, [3, 4.5, 7.5, 9])
        XCTAssertEqual(try x.adaptiveAvgPool2d((2, 2)).scalars, [3, 4, 6, 7])
        XCTAssertEqual(try x.globalAvgPool2d().scalars, [5])
    }

    func testPoolingGradients() throws {
        let x = try awayFromZero([2, 3, 7, 6], seed: 30)
        try checkGradients([x], epsilon: 1e-3) {
            try $0[0].maxPool2d(kernel: (3, 3), stride: (2, 2), padding: Padding2d(1))
        }
        try checkGradients([x]) { try $0[0].avgPool2d(kernel: (3, 3), stride: (2, 2), padding: Padding2d(1)) }
        try checkGradients([x]) {
            try $0[0].avgPool2d(kernel: (3, 3), stride: (1, 1), padding: Padding2d(1), countIncludePad: false)
        }
        try checkGradients([x]) { try $0[0].avgPool2d(kernel: (2, 2), stride: (2, 2), ceilMode: true) }
        try checkGradients([x]) { try $0[0].adaptiveAvgPool2d((3, 4)) }
        try checkGradients([x]) { try $0[0].globalAvgPool2d() }
    }

    func testBatchNormTrainingStatisticsAndGradients() throws {
        let x = try randomTensor([4, 3, 5, 5], seed: 31)
        let mean = try Tensor(zeros: [3])
        let variance = try Tensor(repeating: 1, shape: [3])
        let y = try x.batchNorm(
            weight: nil, bias: nil, runningMean: mean, runningVar: variance, training: true, momentum: 0.1)
        // Normalised per channel; running mean = 0.1 × batch mean, running var = 0.9 + 0.1 × unbiased var.
        let perChannel = try y.permuted([1, 0, 2, 3]).reshaped([3, -1])
        for v in try perChannel.mean(axes: [1]).scalars { XCTAssertEqual(v, 0, accuracy: 1e-5) }
        let xc = try x.permuted([1, 0, 2, 3]).reshaped([3, -1])
        let batchMean = try xc.mean(axes: [1]).scalars
        let batchVar = try xc.variance(axes: [1]).scalars
        for c in 0..<3 {
            XCTAssertEqual(mean.scalars[c], 0.1 * batchMean[c], accuracy: 1e-5)
            XCTAssertEqual(variance.scalars[c], 0.9 + 0.1 * batchVar[c], accuracy: 1e-5)
        }
        for training in [true, false] {
            try checkGradients([
                randomTensor([3, 2, 3, 3], seed: 32), randomTensor([2], seed: 33), randomTensor([2], seed: 34),
            ]) {
                try $0[0].batchNorm(
                    weight: $0[1], bias: $0[2], runningMean: Tensor(zeros: [2]),
                    runningVar: Tensor(repeating: 0.5, shape: [2]), training: training)
            }
        }
    }

    func testLayerAndGroupNormGradients() throws {
        try checkGradients([
            randomTensor([2, 3, 8], seed: 35), randomTensor([8], seed: 36), randomTensor([8], seed: 37),
        ]) {
            try $0[0].layerNorm(weight: $0[1], bias: $0[2], epsilon: 1e-6)
        }
        for groups in [1, 2, 4] {
            try checkGradients([
                randomTensor([2, 4, 3, 3], seed: 38), randomTensor([4], seed: 39), randomTensor([4], seed: 40),
            ]) {
                try $0[0].groupNorm(groups: groups, weight: $0[1], bias: $0[2])
            }
        }
        let y = try Tensor(shape: [1, 4], scalars: [1, 2, 3, 4]).layerNorm(weight: nil, bias: nil, epsilon: 0)
        // (x − 2.5) / sqrt(1.25)
        for (v, e) in zip(y.scalars, [-1.3416408, -0.4472136, 0.4472136, 1.3416408]) {
            XCTAssertEqual(v, Float(e), accuracy: 1e-5)
        }
    }

    func testSoftmaxValuesAndGradients() throws {
        let x = try Tensor(shape: [1, 3], scalars: [1, 2, 3])
        // e^(x − 3) / Σ: [0.09003057, 0.24472847, 0.66524096]
        for (v, e) in zip(try x.softmax().scalars, [0.09003057, 0.24472847, 0.66524096]) {
            XCTAssertEqual(v, Float(e), accuracy: 1e-6)
        }
        XCTAssertEqual(try x.logSoftmax().scalars[2], log(0.66524096), accuracy: 1e-6)
        try checkGradients([randomTensor([3, 7], seed: 41)]) { try $0[0].softmax() }
        try checkGradients([randomTensor([3, 7], seed: 41)]) { try $0[0].logSoftmax() }
    }

    /// Batch norm + ReLU over parts read in place equals the same over their concatenation (DenseNet inference).
    func testConcatenatedBatchNormMatchesNormOfConcatenation() throws {
        let parts = [
            try randomTensor([2, 3, 4, 5], seed: 60), try randomTensor([2, 1, 4, 5], seed: 61),
            try randomTensor([2, 2, 4, 5], seed: 62),
        ]
        let weight = try randomTensor([6], seed: 63)
        let bias = try randomTensor([6], seed: 64)
        let mean = try randomTensor([6], seed: 65)
        let variance = try Tensor(shape: [6], scalars: [0.5, 1, 2, 0.1, 3, 1.5])
        let expected = try Tensor.concat(parts, axis: 1)
            .batchNorm(
                weight: weight, bias: bias, runningMean: mean, runningVar: variance, training: false, epsilon: 1e-5
            ).relu()
        let fused = try Tensor.concatenatedBatchNormInference(
            parts, weight: weight, bias: bias, runningMean: mean,
            runningVar: variance, epsilon: 1e-5, activation: .relu)
        XCTAssertEqual(fused.shape, [2, 6, 4, 5])
        for (x, y) in zip(fused.scalars, expected.scalars) { XCTAssertEqual(x, y, accuracy: 1e-6) }
        XCTAssertThrowsError(
            try Tensor.concatenatedBatchNormInference(
                [parts[0], randomTensor([1, 3, 4, 5], seed: 66)], weight: weight,
                bias: bias, runningMean: mean, runningVar: variance,
                epsilon: 1e-5, activation: .relu))
    }

    func testUnfoldFoldAgreeWithDefinitions() throws {
        let x = try Tensor(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let columns = try x.unfold(kernel: (2, 2))
        // F.unfold(x, 2): rows are the 4 kernel taps, columns the 4 windows.
        XCTAssertEqual(columns.shape, [1, 4, 4])
        XCTAssertEqual(columns.scalars, [1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9])
        // fold(unfold(x)) multiplies each pixel by the number of windows covering it.
        XCTAssertEqual(try columns.fold(outputSize: (3, 3), kernel: (2, 2)).scalars, [1, 4, 3, 8, 20, 12, 7, 16, 9])
        try checkGradients([randomTensor([2, 3, 5, 6], seed: 50)]) {
            try $0[0].unfold(kernel: (3, 3), stride: (2, 2), padding: Padding2d(1))
        }
        try checkGradients([randomTensor([2, 27, 9], seed: 51)]) {
            try $0[0].fold(outputSize: (5, 6), kernel: (3, 3), stride: (2, 2), padding: Padding2d(1))
        }
    }

    func testDropoutAndDropPath() throws {
        var rng = RandomGenerator(seed: 1)
        let x = try Tensor(repeating: 1, shape: [1000])
        let y = try x.dropout(0.25, training: true, using: &rng)
        let zeros = y.scalars.filter { $0 == 0 }.count
        XCTAssertTrue((150...350).contains(zeros), "dropped \(zeros) of 1000")
        XCTAssertTrue(y.scalars.allSatisfy { $0 == 0 || abs($0 - 4.0 / 3) < 1e-6 })
        XCTAssertEqual(try x.dropout(0.25, training: false, using: &rng).scalars, x.scalars)
        let paths = try Tensor(repeating: 1, shape: [64, 3]).dropPath(0.5, training: true, using: &rng)
        for row in 0..<64 { XCTAssertEqual(Set(paths.scalars[row * 3..<row * 3 + 3]).count, 1) }
        var seeded = RandomGenerator(seed: 3)
        try checkGradients([randomTensor([4, 5], seed: 52)]) { t in
            var copy = seeded  // the same mask on every evaluation
            defer {
                _ = seeded.next()
                seeded = RandomGenerator(seed: 3)
            }
            return try t[0].dropout(0.5, training: true, using: &copy)
        }
    }

    func testCrossEntropyValuesAndGradients() throws {
        let logits = try Tensor(shape: [1, 3], scalars: [1, 2, 3])
        // −log softmax(x)[2] = −log 0.66524096 = 0.40760596
        XCTAssertEqual(try logits.crossEntropy(labels: [2]).item, 0.40760596, accuracy: 1e-6)
        // Label smoothing 0.1: 0.9·0.4076 + 0.1·mean(−log p) = 0.9·0.40760596 + 0.1·(2.40760596+1.40760596+0.40760596)/3
        XCTAssertEqual(try logits.crossEntropy(labels: [2], labelSmoothing: 0.1).item, 0.50760596, accuracy: 1e-5)
        XCTAssertThrowsError(try logits.crossEntropy(labels: [3]))
        try checkGradients([randomTensor([4, 5], seed: 53)]) {
            try $0[0].crossEntropy(labels: [0, 4, 2, 2], labelSmoothing: 0.1)
        }
    }
}
