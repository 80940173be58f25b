import XCTest

@testable import Kernels

/// The instruction-set path: names as `ZOO_ISA` and `--isa` take them, what this CPU can run, and switching.
final class KernelPathTests: XCTestCase {
    func testPathsThisCPULacksAreRefused() {
        XCTAssertEqual(KernelPath.available.first, .baseline)
        XCTAssertEqual(KernelPath.available.last, KernelPath.detected)
        for path in KernelPath.allCases where path > KernelPath.detected {
            XCTAssertThrowsError(try KernelPath.select(path))
        }
    }

    func testNamesRoundTripCaseInsensitively() {
        XCTAssertEqual(KernelPath.allCases.map(\.name), ["baseline", "avx2", "avx512"])
        for path in KernelPath.allCases { XCTAssertEqual(KernelPath(name: path.name.uppercased()), path) }
        XCTAssertNil(KernelPath(name: "sse4"))
        XCTAssertNil(KernelPath(name: ""))
    }

    /// Narrowest first, ordered by width: baseline < avx2 < avx512.
    func testPathsAreOrderedByWidth() {
        XCTAssertLessThan(KernelPath.baseline, .avx2)
        XCTAssertLessThan(KernelPath.avx2, .avx512)
        XCTAssertEqual(KernelPath.available, KernelPath.available.sorted())
        XCTAssertTrue(KernelPath.available.contains(KernelPath.active))
    }

    /// `with` runs on the requested path and returns to the previous one, also when the body throws.
    func testWithRestoresThePreviousPath() throws {
        struct Failure: Error {}
        let before = KernelPath.active
        for path in KernelPath.available {
            XCTAssertEqual(try KernelPath.with(path) { KernelPath.active }, path)
            XCTAssertEqual(KernelPath.active, before)
            XCTAssertThrowsError(try KernelPath.with(path) { throw Failure() })
            XCTAssertEqual(KernelPath.active, before)
        }
    }

    func testErrorsNameThePathAndTheAlternatives() {
        XCTAssertEqual(
            "\(KernelPathError.unsupported(.avx512, widest: .avx2))",
            "the avx512 kernels need instructions this CPU lacks (its widest path is avx2)")
        XCTAssertEqual(
            "\(KernelPathError.unknown("sse4"))",
            "unknown instruction-set path 'sse4' (expected baseline, avx2, avx512)")
        for path in KernelPath.allCases where path > KernelPath.detected {
            XCTAssertThrowsError(try KernelPath.select(path)) { error in
                XCTAssertEqual(error as? KernelPathError, .unsupported(path, widest: KernelPath.detected))
            }
        }
    }
}
