import Foundation
import Randomness
import XCTest

@testable import ReceptiveFields

/// tf-slim alexnet_v2 up to pool5 (conv1 VALID, conv2 SAME, pools VALID), as analysed in
/// Araujo et al., Distill 2019, whose table gives r = 195, S = 32, P = 64.
let alexnetV2: [RFLayer] = [
    .conv("conv1", kernel: 11, stride: 4),
    .pool("pool1", kernel: 3, stride: 2),
    RFLayer(name: "conv2", kind: .conv, kernel: 5, padding: .same),
    .pool("pool2", kernel: 3, stride: 2),
    .conv("conv3", kernel: 3, padding: 1),
    .conv("conv4", kernel: 3, padding: 1),
    .conv("conv5", kernel: 3, padding: 1),
    .pool("pool5", kernel: 3, stride: 2),
]

/// tf-slim vgg_16 up to pool5; the article's table gives r = 212, S = 32, P = 90.
let vgg16: [RFLayer] = {
    var layers: [RFLayer] = []
    for (block, convs) in [2, 2, 3, 3, 3].enumerated() {
        for i in 1...convs { layers.append(.conv("conv\(block + 1)_\(i)", kernel: 3, padding: 1)) }
        layers.append(.pool("pool\(block + 1)", kernel: 2, stride: 2))
    }
    return layers
}()

final class ReceptiveFieldTests: XCTestCase {
    func testAlexNetV2MatchesArticle() throws {
        let report = try receptiveFields(of: alexnetV2, inputSize: 224)
        XCTAssertEqual(report.receptiveField, 195)
        XCTAssertEqual(report.effectiveStride, 32)
        XCTAssertEqual(report.effectivePadding, 64)
        XCTAssertEqual(report.rows.last?.centre, RFCentre(y: 33, x: 33))  // (195 − 1)/2 − 64
        // 224 → 54 → 26 → 26 → 12 → 12 → 12 → 12 → 5 (tf-slim's 5×5 pool5 feeding fc6).
        XCTAssertEqual(report.rows.map { $0.outputSize?.height }, [54, 26, 26, 12, 12, 12, 12, 5])
        XCTAssertEqual(report.rows[2].padding, RFPadding(2))  // SAME 5×5, stride 1
        // Without an input size the stride-1 SAME conv needs no assumption.
        let unsized = try receptiveFields(of: alexnetV2)
        XCTAssertEqual(unsized.receptiveField, 195)
        XCTAssertEqual(unsized.effectivePadding, 64)
        XCTAssertTrue(unsized.warnings.isEmpty)
    }

    func testVGG16MatchesArticle() throws {
        let report = try receptiveFields(of: vgg16, inputSize: 224)
        XCTAssertEqual(report.receptiveField, 212)
        XCTAssertEqual(report.effectiveStride, 32)
        XCTAssertEqual(report.effectivePadding, 90)
        XCTAssertEqual(report.rows.last?.outputSize, 7)
        XCTAssertEqual(report.rows.last?.centre, RFCentre(y: 15.5, x: 15.5))
        // Per-layer recurrence, by hand: conv1_1 r 3, conv1_2 5, pool1 6 (S 2), conv2_1 10.
        XCTAssertEqual(report.rows.prefix(4).map { $0.receptiveField?.height }, [3, 5, 6, 10])
    }

    func testDilation() throws {
        // Effective kernels 3 and 5: r = 1 + 2 + 4 = 7; the dilated conv pads 2 to keep the size.
        let layers: [RFLayer] = [.conv(kernel: 3, padding: 1), .conv(kernel: 3, padding: 2, dilation: 2)]
        let report = try receptiveFields(of: layers, inputSize: 10)
        XCTAssertEqual(report.receptiveField, 7)
        XCTAssertEqual(report.effectivePadding, 3)
        XCTAssertEqual(report.rows.last?.outputSize, 10)
        XCTAssertEqual(report.rows.last?.centre, RFCentre(y: 0, x: 0))
    }

    func testNonSquareAndAsymmetricPadding() throws {
        let layer = RFLayer(
            kind: .conv, kernel: RFPair(3, 5), stride: RFPair(2, 1),
            padding: .explicit(RFPadding(top: 0, left: 2, bottom: 1, right: 1)))
        let report = try receptiveFields(of: [layer], inputSize: RFPair(9, 9))
        XCTAssertEqual(report.receptiveField, RFPair(3, 5))
        XCTAssertEqual(report.effectiveStride, RFPair(2, 1))
        XCTAssertEqual(report.effectivePadding, RFPair(0, 2))  // only the leading side moves the field
        XCTAssertEqual(report.rows[0].outputSize, RFPair(4, 8))  // ⌊(9+0+1−3)/2⌋+1, (9+2+1−5)/1+1
        XCTAssertEqual(report.rows[0].centre, RFCentre(y: 1, x: 0))
    }

