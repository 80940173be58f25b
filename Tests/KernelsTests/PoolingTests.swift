import XCTest

@testable import Kernels

/// Max and average pooling against the scalar loop and torch's definition.
final class PoolingTests: XCTestCase {
    /// The inference max pool (vector kernels: a padded copy, or 3×3 of stride 2 split by column phase) against the
    /// scalar loop that also records argmax, and the average pool against its definition.
    func testPoolingAgreesWithReference() throws {
        try onEveryPath { path in
            let cases = [
                Pool2dGeometry(planes: 3, height: 37, width: 41, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1)),
                // 3×3 of stride 2 split by column phase: rows of several vectors, padded on the left or not at all
                // (the last windows, by ceil mode, reaching past the row).
                Pool2dGeometry(planes: 2, height: 9, width: 100, kernel: (3, 3), stride: (2, 2), padding: (1, 1, 1, 1)),
                Pool2dGeometry(planes: 2, height: 11, width: 70, kernel: (3, 3), stride: (2, 2), ceilMode: true),
                Pool2dGeometry(planes: 2, height: 8, width: 9, kernel: (2, 2), stride: (2, 2), ceilMode: true),
                Pool2dGeometry(planes: 2, height: 20, width: 70, kernel: (3, 2), stride: (1, 1), padding: (1, 0, 1, 1)),
            ]
            for g in cases {
                var input = random(g.planes * g.height * g.width, seed: 11)
                input[5] = .nan
                let count = g.planes * g.outHeight * g.outWidth
                var fast = [Float](repeating: 0, count: count)
                var slow = fast
                var argmax = [Int32](repeating: 0, count: count)
                maxPool2dForward(g, input: input, output: &fast, argmax: nil)
                maxPool2dForward(g, input: input, output: &slow, argmax: &argmax)
                XCTAssertEqual(fast.map(\.bitPattern), slow.map(\.bitPattern), "\(path) max pool \(g)")
                // Average pooling as torch defines it: the window clipped to the padded input, divided by its
                // size (count_include_pad) or by the number of input values in it.
                input[5] = 0.5
                for includePad in [true, false] {
                    var average = [Float](repeating: .nan, count: count)
                    avgPool2dForward(g, countIncludePad: includePad, input: input, output: &average)
                    for p in 0..<g.planes {
                        for oy in 0..<g.outHeight {
                            for ox in 0..<g.outWidth {
                                let y0 = oy * g.strideH - g.padTop
                                let x0 = ox * g.strideW - g.padLeft
                                let y1 = min(y0 + g.kernelH, g.height + g.padBottom)
                                let x1 = min(x0 + g.kernelW, g.width + g.padRight)
                                var sum = 0.0
                                var inside = 0
                                for y in max(0, y0)..<min(g.height, y1) {
                                    for x in max(0, x0)..<min(g.width, x1) {
                                        sum += Double(input[(p * g.height + y) * g.width + x])
                                        inside += 1
                                    }
                                }
                                let expected = sum / Double(includePad ? (y1 - y0) * (x1 - x0) : inside)
                                XCTAssertEqual(
                                    Double(average[(p * g.outHeight + oy) * g.outWidth + ox]), expected, accuracy: 1e-5,
                                    "\(path) avg pool \(g) includePad=\(includePad) at \(p), \(oy), \(ox)")
                            }
                        }
                    }
                }
            }
        }
    }

}
