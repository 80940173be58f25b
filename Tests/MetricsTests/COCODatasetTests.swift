import Foundation
import XCTest

@testable import Metrics

final class COCODatasetTests: XCTestCase {
    private let validGT = """
        {"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 3, "name": "cat"}],
         "annotations": [{"id": 7, "image_id": 1, "category_id": 3, "bbox": [1, 2, 3, 4], "area": 10, "iscrowd": 0}]}
        """

    private func gtError(_ json: String) -> String? {
        do {
            _ = try COCOGroundTruth(jsonData: Data(json.utf8))
            return nil
        } catch let error as COCOFormatError {
            return error.description
        } catch {
            return "unexpected \(type(of: error)): \(error)"
        }
    }

    private func dtError(_ json: String) throws -> String? {
        let gt = try COCOGroundTruth(jsonData: Data(validGT.utf8))
        do {
            _ = try gt.detections(jsonData: Data(json.utf8))
            return nil
        } catch let error as COCOFormatError {
            return error.description
        }
    }

    func testParsesGroundTruthAndDetections() throws {
        let gt = try COCOGroundTruth(jsonData: Data(validGT.utf8))
        XCTAssertEqual(
            gt.annotations, [COCOAnnotation(id: 7, imageID: 1, categoryID: 3, bbox: SIMD4(1, 2, 3, 4), area: 10)])
        XCTAssertEqual(gt.categories, [COCOCategory(id: 3, name: "cat")])
        let dt = try gt.detections(
            jsonData: Data(
                """
                [{"image_id": 2, "category_id": 3, "bbox": [0, 0, 2.5, 4], "score": 0.25, "area": 999}]
                """.utf8))
        XCTAssertEqual(dt, [COCODetection(id: 1, imageID: 2, categoryID: 3, bbox: SIMD4(0, 0, 2.5, 4), score: 0.25)])
        XCTAssertEqual(dt[0].area, 10)  // w·h, not the file's area (loadRes)
    }

    func testOptionalFieldsDefault() throws {
        let gt = try COCOGroundTruth(
            jsonData: Data(
                """
                {"images": [{"id": 1}], "categories": [{"id": 1}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 5], "iscrowd": true}]}
                """.utf8))
        XCTAssertEqual(gt.annotations[0].area, 20)
        XCTAssertTrue(gt.annotations[0].isCrowd)
        XCTAssertEqual(gt.categories[0].name, "1")
    }

    func testMalformedGroundTruthNamesTheCulprit() {
        XCTAssertEqual(gtError(#"{"images": [], "categories": []}"#), "annotations: missing field")
        XCTAssertEqual(gtError(#"[1, 2]"#), "(top level): expected an object, got an array")
        XCTAssertEqual(
            gtError(#"{"images": [{"id": "a"}], "categories": [], "annotations": []}"#),
            "images[0].id: expected a number, got a string")
        XCTAssertEqual(
            gtError(#"{"images": [{"id": 1.5}], "categories": [], "annotations": []}"#),
            "images[0].id: expected an integer, got 1.5")
        XCTAssertEqual(
            gtError(
                #"""
                {"images": [{"id": 1}], "categories": [{"id": 1}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 5]},
                                 {"id": 2, "image_id": 1, "category_id": 1}]}
                """#), "annotations[1].bbox: missing field")
        XCTAssertEqual(
            gtError(
                #"""
                {"images": [{"id": 1}], "categories": [{"id": 1}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, -4, 5]}]}
                """#), "annotations[0].bbox: negative width or height (w -4.0, h 5.0)")
        XCTAssertEqual(
            gtError(
                #"""
                {"images": [{"id": 1}], "categories": [{"id": 1}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4]}]}
                """#), "annotations[0].bbox: expected 4 numbers [x, y, w, h], got 3")
        XCTAssertEqual(
            gtError(
                #"""
                {"images": [{"id": 1}], "categories": [{"id": 1}],
                 "annotations": [{"id": 1, "image_id": 9, "category_id": 1, "bbox": [0, 0, 4, 4]}]}
                """#), "annotations[0].image_id: unknown image id 9")
        XCTAssertEqual(
            gtError(
                #"""
                {"images": [{"id": 1}], "categories": [{"id": 1}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4]},
                                 {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4]}]}
                """#), "annotations[1].id: duplicate annotation id 1")
        XCTAssertEqual(
            gtError(
                #"""
                {"images": [{"id": 1}], "categories": [{"id": 1}],
                 "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4], "iscrowd": 2}]}
                """#), "annotations[0].iscrowd: expected a boolean or 0/1, got a number")
        XCTAssertEqual(gtError(#"{"images": [}"#), "invalid JSON (Invalid value around character 12.)")
        XCTAssertEqual(
            gtError(#"{"images": [{"id": 1e400}]}"#), "invalid JSON (Number 1e400 is not representable in Swift.)")
    }

    func testMalformedDetectionsNameTheCulprit() throws {
        XCTAssertEqual(try dtError(#"{"a": 1}"#), "(top level): expected an array, got an object")
        XCTAssertEqual(
            try dtError(#"[{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1]}]"#), "[0].score: missing field")
        XCTAssertEqual(
            try dtError(
                #"""
                [{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.5},
                 {"image_id": 4, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 0.5}]
                """#), "[1].image_id: unknown image id 4 (not in the ground truth)")
        XCTAssertEqual(
            try dtError(#"[{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, "x"], "score": 0.5}]"#),
            "[0].bbox[3]: expected a number, got a string")
        XCTAssertEqual(
            try dtError(#"[{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "score": true}]"#),
            "[0].score: expected a number, got a boolean")
        XCTAssertEqual(
            try dtError(#"[{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, -1], "score": 1}]"#),
            "[0].bbox: negative width or height (w 1.0, h -1.0)")
        XCTAssertNil(try dtError("[]"))
    }
}