    func testSamePaddingDependsOnInputSize() throws {
        let layer = RFLayer(name: "down", kind: .conv, kernel: 3, stride: 2, padding: .same)
        // n = 7: ⌈7/2⌉ = 4, total (4−1)·2 + 3 − 7 = 2 → 1 before, 1 after.
        let odd = try receptiveFields(of: [layer], inputSize: 7)
        XCTAssertEqual(odd.rows[0].padding, RFPadding(1))
        XCTAssertEqual(odd.rows[0].outputSize, 4)
        XCTAssertEqual(odd.effectivePadding, 1)
        // n = 8: total 1 → 0 before, 1 after (TensorFlow pads the extra pixel at the end).
        let even = try receptiveFields(of: [layer], inputSize: 8)
        XCTAssertEqual(even.rows[0].padding, RFPadding(top: 0, left: 0, bottom: 1, right: 1))
        XCTAssertEqual(even.rows[0].outputSize, 4)
        XCTAssertEqual(even.effectivePadding, 0)
        let unsized = try receptiveFields(of: [layer])
        XCTAssertEqual(unsized.effectivePadding, 0)
        XCTAssertEqual(unsized.warnings.count, 1)
    }

    func testAlignedResidualBlock() throws {
        // ResNet downsampling block: 3×3/2 + 3×3 against a 1×1/2 shortcut, both centred on 0.
        let block = RFLayer.branches(
            "block",
            [
                [.conv("conv1", kernel: 3, stride: 2, padding: 1), .conv("conv2", kernel: 3, padding: 1)],
                [.conv("downsample", kernel: 1, stride: 2)],
            ])
        let report = try receptiveFields(of: [block], inputSize: 8)
        XCTAssertEqual(report.receptiveField, 7)
        XCTAssertEqual(report.effectiveStride, 2)
        XCTAssertEqual(report.effectivePadding, 3)
        XCTAssertEqual(report.rows.map(\.name), ["conv1", "conv2", "downsample", "block"])
        XCTAssertEqual(report.rows.map(\.depth), [1, 1, 1, 0])
        XCTAssertFalse(report.rows.last?.misaligned ?? true)
        XCTAssertTrue(report.warnings.isEmpty)
        XCTAssertTrue(report.table.contains("\n  conv1 "), report.table)  // branch layers indented
    }

    func testMisalignedBranchesAreReported() throws {
        // A 2×2 conv is centred at 0.5, the identity shortcut at 0: union [0, 1] → r 2.
        let report = try receptiveFields(of: [.branches("odd", [[.conv(kernel: 2)], []])])
        XCTAssertEqual(report.receptiveField, 2)
        XCTAssertTrue(report.rows.last?.misaligned ?? false)
        XCTAssertEqual(report.warnings.count, 1)
        XCTAssertTrue(report.warnings[0].hasPrefix("odd:"))
    }

    func testBranchStrideMismatchThrows() {
        XCTAssertThrowsError(try receptiveFields(of: [.branches("bad", [[.conv(kernel: 3, stride: 2)], []])])) {
            error in
            XCTAssertEqual(
                (error as? ReceptiveFieldError)?.description,
                "bad: branch strides differ (2 vs 1); outputs cannot be combined")
        }
    }

    func testGlobalLayers() throws {
        let layers: [RFLayer] = [
            .conv("stem", kernel: 3, padding: 1), RFLayer(name: "attention", kind: .global),
            .conv("proj", kernel: 3, padding: 1), RFLayer(name: "gap", kind: .globalPool),
        ]
        let report = try receptiveFields(of: layers, inputSize: 32)
        XCTAssertEqual(report.globalFrom, "attention")
        XCTAssertEqual(report.rows.map(\.isGlobal), [false, true, true, true])
        XCTAssertEqual(report.rows[0].receptiveField, 3)
        XCTAssertEqual(report.receptiveField, 32)
        XCTAssertEqual(report.rows.map { $0.outputSize?.height }, [32, 32, 32, 1])
        let unsized = try receptiveFields(of: layers)
        XCTAssertNil(unsized.receptiveField)
        XCTAssertEqual(unsized.globalFrom, "attention")
    }

