import Foundation
import XCTest

@testable import Models

/// The blocks of EfficientNet, MobileNet-V2 and V3: timm's architecture strings, depth and width scaling.
final class EfficientNetBlocksTests: XCTestCase {
    func testArchitectureStringsDecodeAsTimm() throws {
        let block = try BlockDefinition("ir_r2_k5_s2_e4.5_c40_se0.25_nre")
        XCTAssertEqual(block.kind, .invertedResidual)
        XCTAssertEqual([block.repeats, block.kernel, block.stride, block.outChannels], [2, 5, 2, 40])
        XCTAssertEqual(block.expansion, 4.5)
        XCTAssertEqual(block.seRatio, 0.25)
        XCTAssertEqual(block.activation, .relu)
        XCTAssertThrowsError(try BlockDefinition("zz_r1_c8_s1"))
        // Depth 1.1 rounds up (timm: ceil): 2 → 3, 3 → 4; the first and last stages stay fixed.
        let stages = try decodeArchitecture(
            [["ds_r1_k3_s1_c16"], ["ir_r2_k3_s2_e6_c24"], ["ir_r3_k3_s2_e6_c24"], ["ir_r1_k3_s1_e6_c32"]],
            depthMultiplier: 1.1, fixFirstLast: true)
        XCTAssertEqual(stages.map(\.count), [1, 3, 4, 1])
        XCTAssertEqual(stages[1].map(\.stride), [2, 1, 1])
    }

    /// timm's round_channels: the multiple of 8 nearest channels × multiplier, never below 90 % of it;
    /// multiplier 0 leaves the count alone. 32 × 0.35 = 11.2 → 8 is below 10.08, so 16; 32 × 1.4 = 44.8 → 48.
    func testRoundChannelsMatchesTimm() {
        XCTAssertEqual(roundChannels(32, multiplier: 0.35), 16)
        XCTAssertEqual(roundChannels(32, multiplier: 1.4), 48)
        XCTAssertEqual(roundChannels(1280, multiplier: 1.0), 1280)
        XCTAssertEqual(roundChannels(17, multiplier: 0), 17)
    }

    /// The other block kinds and options: a `cn` block with hard-swish, `noskip`, the kernel's default of 1, and
    /// an expansion that only inverted residuals have.
    func testBlockKindsAndOptions() throws {
        let head = try BlockDefinition("cn_r1_c960_s1_nhs")
        XCTAssertEqual(head.kind, .convNormAct)
        XCTAssertEqual(head.kernel, 1)
        XCTAssertEqual(head.activation, .hardSwish)
        XCTAssertEqual(head.seRatio, 0)
        XCTAssertTrue(try BlockDefinition("ir_r1_k3_s1_e6_c8_noskip").noSkip)
        XCTAssertFalse(try BlockDefinition("ir_r1_k3_s1_e6_c8").noSkip)
        XCTAssertTrue(try BlockDefinition("cn_r1_k3_s1_c8_skip").forceSkip)
        XCTAssertEqual(try BlockDefinition("ds_r1_k3_s1_e6_c16").expansion, 1)
        XCTAssertEqual(try BlockDefinition("ir_r1_k3_s1_c16_nsw").activation, .silu)
        XCTAssertNil(try BlockDefinition("ir_r1_k3_s1_c16").activation)
        XCTAssertThrowsError(try BlockDefinition("ir_r1_k3_s1_e6"))  // no channel count
        XCTAssertThrowsError(try BlockDefinition("ir_rX_k3_s1_c8"))
        XCTAssertThrowsError(try BlockDefinition("ir_r1_k3_s1_c8_nxx"))
    }
}
