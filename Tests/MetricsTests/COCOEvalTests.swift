import Foundation
import XCTest

@testable import Metrics

/// A case from Fixtures/coco_fixtures.json: inputs plus pycocotools' 12 stats.
struct COCOCase {
    var name: String
    var groundTruth: Data
    var detections: Data
    var useCategories: Bool
    var iouThresholds: [Double]?
    var stats: [Double]
    /// voc_eval.py's AP per category id, by method ("allPoint", "elevenPoint"); random cases only.
    var voc: [String: [String: Double]]?
}

func loadCOCOCases() throws -> [COCOCase] {
    let data = try Data(contentsOf: fixtureURL("coco_fixtures.json"))
    let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
    return try cases.map { c in
        COCOCase(
            name: try XCTUnwrap(c["name"] as? String),
            groundTruth: try JSONSerialization.data(withJSONObject: try XCTUnwrap(c["gt"])),
            detections: try JSONSerialization.data(withJSONObject: try XCTUnwrap(c["dt"])),
            useCategories: (c["useCats"] as? Int) == 1,
            iouThresholds: c["iouThrs"] as? [Double],
            stats: try XCTUnwrap(c["stats"] as? [Double]),
            voc: c["voc"] as? [String: [String: Double]])
    }
}

private func evaluate(_ c: COCOCase) throws -> COCOEvalResult {
    let gt = try COCOGroundTruth(jsonData: c.groundTruth)
    let dt = try gt.detections(jsonData: c.detections)
    var parameters = COCOEvalParameters()
    parameters.useCategories = c.useCategories
    if let thresholds = c.iouThresholds { parameters.iouThresholds = thresholds }
    return evaluateCOCO(groundTruth: gt, detections: dt, parameters: parameters)
}

final class COCOEvalTests: XCTestCase {
    /// Random sets (crowds, all area ranges, ties, >100 detections on one image, pooled categories,
    /// custom IoU thresholds) agree with pycocotools to 1e-12 (the brief asks 1e-6).
    func testAgreesWithPycocotools() throws {
        let cases = try loadCOCOCases()
        XCTAssertGreaterThanOrEqual(cases.count, 6)
        for c in cases {
            let result = try evaluate(c)
            XCTAssertEqual(result.stats.count, 12, c.name)
            for (i, (actual, expected)) in zip(result.stats, c.stats).enumerated() {
                XCTAssertEqual(actual, expected, accuracy: 1e-12, "\(c.name) \(COCOEvalResult.statNames[i])")
            }
        }
    }

    /// Published single-box case: IoU 0.78 passes 6 of the 10 thresholds → AP 0.6, AP50 1.
    func testSingleBox() throws {
        let gt = try COCOGroundTruth(
            images: [COCOImage(id: 1)], categories: [COCOCategory(id: 1, name: "a")],
            annotations: [COCOAnnotation(id: 1, imageID: 1, categoryID: 1, bbox: SIMD4(0, 0, 100, 100))])
        let dt = [COCODetection(id: 1, imageID: 1, categoryID: 1, bbox: SIMD4(0, 0, 100, 78), score: 0.9)]
        let stats = evaluateCOCO(groundTruth: gt, detections: dt).stats
        XCTAssertEqual(stats[0], 0.6, accuracy: 1e-12)
        XCTAssertEqual(stats[1], 1.0, accuracy: 1e-12)
        XCTAssertEqual(stats[2], 1.0, accuracy: 1e-12)  // 0.78 ≥ 0.75
        XCTAssertEqual(stats[3], -1)  // no small boxes
    }

    /// Published interpolation case: 2 GT, ranked TP, FP, TP → 101-point AP (51 + 50·⅔)/101.
    func testInterpolation() throws {
        let gt = try twoBoxGroundTruth()
        let stats = evaluateCOCO(groundTruth: gt, detections: rankedTPFPTP()).stats
        XCTAssertEqual(stats[0], 0.8349835, accuracy: 5e-8)
        XCTAssertEqual(stats[0], (51 + 50 * 2.0 / 3.0) / 101, accuracy: 1e-12)
        XCTAssertEqual(stats[8], 1.0)  // AR100: both boxes found
        XCTAssertEqual(stats[6], 0.5)  // AR1: one detection allowed
    }

    func testLinspaceMatchesNumpy() {
        // repr() of numpy.linspace(.5, .95, 10): note 0.8999999999999999.
        XCTAssertEqual(
            numpyLinspace(0.5, 0.95, count: 10),
            [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95])
        let recall = numpyLinspace(0, 1, count: 101)
        XCTAssertEqual(recall[50], 0.5)
        XCTAssertEqual(recall.last, 1)
    }

    func testPairwiseSumIsExactOnSmallIntegers() {
        let values = (1...1000).map(Double.init)
        XCTAssertEqual(numpyPairwiseSum(values[...]), 500_500)
    }

    func testCrowdIoUUsesDetectionArea() {
        // Detection [0,0,10,10] inside a crowd region [0,0,100,100]: 100 / 100 = 1.
        XCTAssertEqual(cocoBoxIoU(detection: SIMD4(0, 0, 10, 10), groundTruth: SIMD4(0, 0, 100, 100), crowd: true), 1)
        XCTAssertEqual(
            cocoBoxIoU(detection: SIMD4(0, 0, 10, 10), groundTruth: SIMD4(0, 0, 100, 100), crowd: false), 0.01)
    }

    func testNoDetectionsGivesZeroAndNoGroundTruthGivesMinusOne() throws {
        let gt = try twoBoxGroundTruth()
        XCTAssertEqual(evaluateCOCO(groundTruth: gt, detections: []).stats[0], 0)
        let empty = try COCOGroundTruth(
            images: [COCOImage(id: 1)], categories: [COCOCategory(id: 1, name: "a")],
            annotations: [])
        XCTAssertEqual(
            evaluateCOCO(groundTruth: empty, detections: rankedTPFPTP()).stats, [Double](repeating: -1, count: 12))
    }

    func testSummaryLinesMatchPycocotoolsFormat() throws {
        let result = evaluateCOCO(groundTruth: try twoBoxGroundTruth(), detections: rankedTPFPTP())
        let lines = result.summaryLines
        XCTAssertEqual(lines[0], " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.835")
        XCTAssertEqual(lines[1], " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.835")
        XCTAssertEqual(lines[3], " Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000")
        XCTAssertEqual(lines[6], " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.500")
    }
}

func twoBoxGroundTruth() throws -> COCOGroundTruth {
    try COCOGroundTruth(
        images: [COCOImage(id: 1)], categories: [COCOCategory(id: 1, name: "a")],
        annotations: [
            COCOAnnotation(id: 1, imageID: 1, categoryID: 1, bbox: SIMD4(0, 0, 50, 50)),
            COCOAnnotation(id: 2, imageID: 1, categoryID: 1, bbox: SIMD4(100, 100, 50, 50)),
        ])
}

/// Exact hit, a miss, exact hit — in descending score order.
func rankedTPFPTP() -> [COCODetection] {
    [
        COCODetection(id: 1, imageID: 1, categoryID: 1, bbox: SIMD4(0, 0, 50, 50), score: 0.9),
        COCODetection(id: 2, imageID: 1, categoryID: 1, bbox: SIMD4(300, 300, 50, 50), score: 0.8),
        COCODetection(id: 3, imageID: 1, categoryID: 1, bbox: SIMD4(100, 100, 50, 50), score: 0.7),
    ]
}