    func testInvalidLayersThrow() {
        XCTAssertThrowsError(try receptiveFields(of: [.conv(kernel: 0)])) { error in
            XCTAssertEqual(
                (error as? ReceptiveFieldError)?.description, "layer 1: kernel must be between 1 and 2147483648, got 0")
        }
        let huge = [RFLayer](repeating: .conv(kernel: 3, stride: 1000), count: 10)
        XCTAssertThrowsError(try receptiveFields(of: huge)) { error in
            XCTAssertEqual(
                (error as? ReceptiveFieldError)?.description, "layer 7: receptive field arithmetic overflows")
        }
        XCTAssertThrowsError(try receptiveFields(of: [.conv("big", kernel: 7)], inputSize: 5)) { error in
            XCTAssertEqual((error as? ReceptiveFieldError)?.layer, "big")
        }
    }

    /// Fields measured from torch input gradients (Fixtures/make_rf_fixtures.py): dilation,
    /// asymmetric padding, residual blocks and misaligned branches whose union is the field.
    func testAgreesWithMeasuredGradientSupport() throws {
        let data = try Data(contentsOf: fixtureURL("rf_fixtures.json"))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 3)
        func pair(_ value: Any?) throws -> RFPair {
            let v = try XCTUnwrap(value as? [Int])
            return RFPair(v[0], v[1])
        }
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String)
            let layers = try parseReceptiveFieldSpec(
                try JSONSerialization.data(withJSONObject: try XCTUnwrap(c["spec"])))
            let report = try receptiveFields(of: layers, inputSize: try pair(c["input_size"]))
            XCTAssertEqual(report.receptiveField, try pair(c["rf"]), name)
            XCTAssertEqual(report.effectiveStride, try pair(c["stride"]), name)
            XCTAssertEqual(report.effectivePadding, try pair(c["padding"]), name)
            XCTAssertEqual(report.rows.last?.outputSize, try pair(c["output_size"]), name)
            XCTAssertEqual(report.rows.contains { $0.misaligned }, name == "misaligned_branches", name)
        }
    }

    func testJSONOutput() throws {
        let text = try receptiveFields(of: alexnetV2, inputSize: 224).json.text
        XCTAssertTrue(text.hasPrefix(#"{"rf":195,"stride":32,"padding":64,"input_size":224,"global_from":null,"#), text)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual((parsed["layers"] as? [Any])?.count, 8)
    }
}

/// Random layer lists with sizes from 0 to Int.max: each report is computed or refused with a typed error, never a trap.
final class ReceptiveFieldFuzzTests: XCTestCase {
    func testFuzzedSpecsNeverCrash() {
        // Mostly plausible sizes, so deep networks get computed, and now and then an extreme where a trap would be.
        let plausible = [1, 1, 2, 2, 3, 3, 5, 7]
        let extremes = [1 << 20, maxExtent, maxExtent + 1, Int.max, 0, -1, Int.min]
        var rng = RandomGenerator(seed: 3)  // the same cases on every run
        func next(_ bound: Int) -> Int { Int.random(in: 0..<bound, using: &rng) }
        func value() -> Int { next(10) == 0 ? extremes[next(extremes.count)] : plausible[next(plausible.count)] }
        func layer(depth: Int) -> RFLayer {
            let kinds: [RFLayer.Kind] = [.conv, .pool, .identity, .global, .globalPool]
            var kind = kinds[next(kinds.count)]
            if depth < 2 && next(6) == 0 { kind = .branches([[layer(depth: depth + 1)], []]) }
            let padding: RFPaddingMode = next(3) == 0 ? .same : .explicit(RFPadding(value()))
            return RFLayer(
                kind: kind, kernel: RFPair(value(), value()), stride: RFPair(value(), value()), padding: padding,
                dilation: RFPair(value(), value()))
        }
        var computed = 0
        var refused = 0
        for _ in 0..<20_000 {
            let layers = (0..<(1 + next(6))).map { _ in layer(depth: 0) }
            let size = next(2) == 0 ? nil : RFPair(next(3) == 0 ? value() : 1 << next(12), 1 << next(12))
            do {
                _ = try receptiveFields(of: layers, inputSize: size)
                computed += 1
            } catch is ReceptiveFieldError {
                refused += 1
            } catch {
                XCTFail("untyped error \(error)")
            }
        }
        print("rf fuzz: \(computed) computed, \(refused) refused")
        XCTAssertGreaterThan(computed, 1000)
        XCTAssertGreaterThan(refused, 1000)
    }
}
