import XCTest

@testable import Metrics

final class VOCEvalTests: XCTestCase {
    /// Random sets with crowd and difficult boxes agree with voc_eval.py (numpy) per category.
    func testAgreesWithVOCEvalReference() throws {
        let cases = try loadCOCOCases().filter { $0.voc != nil }
        XCTAssertGreaterThanOrEqual(cases.count, 3)
        for c in cases {
            let gt = try COCOGroundTruth(jsonData: c.groundTruth)
            let dt = try gt.detections(jsonData: c.detections)
            for (key, method) in [("allPoint", VOCAPMethod.allPoint), ("elevenPoint", .elevenPoint)] {
                let expected = try XCTUnwrap(c.voc?[key])
                let result = evaluateVOC(groundTruth: gt, detections: dt, method: method)
                let defined = result.classes.filter { $0.averagePrecision != nil }
                XCTAssertEqual(Set(defined.map { String($0.categoryID) }), Set(expected.keys), "\(c.name) \(key)")
                for cls in defined {
                    XCTAssertEqual(
                        try XCTUnwrap(cls.averagePrecision), try XCTUnwrap(expected[String(cls.categoryID)]),
                        accuracy: 1e-12, "\(c.name) \(key) category \(cls.categoryID)")
                }
            }
        }
    }

    /// Published interpolation case (2 GT, TP FP TP): all-point ½·1 + ½·⅔, 11-point (6 + 5·⅔)/11.
    func testInterpolationCase() throws {
        let gt = try twoBoxGroundTruth()
        let allPoint = evaluateVOC(groundTruth: gt, detections: rankedTPFPTP(), method: .allPoint)
        XCTAssertEqual(try XCTUnwrap(allPoint.meanAveragePrecision), 0.8333333, accuracy: 5e-8)
        let eleven = evaluateVOC(groundTruth: gt, detections: rankedTPFPTP(), method: .elevenPoint)
        XCTAssertEqual(try XCTUnwrap(eleven.meanAveragePrecision), 0.8484848, accuracy: 5e-8)
        XCTAssertEqual(eleven.classes.first?.positives, 2)
        XCTAssertEqual(eleven.classes.first?.detections, 3)
    }

    /// Hand computation: precision 1, ½, ⅔, ¾ at recall ⅓, ⅓, ⅔, 1 (3 GT, TP FP TP TP).
    /// All-point: ⅓·1 + ⅔·¾ = 0.8333…; 11-point: recall ≥ 0, .1, .2, .3 → 1; the other 7 → ¾.
    func testAveragePrecisionCurves() {
        let recall = [1.0 / 3, 1.0 / 3, 2.0 / 3, 1]
        let precision = [1, 0.5, 2.0 / 3, 0.75]
        XCTAssertEqual(
            vocAveragePrecision(recall: recall, precision: precision, method: .allPoint),
            1.0 / 3 + 2.0 / 3 * 0.75, accuracy: 1e-15)
        XCTAssertEqual(
            vocAveragePrecision(recall: recall, precision: precision, method: .elevenPoint),
            (4 + 7 * 0.75) / 11, accuracy: 1e-15)
        XCTAssertEqual(vocAveragePrecision(recall: [], precision: [], method: .allPoint), 0)
    }

    func testDifficultBoxesAreNeitherHitsNorMisses() throws {
        // One normal and one difficult box; detections hit the difficult one first, then the normal one.
        let gt = try COCOGroundTruth(
            images: [COCOImage(id: 1)], categories: [COCOCategory(id: 1, name: "a"), COCOCategory(id: 2, name: "b")],
            annotations: [
                COCOAnnotation(id: 1, imageID: 1, categoryID: 1, bbox: SIMD4(0, 0, 10, 10)),
                COCOAnnotation(id: 2, imageID: 1, categoryID: 1, bbox: SIMD4(50, 50, 10, 10), isDifficult: true),
            ])
        let dt = [
            COCODetection(id: 1, imageID: 1, categoryID: 1, bbox: SIMD4(50, 50, 10, 10), score: 0.9),
            COCODetection(id: 2, imageID: 1, categoryID: 1, bbox: SIMD4(0, 0, 10, 10), score: 0.8),
            COCODetection(id: 3, imageID: 1, categoryID: 1, bbox: SIMD4(0, 0, 10, 10), score: 0.7),
        ]  // duplicate: FP
        let result = evaluateVOC(groundTruth: gt, detections: dt)
        XCTAssertEqual(result.classes[0].positives, 1)
        // tp 0,1,1 fp 0,0,1 → precision 0, 1, ½ at recall 0, 1, 1: envelope 1 over [0, 1].
        XCTAssertEqual(result.classes[0].averagePrecision, 1)
        XCTAssertNil(result.classes[1].averagePrecision)  // class without ground truth
        XCTAssertEqual(result.meanAveragePrecision, 1)
    }

    func testOverlapMustExceedThreshold() throws {
        // IoU exactly 0.5 ([0,0,10,10] vs [0,0,10,5]) is a miss at threshold 0.5 (voc_eval uses ">").
        let gt = try COCOGroundTruth(
            images: [COCOImage(id: 1)], categories: [COCOCategory(id: 1, name: "a")],
            annotations: [COCOAnnotation(id: 1, imageID: 1, categoryID: 1, bbox: SIMD4(0, 0, 10, 10))])
        let dt = [COCODetection(id: 1, imageID: 1, categoryID: 1, bbox: SIMD4(0, 0, 10, 5), score: 0.9)]
        XCTAssertEqual(evaluateVOC(groundTruth: gt, detections: dt).meanAveragePrecision, 0)
        XCTAssertEqual(evaluateVOC(groundTruth: gt, detections: dt, iouThreshold: 0.49).meanAveragePrecision, 1)
    }
}
