import XCTest

@testable import VisionIO

final class CropTests: XCTestCase {
    private func numbered(width: Int, height: Int) -> Image {
        Image(
            width: width, height: height, pixels: (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 / 3) })
    }

    func testCropOutsideIsBlack() {
        let image = numbered(width: 4, height: 3)
        let crop = image.cropped(x: -1, y: 1, width: 3, height: 3)
        XCTAssertEqual(crop[0, 0].r, 0)
        XCTAssertEqual(crop[1, 0].r, image[0, 1].r)
        XCTAssertEqual(crop[2, 1].r, image[1, 2].r)
        XCTAssertEqual(crop[2, 2].r, 0)
    }

    /// torchvision: top = int(round((h - th) / 2.0)), Python rounding halves to even.
    func testCenterCropUsesBankersRounding() {
        // (7 - 4) / 2 = 1.5 → 2 ; (9 - 4) / 2 = 2.5 → 2 ; (6 - 4) / 2 = 1
        XCTAssertEqual(
            numbered(width: 7, height: 7).centerCropped(width: 4, height: 4)[0, 0].r,
            numbered(width: 7, height: 7)[2, 2].r)
        XCTAssertEqual(
            numbered(width: 9, height: 6).centerCropped(width: 4, height: 4)[0, 0].r,
            numbered(width: 9, height: 6)[2, 1].r)
    }

    /// torchvision pads (left = (tw - w) // 2, right = (tw - w + 1) // 2) before cropping.
    func testCenterCropPadsSmallImages() {
        let image = Image(width: 2, height: 3, pixels: (0..<18).map { UInt8($0 / 3 + 1) })  // values 1...6
        let crop = image.centerCropped(width: 5, height: 4)
        XCTAssertEqual(crop.width, 5)
        XCTAssertEqual(crop.height, 4)
        // left pad 1, right pad 2, top pad 0, bottom pad 1
        XCTAssertEqual((0..<5).map { crop[$0, 0].r }, [0, 1, 2, 0, 0])
        XCTAssertEqual((0..<5).map { crop[$0, 2].r }, [0, 5, 6, 0, 0])
        XCTAssertEqual((0..<5).map { crop[$0, 3].r }, [0, 0, 0, 0, 0])
    }

    /// torchvision Resize(int): long side = int(size * long / short).
    func testShorterSideSize() {
        XCTAssertEqual(Image.shorterSideSize(width: 451, height: 300, size: 235).width, 353)  // int(235*451/300)=353
        XCTAssertEqual(Image.shorterSideSize(width: 512, height: 600, size: 248).height, 290)  // 290.6 → 290
        XCTAssertEqual(Image.shorterSideSize(width: 500, height: 500, size: 256).width, 256)
    }
}
