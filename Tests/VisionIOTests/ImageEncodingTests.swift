import Foundation
import XCTest

@testable import VisionIO

final class ImageEncodingTests: XCTestCase {
    private func gradient(width: Int = 31, height: Int = 17) -> Image {
        var pixels = [UInt8]()
        for y in 0..<height { for x in 0..<width { pixels += [UInt8(x * 8), UInt8(y * 15), UInt8((x + y) * 5)] } }
        return Image(width: width, height: height, pixels: pixels)
    }

    func testPNGRoundTripIsLossless() throws {
        let image = gradient()
        let bytes = try image.encodePNG()
        XCTAssertEqual(ImageFormat(signatureOf: bytes), .png)
        XCTAssertEqual(try Image(bytes: bytes), image)
    }

    func testJPEGRoundTripIsClose() throws {
        let image = gradient()
        let decoded = try Image(bytes: try image.encodeJPEG(quality: 95))
        XCTAssertEqual(decoded.width, image.width)
        let meanDiff =
            zip(decoded.pixels, image.pixels).map { Double(abs(Int($0) - Int($1))) }.reduce(0, +)
            / Double(image.pixels.count)
        XCTAssertLessThan(meanDiff, 3)
        XCTAssertLessThan(try image.encodeJPEG(quality: 10).count, try image.encodeJPEG(quality: 95).count)
    }

    func testWriteChoosesFormatByExtension() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("visionio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = gradient()
        try image.write(to: dir.appendingPathComponent("a.png"))
        try image.write(to: dir.appendingPathComponent("a.jpg"))
        XCTAssertEqual(
            ImageFormat(signatureOf: [UInt8](try Data(contentsOf: dir.appendingPathComponent("a.png")))), .png)
        XCTAssertEqual(
            ImageFormat(signatureOf: [UInt8](try Data(contentsOf: dir.appendingPathComponent("a.jpg")))), .jpeg)
        XCTAssertThrowsError(try image.write(to: URL(fileURLWithPath: "/nonexistent-dir/a.png")))
    }
}
