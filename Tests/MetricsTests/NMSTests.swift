import XCTest

@testable import Metrics

private struct NMSFixture: Decodable {
    let nmsBoxes: [[Double]]
    let nmsScores: [Double]
    let nmsClasses: [Int]
    let nms: [String: [Int]]
    let batchedNms: [String: [Int]]
}

final class NMSTests: XCTestCase {
    /// Kept indices from torchvision.ops.nms / batchedNms (Fixtures/make_box_fixtures.py);
    /// scores are rounded to 0.1 so the fixture contains many ties.
    func testMatchesTorchvision() throws {
        let f = try loadFixture(NMSFixture.self, "boxes_fixture.json")
        let boxes = f.nmsBoxes.map { Box(x1: $0[0], y1: $0[1], x2: $0[2], y2: $0[3]) }
        for (threshold, expected) in f.nms {
            let t = try XCTUnwrap(Double(threshold))
            XCTAssertEqual(nms(boxes: boxes, scores: f.nmsScores, iouThreshold: t), expected, "nms @\(threshold)")
        }
        for (threshold, expected) in f.batchedNms {
            let t = try XCTUnwrap(Double(threshold))
            XCTAssertEqual(
                batchedNMS(boxes: boxes, scores: f.nmsScores, classes: f.nmsClasses, iouThreshold: t),
                expected, "batched_nms @\(threshold)")
        }
    }

    func testTiesKeepInputOrder() {
        // Same box three times, equal scores: the first index survives.
        let b = Box(x1: 0, y1: 0, x2: 10, y2: 10)
        XCTAssertEqual(nms(boxes: [b, b, b], scores: [0.5, 0.5, 0.5], iouThreshold: 0.5), [0])
        XCTAssertEqual(nms(boxes: [b, b, b], scores: [0.5, 0.9, 0.9], iouThreshold: 0.5), [1])
    }

    func testThresholdEqualityDoesNotSuppress() {
        // IoU exactly 0.5 ([0,0,2,1] vs [0,0,1,1]: inter 1, union 2) is not "> 0.5".
        let a = Box(x1: 0, y1: 0, x2: 2, y2: 1)
        let b = Box(x1: 0, y1: 0, x2: 1, y2: 1)
        XCTAssertEqual(iou(a, b), 0.5)
        XCTAssertEqual(nms(boxes: [a, b], scores: [0.9, 0.8], iouThreshold: 0.5), [0, 1])
        XCTAssertEqual(nms(boxes: [a, b], scores: [0.9, 0.8], iouThreshold: 0.49), [0])
    }

    func testBatchedNMSSeparatesClasses() {
        let b = Box(x1: 0, y1: 0, x2: 10, y2: 10)
        XCTAssertEqual(
            batchedNMS(boxes: [b, b, b], scores: [0.3, 0.9, 0.6], classes: [1, 0, 1], iouThreshold: 0.5),
            [1, 2])
        XCTAssertEqual(nms(boxes: [], scores: [], iouThreshold: 0.5), [])
    }

    /// Hand-checked: A=[0,0,10,10] s=.9, B=[0,0,10,5] s=.8 (IoU(A,B)=.5), C=[20,20,30,30] s=.7.
    func testSoftNMSLinear() {
        let boxes = [
            Box(x1: 0, y1: 0, x2: 10, y2: 10), Box(x1: 0, y1: 0, x2: 10, y2: 5),
            Box(x1: 20, y1: 20, x2: 30, y2: 30),
        ]
        let kept = softNMS(boxes: boxes, scores: [0.9, 0.8, 0.7], method: .linear, iouThreshold: 0.3)
        // B decays to .8·(1−.5) = .4 and falls behind C.
        XCTAssertEqual(kept.map(\.index), [0, 2, 1])
        XCTAssertEqual(kept.map(\.score), [0.9, 0.7, 0.4])
        // IoU .5 is not above .6: no decay, hard order.
        let loose = softNMS(boxes: boxes, scores: [0.9, 0.8, 0.7], method: .linear, iouThreshold: 0.6)
        XCTAssertEqual(loose.map(\.score), [0.9, 0.8, 0.7])
        // A score threshold above .4 drops B.
        let strict = softNMS(
            boxes: boxes, scores: [0.9, 0.8, 0.7], method: .linear, iouThreshold: 0.3,
            scoreThreshold: 0.5)
        XCTAssertEqual(strict.map(\.index), [0, 2])
    }

    func testSoftNMSGaussian() {
        let boxes = [
            Box(x1: 0, y1: 0, x2: 10, y2: 10), Box(x1: 0, y1: 0, x2: 10, y2: 5),
            Box(x1: 20, y1: 20, x2: 30, y2: 30),
        ]
        let kept = softNMS(boxes: boxes, scores: [0.9, 0.8, 0.7], method: .gaussian(sigma: 0.5))
        // B: .8·exp(−.25/.5) = .485225…; C does not overlap anything: exp(0) = 1.
        XCTAssertEqual(kept.map(\.index), [0, 2, 1])
        XCTAssertEqual(kept[2].score, 0.8 * exp(-0.5), accuracy: 1e-15)
        XCTAssertEqual(kept[1].score, 0.7)
    }
}
