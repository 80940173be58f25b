import Kernels
import XCTest

final class KernelProfileTests: XCTestCase {
    /// Each kernel call counts once, under its kind; the GEMM inside a conv counts toward the conv; nothing is
    /// counted outside `recording`.
    func testCallsCountUnderTheirKind() {
        func conv(_ channels: Int, kernel: Int, groups: Int = 1) -> Conv2dGeometry {
            Conv2dGeometry(
                batch: 1, inChannels: channels, height: 6, width: 6, outChannels: channels, kernel: (kernel, kernel),
                padding: (kernel / 2, kernel / 2, kernel / 2, kernel / 2), groups: groups)
        }
        let count = 8 * 8 * 7 * 7
        let x = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer {
            x.deallocate()
            y.deallocate()
        }
        x.initialize(repeating: 0.5, count: count)
        y.initialize(repeating: 0, count: count)
        func run() {
            for g in [conv(8, kernel: 3), conv(8, kernel: 3), conv(8, kernel: 1), conv(8, kernel: 7)]
                + [conv(8, kernel: 3, groups: 8)]
            {
                conv2dForward(g, input: x, weight: x, bias: nil, output: y)
            }
            gemm(m: 4, n: 4, k: 4, a: x, b: x, c: y)
        }
        let profile = KernelProfile()
        run()  // not recorded
        profile.recording(run)
        XCTAssertEqual(profile.calls, [.conv3x3: 2, .conv1x1: 1, .convOther: 1, .depthwise: 1, .gemm: 1])
        XCTAssertEqual(Set(profile.seconds.keys), Set(profile.calls.keys))
        XCTAssertTrue(profile.seconds.values.allSatisfy { $0 >= 0 })
        // The log keeps the calls in order, each named by its shape and algorithm.
        XCTAssertEqual(
            profile.log.map(\.kind), [.conv3x3, .conv3x3, .conv1x1, .convOther, .depthwise, .gemm])
        XCTAssertEqual(profile.log[0].shape, "8→8 @6×6 shiftedTaps")
        XCTAssertEqual(profile.log[2].shape, "8→8 @6×6 gemm")
        XCTAssertEqual(profile.log[4].shape, "8→8 @6×6 direct")
        XCTAssertEqual(profile.log[5].shape, "4×4×4")
    }
}
