import XCTest

@testable import Kernels

/// Inputs, tolerances and path iteration shared by the kernel tests (fast kernels against reference versions).
extension XCTestCase {
    func random(_ count: Int, seed: Int) -> [Float] {
        var state = UInt64(seed) &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
    }

    func assertClose(
        _ a: [Float], _ b: [Float], tolerance: Float = 1e-4, _ message: String, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertEqual(a.count, b.count, message, file: file, line: line)
        let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(
            worst, tolerance, "\(message): max relative difference \(worst)", file: file, line: line)
    }

    /// Like `assertClose`, but against the largest expected magnitude rather than each value's own: for
    /// Winograd convolutions, whose error scales with the transformed tile's values, not the output's.
    func assertCloseAtScale(
        _ a: [Float], _ b: [Float], tolerance: Float = 1e-5, _ message: String, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        XCTAssertEqual(a.count, b.count, message, file: file, line: line)
        let scale = max(1, b.map { abs($0) }.max() ?? 0)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(
            worst / scale, tolerance, "\(message): max difference \(worst) at scale \(scale)", file: file, line: line)
    }

    /// Runs `body` on each instruction-set path this CPU supports.
    func onEveryPath(_ body: (KernelPath) throws -> Void) throws {
        for path in KernelPath.available { try KernelPath.with(path) { try body(path) } }
    }
}
