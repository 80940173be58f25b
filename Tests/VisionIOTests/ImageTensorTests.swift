import XCTest

@testable import VisionIO

/// Image → float CHW: torchvision's ToTensor (/255) then Normalize, planes in R, G, B order.
final class ImageTensorTests: XCTestCase {
    func testNormalizeIsToTensorThenNormalize() {
        let image = Image(width: 1, height: 1, pixels: [0, 128, 255])
        let values = image.normalizedCHW(mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
        XCTAssertEqual(values, [-1, (Float(128) / 255 - 0.5) / 0.5, 1])
    }

    /// Two pixels (255, 0, 51) and (0, 255, 102): the R plane is [1, 0], G [0, 1], B [0.2, 0.4]; written at an
    /// offset into a batch, the values before it are left alone. Per-channel mean and std apply to their plane.
    func testPlanesAreChannelMajorAndWrittenAtTheOffset() {
        let image = Image(width: 2, height: 1, pixels: [255, 0, 51, 0, 255, 102])
        XCTAssertEqual(image.normalizedCHW(), [1, 0, 0, 1, 0.2, 0.4])
        var batch = [Float](repeating: -7, count: 8)
        image.writeNormalizedCHW(into: &batch, offset: 2, mean: [1, 0, 0.2], std: [1, 2, 0.1])
        XCTAssertEqual(Array(batch[..<2]), [-7, -7])
        let expected: [Float] = [0, -1, 0, 0.5, 0, 2]
        for (value, want) in zip(batch[2...], expected) { XCTAssertEqual(value, want, accuracy: 1e-5) }
    }

    func testFloatArrayKeepsShapeAndValues() {
        let array = FloatArray(shape: [1, 2, 3], values: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(array.shape, [1, 2, 3])
        XCTAssertEqual(array.values.count, 6)
        XCTAssertEqual(array, FloatArray(shape: [1, 2, 3], values: [1, 2, 3, 4, 5, 6]))
        XCTAssertNotEqual(array, FloatArray(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
    }
}
