import Randomness
import XCTest

@testable import NN
@testable import Tensors

/// torch.nn.Conv2d against a direct convolution written out in scalar loops, on the autograd path and the
/// inference path, with PyTorch's default padding and TensorFlow's "same".
final class Conv2dTests: XCTestCase {
    /// out[n][o][y][x] = bias[o] + Σ over the group's input channels and kernel taps of w · (zero-padded) input.
    private func directConvolution(
        _ input: Tensor, _ conv: Conv2d, padding p: Padding2d
    ) -> (shape: [Int], values: [Float]) {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (k, s, d, g) = (conv.kernelSize.0, conv.stride.0, conv.dilation.0, conv.groups)
        let outChannels = conv.outChannels
        let oh = (h + p.top + p.bottom - d * (k - 1) - 1) / s + 1
        let ow = (w + p.left + p.right - d * (k - 1) - 1) / s + 1
        let (x, weight, bias) = (input.scalars, conv.weight.scalars, conv.bias?.scalars)
        let perGroupIn = c / g
        let perGroupOut = outChannels / g
        var out = [Float](repeating: 0, count: n * outChannels * oh * ow)
        for b in 0..<n {
            for o in 0..<outChannels {
                let group = o / perGroupOut
                for y in 0..<oh {
                    for xx in 0..<ow {
                        var sum = bias?[o] ?? 0
                        for ci in 0..<perGroupIn {
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let iy = y * s + ky * d - p.top
                                    let ix = xx * s + kx * d - p.left
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                    let channel = group * perGroupIn + ci
                                    sum +=
                                        weight[((o * perGroupIn + ci) * k + ky) * k + kx]
                                        * x[((b * c + channel) * h + iy) * w + ix]
                                }
                            }
                        }
                        out[((b * outChannels + o) * oh + y) * ow + xx] = sum
                    }
                }
            }
        }
        return ([n, outChannels, oh, ow], out)
    }

    func testMatchesDirectConvolution() throws {
        let cases: [(kernel: Int, stride: Int, padding: ConvPadding?, dilation: Int, groups: Int, bias: Bool)] = [
            (3, 1, nil, 1, 1, true), (3, 2, .symmetric(0), 1, 1, false), (5, 1, nil, 2, 2, true),
            (3, 2, .same, 1, 4, true), (2, 2, .explicit(Padding2d(top: 1, left: 0, bottom: 0, right: 2)), 1, 1, true),
        ]
        for (index, c) in cases.enumerated() {
            var generator = RandomGenerator(seed: UInt64(30 + index))
            let conv = try Initialization.using(&generator) {
                try Conv2d(
                    4, 8, kernel: c.kernel, stride: c.stride, padding: c.padding, dilation: c.dilation,
                    groups: c.groups,
                    bias: c.bias)
            }
            var rng = RandomGenerator(seed: UInt64(40 + index))
            let x = try Tensor.normal([2, 4, 9, 10], using: &rng)
            let expected = directConvolution(x, conv, padding: conv.resolvedPadding(height: 9, width: 10))
            for output in [try conv(x), try withoutGrad { try conv(x) }] {
                XCTAssertEqual(output.shape, expected.shape, "case \(index)")
                for (a, e) in zip(output.scalars, expected.values) {
                    XCTAssertEqual(a, e, accuracy: 1e-4 * max(1, abs(e)), "case \(index)")
                }
            }
        }
    }

    func testDefaultPaddingKeepsTheSizeOfOddKernels() throws {
        XCTAssertEqual(try Conv2d(1, 1, kernel: 3).padding, .symmetric(1))
        XCTAssertEqual(try Conv2d(1, 1, kernel: 5, dilation: 2).padding, .symmetric(4))
        XCTAssertEqual(try Conv2d(1, 1, kernel: 1).padding, .symmetric(0))
        let conv = try Conv2d(2, 3, kernel: 7, stride: 1, dilation: 3)
        XCTAssertEqual(try conv(Tensor(zeros: [1, 2, 20, 21])).shape, [1, 3, 20, 21])
    }

    /// TF "same": ⌈n / s⌉ outputs; the odd padding pixel goes to the bottom / right.
    func testSamePaddingDependsOnTheInputSize() throws {
        let conv = try Conv2d(1, 1, kernel: 3, stride: 2, padding: .same)
        // n = 9: 5 outputs need (5 − 1)·2 + 3 = 11 pixels, 2 of padding; n = 10: 11 − 10 = 1, at the end.
        XCTAssertEqual(conv.resolvedPadding(height: 9, width: 10), Padding2d(top: 1, left: 0, bottom: 1, right: 1))
        XCTAssertEqual(try conv(Tensor(zeros: [1, 1, 9, 10])).shape, [1, 1, 5, 5])
    }

    func testShapesAndInitialisationBounds() throws {
        let conv = try Conv2d(6, 4, kernel: 3, groups: 2)
        XCTAssertEqual(conv.weight.shape, [4, 3, 3, 3])
        XCTAssertEqual(conv.bias?.shape, [4])
        XCTAssertEqual(conv.inChannels, 6)
        XCTAssertEqual(conv.outChannels, 4)
        XCTAssertEqual(conv.stateDict().map(\.name), ["weight", "bias"])
        XCTAssertNil(try Conv2d(6, 4, kernel: 3, bias: false).bias)
        // fan_in = 6 / 2 · 3 · 3 = 27: U(−1/√27, 1/√27) for weight and bias.
        let bound = 1 / Float(27).squareRoot()
        for value in conv.weight.scalars + conv.bias!.scalars { XCTAssertLessThanOrEqual(abs(value), bound) }
    }
}
