import XCTest

@testable import Metrics

private struct BoxFixture: Decodable {
    let boxes1, boxes2, iou, giou, diou, ciou: [[Double]]
    let convertXyxy, convertXywh, convertCxcywh, convertCxcywhToXywh: [[Double]]
}

private func boxes(_ rows: [[Double]]) -> [Box] {
    rows.map { Box(x1: $0[0], y1: $0[1], x2: $0[2], y2: $0[3]) }
}

final class BoxesTests: XCTestCase {
    /// Matrices from torchvision.ops in float64 (Fixtures/make_box_fixtures.py).
    func testIoUFamilyMatchesTorchvision() throws {
        let f = try loadFixture(BoxFixture.self, "boxes_fixture.json")
        let a = boxes(f.boxes1)
        let b = boxes(f.boxes2)
        assertMatrix(boxIoU(a, b), f.iou, accuracy: 1e-12, "iou")
        assertMatrix(generalizedBoxIoU(a, b), f.giou, accuracy: 1e-12, "giou")
        assertMatrix(distanceBoxIoU(a, b), f.diou, accuracy: 1e-12, "diou")
        assertMatrix(completeBoxIoU(a, b), f.ciou, accuracy: 1e-12, "ciou")
    }

    func testConversionsMatchTorchvision() throws {
        let f = try loadFixture(BoxFixture.self, "boxes_fixture.json")
        for (i, row) in f.convertXyxy.enumerated() {
            let box = Box(SIMD4(row[0], row[1], row[2], row[3]), format: .xyxy)
            let xywh = box.coordinates(in: .xywh)
            let cxcywh = box.coordinates(in: .cxcywh)
            for k in 0..<4 {
                XCTAssertEqual(xywh[k], f.convertXywh[i][k], accuracy: 1e-12)
                XCTAssertEqual(cxcywh[k], f.convertCxcywh[i][k], accuracy: 1e-12)
                let viaCentre = convertBox(cxcywh, from: .cxcywh, to: .xywh)
                XCTAssertEqual(viaCentre[k], f.convertCxcywhToXywh[i][k], accuracy: 1e-12)
            }
        }
    }

    /// Hand computation: [0,0,2,2] vs [1,1,3,3]: inter 1, union 7; enclosing 3×3 = 9;
    /// centres (1,1),(2,2): ρ² = 2, c² = 18; equal aspect ratios → v = 0 so CIoU = DIoU.
    func testHandComputedPair() {
        let a = Box(x1: 0, y1: 0, x2: 2, y2: 2)
        let b = Box(x1: 1, y1: 1, x2: 3, y2: 3)
        XCTAssertEqual(iou(a, b), 1.0 / 7.0, accuracy: 1e-15)
        XCTAssertEqual(generalizedIoU(a, b), 1.0 / 7.0 - 2.0 / 9.0, accuracy: 1e-15)
        XCTAssertEqual(distanceIoU(a, b, eps: 0), 1.0 / 7.0 - 2.0 / 18.0, accuracy: 1e-15)
        XCTAssertEqual(completeIoU(a, b, eps: 0), 1.0 / 7.0 - 2.0 / 18.0, accuracy: 1e-15)
        // Disjoint [0,0,1,1] vs [2,0,3,1]: IoU 0, enclosing 3, union 2 → GIoU = −1/3.
        let c = Box(x1: 0, y1: 0, x2: 1, y2: 1)
        let d = Box(x1: 2, y1: 0, x2: 3, y2: 1)
        XCTAssertEqual(iou(c, d), 0)
        XCTAssertEqual(generalizedIoU(c, d), -1.0 / 3.0, accuracy: 1e-15)
    }

    func testCIoUAspectPenalty() {
        // [0,0,2,1] vs [0,0,1,2]: inter 1, union 3, enclosing 2×2, centres (1,.5),(.5,1): ρ²=.5, c²=8.
        // v = 4/π²·(atan 2 − atan .5)², α = v/(1 − 1/3 + v).
        let a = Box(x1: 0, y1: 0, x2: 2, y2: 1)
        let b = Box(x1: 0, y1: 0, x2: 1, y2: 2)
        let angle = atan(2.0) - atan(0.5)
        let v = 4 / (Double.pi * Double.pi) * angle * angle
        let expected = 1.0 / 3.0 - 0.5 / 8.0 - v / (2.0 / 3.0 + v) * v
        XCTAssertEqual(completeIoU(a, b, eps: 0), expected, accuracy: 1e-15)
    }

    func testFormatsRoundTrip() {
        let box = Box(xywh: 10, 20, 30, 40)
        XCTAssertEqual(box, Box(x1: 10, y1: 20, x2: 40, y2: 60))
        XCTAssertEqual(box.coordinates(in: .cxcywh), SIMD4(25, 40, 30, 40))
        XCTAssertEqual(Box(SIMD4(25, 40, 30, 40), format: .cxcywh), box)
        XCTAssertEqual(box.area, 1200)
    }
}
